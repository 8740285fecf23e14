"""A moderator's room page that reaches the recording limit stops recording and saves what it has,
in headless Chromium against a real server process."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from meetings.models import Recording

from ..factories import InvitationFactory, MeetingFactory
from .servers import start_servers

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def server(tmp_path, monkeypatch):
    monkeypatch.setenv("MAX_RECORDING_CHUNKS", "3")  # the page sends one chunk a second
    [running] = start_servers(tmp_path, 1, redis_url=None)
    yield running
    running.stop()


def test_the_room_page_stops_at_the_limit_and_saves_the_recording(page, server, acme, alice):
    meeting = MeetingFactory(organization=acme, owner=alice.user, recording_allowed=True,
                             start=timezone.now() + timedelta(minutes=5))
    host = InvitationFactory(meeting=meeting, display_name="Hana", role="host")
    page.set_default_timeout(30_000)
    page.goto(f"{server.url}/j/{host.token}")
    page.click("#join-button")
    page.wait_for_url(re.compile(r".*/room/$"))
    page.wait_for_selector("#connection:has-text('connected')")

    with page.expect_response(re.compile(r"/chunks/3$")) as refused:
        page.click("#toggle-record")

    assert refused.value.status == 400
    page.wait_for_selector("#room-message:has-text('The recording is saved')")
    assert "index runs from 0 to 2" in page.text_content("#room-message")
    assert page.text_content("#toggle-record") == "Record"
    recording = Recording.objects.get(meeting=meeting)
    assert recording.status == "ready" and recording.size > 1000
