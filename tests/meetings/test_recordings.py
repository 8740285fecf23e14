"""Recordings upload in chunks, resume after an interruption, and appear only when whole."""

import json
from datetime import timedelta
from pathlib import Path

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


def started(meeting, role="host"):
    """A moderator in the room who started recording: (browser, token, recording code)."""
    invitation = InvitationFactory(meeting=meeting, role=role)
    browser = joined(invitation)
    return browser, invitation.token, browser.post(f"/j/{invitation.token}/recordings/").json()["recording"]


def parts_on_disk(code) -> list[str]:
    from django.conf import settings

    folder = Path(settings.MEDIA_ROOT) / "recordings" / "parts" / code
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def unchanged(code, before: Recording) -> bool:
    after = Recording.objects.get(code=code)
    return (after.status, after.size, after.last_chunk_at, after.finished_at) == (
        before.status, before.size, before.last_chunk_at, before.finished_at)


def test_chunk_indices_beyond_the_limit_are_refused_and_write_nothing(meeting, settings):
    browser, token, code = started(meeting)
    upload(browser, token, code, 0, b"first")
    before = Recording.objects.get(code=code)

    for index in (settings.MAX_RECORDING_CHUNKS, 99999999999999999999):
        response = upload(browser, token, code, index, b"late")
        assert response.status_code == 400
        assert f"0 to {settings.MAX_RECORDING_CHUNKS - 1}" in response.json()["error"]

    assert parts_on_disk(code) == ["000000.part"] and unchanged(code, before)
    assert browser.get(f"/j/{token}/recordings/{code}/").json()["received"] == [0]


@pytest.mark.parametrize("claimed", [0, -1, 10_000_000, "3", 2.5, None, True])
def test_finish_refuses_a_chunk_count_outside_the_limit_without_touching_the_upload(meeting, settings, claimed):
    settings.MAX_RECORDING_CHUNKS = 5
    browser, token, code = started(meeting)
    upload(browser, token, code, 0, b"only")
    before = Recording.objects.get(code=code)

    response = finish(browser, token, code, claimed)

    assert response.status_code == 400 and response.json()["error"]
    assert parts_on_disk(code) == ["000000.part"] and unchanged(code, before)
    assert finish(browser, token, code, 1).json() == {"status": "ready"}


@pytest.mark.parametrize("duration", [1e400, "long", None])
def test_finish_refuses_a_duration_that_is_no_length_of_time(meeting, duration):
    browser, token, code = started(meeting)
    upload(browser, token, code, 0, b"only")
    before = Recording.objects.get(code=code)

    response = browser.post(f"/j/{token}/recordings/{code}/finish",
                            json.dumps({"chunks": 1, "duration": duration}).replace("Infinity", "1e400"),
                            content_type="application/json")

    assert response.status_code == 400 and "duration" in response.json()["error"]
    assert unchanged(code, before)


@pytest.mark.parametrize("payload", [b"[1, 2]", b"not json", b"[" * 100_000 + b"]" * 100_000])
def test_finish_answers_400_to_a_body_that_is_no_object(meeting, payload):
    browser, token, code = started(meeting)
    upload(browser, token, code, 0, b"only")

    response = browser.post(f"/j/{token}/recordings/{code}/finish", payload, content_type="application/json")

    assert response.status_code == 400 and response.json()["error"]
    assert Recording.objects.get(code=code).status == "uploading"


def test_a_recording_stops_growing_at_its_byte_limit(meeting, settings):
    settings.MAX_RECORDING_BYTES = 10
    browser, token, code = started(meeting)
    assert upload(browser, token, code, 0, b"123456").status_code == 204
    before = Recording.objects.get(code=code)

    refused = upload(browser, token, code, 1, b"12345")

    assert refused.status_code == 413 and "10 bytes" in refused.json()["error"]
    assert parts_on_disk(code) == ["000000.part"] and unchanged(code, before)
    # A chunk sent again replaces its earlier copy, so it counts once.
    assert upload(browser, token, code, 0, b"123456789").status_code == 204
    assert upload(browser, token, code, 1, b"1").status_code == 204
    assert finish(browser, token, code, 2).json() == {"status": "ready"}
    assert Recording.objects.get(code=code).size == 10


def test_an_organization_stops_recording_when_its_recordings_fill_its_storage(meeting, settings, charlie):
    settings.MAX_ORGANIZATION_RECORDING_BYTES = 20
    Recording.objects.create(organization=meeting.organization, meeting=meeting, status="ready", size=10)
    Recording.objects.create(organization=meeting.organization, meeting=meeting, status="discarded", size=1000)
    elsewhere = MeetingFactory(organization=charlie.organization, owner=charlie.user)
    Recording.objects.create(organization=elsewhere.organization, meeting=elsewhere, status="ready", size=1000)
    first, first_token, first_code = started(meeting)
    assert upload(first, first_token, first_code, 0, b"12345").status_code == 204  # uploading: counts too
    second, token, code = started(meeting, role="moderator")
    before = Recording.objects.get(code=code)

    refused = upload(second, token, code, 0, b"123456")

    assert refused.status_code == 413 and "storage" in refused.json()["error"]
    assert parts_on_disk(code) == [] and unchanged(code, before)
    assert upload(second, token, code, 0, b"12345").status_code == 204
    assert finish(second, token, code, 1).json() == {"status": "ready"}
