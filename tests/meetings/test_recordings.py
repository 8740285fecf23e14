"""Recordings upload in chunks, resume after an interruption, and appear only when whole."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from meetings.models import Recording
from meetings.services.recordings import discard_stalled

from ..factories import InvitationFactory, MeetingFactory


@pytest.fixture
def meeting(alice, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return MeetingFactory(organization=alice.organization, owner=alice.user, recording_allowed=True)


def joined(invitation) -> Client:
    browser = Client()
    browser.post(f"/j/{invitation.token}")
    return browser


def upload(browser, token, code, index, data):
    return browser.post(f"/j/{token}/recordings/{code}/chunks/{index}", data, content_type="application/octet-stream")


def finish(browser, token, code, chunks):
    return browser.post(f"/j/{token}/recordings/{code}/finish", json.dumps({"chunks": chunks, "duration": 3.5}),
                        content_type="application/json")


def test_an_interrupted_upload_resumes_and_only_the_whole_recording_appears(meeting, alice):
    host = InvitationFactory(meeting=meeting, role="host")
    browser = joined(host)
    code = browser.post(f"/j/{host.token}/recordings/").json()["recording"]
    upload(browser, host.token, code, 0, b"first-")
    upload(browser, host.token, code, 2, b"third")

    premature = finish(browser, host.token, code, 3)
    owner = Client()
    owner.force_login(alice.user)
    page = owner.get(f"/o/acme/meetings/{meeting.code}/").content

    assert premature.status_code == 409 and "[1]" in premature.json()["error"]
    assert browser.get(f"/j/{host.token}/recordings/{code}/").json()["received"] == [0, 2]
    assert b"data-recording=" not in page and b"No recordings yet" in page

    upload(browser, host.token, code, 1, b"second-")
    assert finish(browser, host.token, code, 3).json() == {"status": "ready"}

    recording = Recording.objects.get(code=code)
    assert (recording.status, recording.size, recording.duration_seconds) == ("ready", 18, 3.5)
    page = owner.get(f"/o/acme/meetings/{meeting.code}/").content
    assert f'data-recording="{code}"'.encode() in page
    file = owner.get(f"/o/acme/meetings/{meeting.code}/recordings/{code}/file")
    assert b"".join(file.streaming_content) == b"first-second-third"


def test_only_moderators_in_the_room_record_and_only_where_allowed(meeting):
    participant = InvitationFactory(meeting=meeting, role="participant")
    assert joined(participant).post(f"/j/{participant.token}/recordings/").status_code == 403
    assert Client().post(f"/j/{participant.token}/recordings/").status_code == 403  # not joined

    meeting.recording_allowed = False
    meeting.save()
    moderator = InvitationFactory(meeting=meeting, role="moderator")
    assert joined(moderator).post(f"/j/{moderator.token}/recordings/").status_code == 403
    assert not Recording.objects.exists()


def test_recordings_are_not_served_to_other_organizations(meeting, client, charlie):
    host = InvitationFactory(meeting=meeting, role="host")
    browser = joined(host)
    code = browser.post(f"/j/{host.token}/recordings/").json()["recording"]
    upload(browser, host.token, code, 0, b"x")
    finish(browser, host.token, code, 1)
    client.force_login(charlie.user)

    assert client.get(f"/o/acme/meetings/{meeting.code}/recordings/{code}/file").status_code == 404


def test_a_stalled_upload_is_discarded(meeting):
    host = InvitationFactory(meeting=meeting, role="host")
    browser = joined(host)
    code = browser.post(f"/j/{host.token}/recordings/").json()["recording"]
    upload(browser, host.token, code, 0, b"partial")
    Recording.objects.filter(code=code).update(started_at=timezone.now() - timedelta(hours=3),
                                               last_chunk_at=timezone.now() - timedelta(hours=2))

    assert discard_stalled(older_than=timedelta(hours=1)) == 1
    assert Recording.objects.get(code=code).status == "discarded"
    assert upload(browser, host.token, code, 1, b"late").status_code == 409
