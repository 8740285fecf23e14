"""VideoSDK's webhooks, posted over HTTP by the contract server, which holds the private half of the
signing key as VideoSDK does: a `videosdk-signature` (base64 RSA-SHA256) over the raw body, checked
with the public key from /v2/public/rsa-public-key, cached and fetched again once after a key change.
Only genuinely signed events about this account's rooms are kept; joins and leaves move the person's
stay, and a finished session or recording asks for a sync."""

import json

import pytest
from django.test import Client

from meetings.models import JoinSession, MeetingSync, Presence, ProviderEvent, ProviderRoom, Recording
from meetings.providers.videosdk import webhooks

from ..factories import InvitationFactory, MeetingFactory, ProviderAccountFactory

KEY = "0d4f6e9e-hook-videosdk-key"
SECRET = "9e8d" * 16


@pytest.fixture
def api(videosdk_api, settings):
    settings.VIDEOSDK_API_BASE_URL = videosdk_api.url
    settings.VIDEOSDK_BACKOFF_SECONDS = 0.05
    settings.SITE_URL = "https://meet.acme.test"
    videosdk_api.reset(api_key=KEY, secret=SECRET)
    return videosdk_api


def account_for(organization, **extra):
    return ProviderAccountFactory(organization=organization, name=extra.pop("name", "VideoSDK"), provider="videosdk",
                                  jwt_secret="", api_key=KEY, api_secret=SECRET, **extra)


@pytest.fixture
def account(acme, api):
    return account_for(acme)


@pytest.fixture
def hook(live_server, account):
    return f"{live_server.url}/providers/videosdk/{account.code}/events"


def joined_meeting(account):
    """A meeting with its VideoSDK room and one person in the room page (their stay is open)."""
    meeting = MeetingFactory(organization=account.organization, provider="videosdk", provider_account=account)
    person = InvitationFactory(meeting=meeting, display_name="Ada")
    browser = Client()
    browser.post(f"/j/{person.token}")
    assert browser.get(f"/j/{person.token}/room/").status_code == 200
    return meeting, person, ProviderRoom.objects.get(meeting=meeting).provider_room_id


def people_event(kind, room, person):
    return {"webhookType": kind, "data": {"meetingId": room, "sessionId": "613731342f27f56e4fc4b6d0",
                                          "participantId": person.peer_id, "participantName": person.display_name}}


def key_fetches(api) -> int:
    return len(api.requests("/v2/public/rsa-public-key", "GET"))


def test_a_signed_join_and_leave_open_and_close_the_persons_stay(api, account, hook):
    meeting, ada, room = joined_meeting(account)
    session = JoinSession.objects.get(invitation=ada)
    JoinSession.objects.filter(pk=session.pk).update(connected=False)

    joined = api.deliver(hook, people_event("participant-joined", room, ada))
    session.refresh_from_db()
    assert joined["status"] == 200 and session.connected
    stay = Presence.objects.get(meeting=meeting, source="events")
    assert (stay.peer_id, stay.left_at) == (ada.peer_id, None)

    left = api.deliver(hook, people_event("participant-left", room, ada))
    session.refresh_from_db()
    stay.refresh_from_db()
    assert left["status"] == 200 and not session.connected and stay.left_at is not None
    assert list(ProviderEvent.objects.values_list("kind", "room_id", "peer_id", "applied")) == [
        ("joined", room, ada.peer_id, True), ("left", room, ada.peer_id, True)]
    assert key_fetches(api) == 1  # the public key is fetched once and cached


def test_a_signature_over_the_compact_json_of_the_body_is_accepted_too(api, account, hook):
    _, ada, room = joined_meeting(account)
    answer = api.deliver(hook, people_event("participant-joined", room, ada), signing="compact")

    assert answer["status"] == 200 and ProviderEvent.objects.count() == 1


@pytest.mark.parametrize("signing", ["tampered", "none", "other-key"])
def test_an_unsigned_or_wrongly_signed_webhook_is_refused_and_nothing_is_kept(api, account, hook, signing):
    _, ada, room = joined_meeting(account)
    answer = api.deliver(hook, people_event("participant-joined", room, ada), signing=signing)

    assert answer["status"] == 401 and "error" in json.loads(answer["body"])
    assert not ProviderEvent.objects.exists() and not Presence.objects.exists()


def test_a_rotated_key_is_fetched_again_once(api, account, hook, monkeypatch):
    monkeypatch.setattr(webhooks, "REFETCH_AFTER_SECONDS", 0)
    _, ada, room = joined_meeting(account)
    assert api.deliver(hook, people_event("participant-joined", room, ada))["status"] == 200
    api.rotate_key()

    assert api.deliver(hook, people_event("participant-left", room, ada))["status"] == 200
    assert key_fetches(api) == 2
    assert api.deliver(hook, people_event("participant-left", room, ada), signing="other-key")["status"] == 401
    assert ProviderEvent.objects.count() == 2


def test_a_wrong_signature_cannot_make_the_portal_fetch_the_key_again_and_again(api, account, hook):
    _, ada, room = joined_meeting(account)
    for _ in range(3):
        assert api.deliver(hook, people_event("participant-joined", room, ada), signing="other-key")["status"] == 401
    assert key_fetches(api) == 1  # the cached key is not a minute old: no refetch


def test_events_about_rooms_that_are_not_this_accounts_are_refused(api, account, hook, charlie):
    _, ada, _room = joined_meeting(account)
    theirs = account_for(charlie.organization, name="Globex VideoSDK")
    _, bo, their_room = joined_meeting(theirs)

    assert api.deliver(hook, people_event("participant-joined", their_room, bo))["status"] == 404
    assert api.deliver(hook, people_event("participant-joined", "zzzz-zzzz-zzzz", ada))["status"] == 404
    unknown = hook.replace(account.code, "no-such-account")
    assert api.deliver(unknown, people_event("participant-joined", _room, ada))["status"] == 404
    assert not ProviderEvent.objects.exists()


@pytest.mark.parametrize("raw", [
    "not json", "[1, 2]", '{"webhookType": "participant-joined"}', '{"webhookType": 5, "data": {}}',
    '{"webhookType": "participant-joined", "data": {"participantId": "x"}}',
    '{"webhookType": "participant-joined", "data": {"meetingId": "ROOM"}}',
    '{"webhookType": "participant-joined", "data": {"meetingId": "ROOM", "participantId": "a\\u0000b"}}',
    '{"webhookType": "participant-joined", "data": {"meetingId": "ROOM", "participantId": "' + "p" * 101 + '"}}',
    '{"webhookType": "participant-joined", "data": {"meetingId": "ROOM", "participantId": NaN}}',
    "[" * 5000 + "]" * 5000,
])
def test_signed_but_malformed_bodies_answer_400_and_keep_nothing(api, account, hook, raw):
    _, _, room = joined_meeting(account)
    answer = api.deliver(hook, raw=raw.replace("ROOM", room))

    assert answer["status"] == 400, answer
    assert not ProviderEvent.objects.exists()


def test_a_signed_body_that_the_database_cannot_hold_answers_400(api, account, hook):
    _, ada, room = joined_meeting(account)
    event = people_event("participant-joined", room, ada)
    event["data"]["participantName"] = "Ada\u0000"
    assert api.deliver(hook, event)["status"] == 400
    assert not ProviderEvent.objects.exists() and not Presence.objects.exists()


def test_events_the_portal_did_not_subscribe_to_are_acknowledged_and_not_kept(api, account, hook):
    _, _, room = joined_meeting(account)
    answer = api.deliver(hook, {"webhookType": "hls-started", "data": {"meetingId": room, "sessionId": "s"}})
    assert answer["status"] == 200 and not ProviderEvent.objects.exists()


def test_a_finished_session_or_recording_is_kept_once_and_brings_the_recording_home(api, account, hook):
    meeting, _, room = joined_meeting(account)
    api.set(recordings=[{"id": "rec-hook-1", "roomId": room, "sessionId": "613731342f27f56e4fc4b6d0",
                         "file": {"fileUrl": "https://cdn.videosdk.live/encoded/videos/hook1.mp4",
                                  "meta": {"duration": 61.5}}, "createdAt": "2026-01-01T10:00:00.000Z"}])
    stopped = {"webhookType": "recording-stopped", "data": {
        "meetingId": room, "sessionId": "613731342f27f56e4fc4b6d0", "filePath": "/encoded/videos/hook1.mp4",
        "fileUrl": "https://cdn.videosdk.live/encoded/videos/hook1.mp4"}}

    first = api.deliver(hook, stopped)
    again = api.deliver(hook, stopped)  # VideoSDK delivering the same event once more

    assert first["status"] == again["status"] == 200
    assert json.loads(again["body"]) == {"result": "already recorded"}
    event = ProviderEvent.objects.get()
    assert (event.kind, event.room_id, event.peer_id, event.applied) == ("recording-stopped", room, "", True)
    assert MeetingSync.objects.get(meeting=meeting).requested_at is not None
    recording = Recording.objects.get(meeting=meeting)  # the sync the event asked for ran (eager here)
    assert (recording.provider_recording_id, recording.duration_seconds) == ("rec-hook-1", 61.5)

    started = {"webhookType": "session-started", "data": {"meetingId": room, "sessionId": "s-2",
                                                           "start": "2026-01-01T10:00:00.000+00:00"}}
    assert api.deliver(hook, started)["status"] == 200
    assert ProviderEvent.objects.filter(kind="session-started", applied=True).count() == 1


def test_without_videosdks_key_a_webhook_is_answered_503_so_it_is_delivered_again(api, account, hook):
    _, ada, room = joined_meeting(account)
    api.set(fail_next=10)
    answer = api.deliver(hook, people_event("participant-joined", room, ada))

    assert answer["status"] == 503 and not ProviderEvent.objects.exists()


def test_a_finished_session_closes_the_stays_whose_leave_never_came(api, account, hook):
    meeting, ada, room = joined_meeting(account)
    assert api.deliver(hook, people_event("participant-joined", room, ada))["status"] == 200
    assert Presence.objects.get(meeting=meeting, source="events").left_at is None

    ended = {"webhookType": "session-ended", "data": {"meetingId": room, "sessionId": "613731342f27f56e4fc4b6d0",
                                                       "start": "2026-01-01T10:00:00.000+00:00",
                                                       "end": "2026-01-01T11:00:00.000+00:00"}}
    assert api.deliver(hook, ended)["status"] == 200

    stay = Presence.objects.get(meeting=meeting, source="events")
    assert stay.left_at == ProviderEvent.objects.get(kind="session-ended").received_at
    assert MeetingSync.objects.get(meeting=meeting).requested_at is not None
