"""LiveKit's webhooks, signed as LiveKit signs them (a raw JWT in Authorization whose sha256 claim is the
body's hash): attendance from participant_joined/left, the sitting ended by room_finished, recordings
from egress_ended; repeats kept once, stale joins never applied, anything unauthenticated or
malformed refused with a 4xx and nothing written."""

import json
import time
from datetime import timedelta

import jwt
import pytest
from django.test import Client
from django.utils import timezone
from livekit import api as lk

from meetings.models import JoinSession, Occurrence, Presence, ProviderEvent, Recording
from meetings.providers import get_provider
from meetings.providers.livekit.provider import room_name
from meetings.services import joining, sync

from ..factories import InvitationFactory, MeetingFactory, ProviderAccountFactory
from ..livekit_api import signed_webhook

KEY = "APIwebhooks"
SECRET = "webhook-secret-" + "w" * 32


@pytest.fixture
def account(acme):
    return ProviderAccountFactory(organization=acme, name="LiveKit", provider="livekit", jwt_secret="",
                                  server_url="https://livekit.example.org", api_key=KEY, api_secret=SECRET)


@pytest.fixture
def session(account, alice):
    meeting = MeetingFactory(organization=account.organization, provider="livekit", provider_account=account,
                             owner=alice.user)
    invitation = InvitationFactory(meeting=meeting, display_name="Eve")
    return joining.join(joining.check(joining.find_link(invitation.token), timezone.now()), timezone.now())[0]


def send(account, event, *, capture, key=KEY, secret=SECRET, body=None, authorization=None):
    raw, token = signed_webhook(event, key, secret, body=body)
    with capture(execute=True):
        return Client().post(f"/providers/livekit/{account.code}/events", raw,
                             content_type="application/webhook+json",
                             HTTP_AUTHORIZATION=token if authorization is None else authorization)


def participant_event(session, name, event_id, *, sid="PA_eve", created=None):
    meeting = session.occurrence.meeting
    return {"event": name, "id": event_id, "createdAt": str(created or int(time.time())),
            "room": {"sid": "RM_1", "name": room_name(meeting)},
            "participant": {"sid": sid, "identity": session.invitation.peer_id, "name": "Eve",
                            "joinedAt": str(int(time.time()))}}


def test_joins_and_leaves_become_attendance_and_move_the_stay(account, session, django_capture_on_commit_callbacks):
    answer = send(account, participant_event(session, "participant_joined", "EV_1"),
                  capture=django_capture_on_commit_callbacks)
    assert answer.status_code == 200
    assert JoinSession.objects.get(pk=session.pk).connected
    stay = Presence.objects.get(peer_id=session.invitation.peer_id)
    assert stay.left_at is None and stay.invitation_id == session.invitation_id

    send(account, participant_event(session, "participant_left", "EV_2"), capture=django_capture_on_commit_callbacks)
    stay.refresh_from_db()
    assert stay.left_at is not None and not JoinSession.objects.get(pk=session.pk).connected
    kept = ProviderEvent.objects.get(dedupe_key="EV_1")
    assert (kept.kind, kept.peer_id, kept.room_id) == ("joined", session.invitation.peer_id,
                                                       room_name(session.occurrence.meeting))


def test_a_repeated_event_id_is_kept_once(account, session, django_capture_on_commit_callbacks):
    event = participant_event(session, "participant_joined", "EV_same")
    first = send(account, event, capture=django_capture_on_commit_callbacks)
    again = send(account, event, capture=django_capture_on_commit_callbacks)
    assert (first.json(), again.json()) == ({"result": "recorded"}, {"result": "already recorded"})
    assert ProviderEvent.objects.filter(dedupe_key="EV_same").count() == 1
    assert Presence.objects.count() == 1


def test_a_join_arriving_after_its_own_leave_is_kept_but_never_applied(account, session,
                                                                       django_capture_on_commit_callbacks):
    now = int(time.time())
    send(account, participant_event(session, "participant_left", "EV_left", created=now),
         capture=django_capture_on_commit_callbacks)
    send(account, participant_event(session, "participant_joined", "EV_join", created=now - 30),
         capture=django_capture_on_commit_callbacks)

    assert ProviderEvent.objects.get(dedupe_key="EV_join").kind == "stale_join"
    assert not Presence.objects.filter(left_at__isnull=True).exists()  # nobody shown as still there
    assert not JoinSession.objects.get(pk=session.pk).connected
    # A later session of the same person (a new participant sid) joins normally.
    send(account, participant_event(session, "participant_joined", "EV_back", sid="PA_eve2", created=now + 5),
         capture=django_capture_on_commit_callbacks)
    assert Presence.objects.filter(left_at__isnull=True).count() == 1


def test_interleaved_people_arriving_out_of_order_each_get_their_own_stays(account, session,
                                                                            django_capture_on_commit_callbacks):
    meeting = session.occurrence.meeting
    bo = InvitationFactory(meeting=meeting, display_name="Bo")
    bo_event = {**participant_event(session, "participant_joined", "EV_bo1"),
                "participant": {"sid": "PA_bo", "identity": bo.peer_id, "name": "Bo"}}
    send(account, participant_event(session, "participant_joined", "EV_e1"), capture=django_capture_on_commit_callbacks)
    send(account, {**bo_event, "id": "EV_bo2", "event": "participant_left"}, capture=django_capture_on_commit_callbacks)
    send(account, bo_event, capture=django_capture_on_commit_callbacks)
    send(account, participant_event(session, "participant_left", "EV_e2"), capture=django_capture_on_commit_callbacks)

    assert Presence.objects.get(peer_id=session.invitation.peer_id).left_at is not None
    assert not Presence.objects.filter(peer_id=bo.peer_id).exists()  # Bo's join came after his leave


@pytest.mark.parametrize("forge", ["missing", "bearer-garbage", "other-secret", "other-key", "expired",
                                   "tampered-body", "no-hash"])
def test_unauthenticated_webhooks_are_refused_and_nothing_is_written(account, session, forge,
                                                                     django_capture_on_commit_callbacks):
    event = participant_event(session, "participant_joined", "EV_forged")
    raw = json.dumps(event)
    options = {}
    if forge == "missing":
        options["authorization"] = ""
    elif forge == "bearer-garbage":
        options["authorization"] = "Bearer not-a-jwt"
    elif forge == "other-secret":
        options["secret"] = "another-secret-" + "q" * 32
    elif forge == "other-key":
        options["key"] = "APIsomeoneelse"
    elif forge == "expired":
        import base64
        import hashlib
        digest = base64.b64encode(hashlib.sha256(raw.encode()).digest()).decode()
        options["authorization"] = jwt.encode({"iss": KEY, "sha256": digest, "exp": int(time.time()) - 120,
                                               "nbf": int(time.time()) - 600}, SECRET, algorithm="HS256")
    elif forge == "tampered-body":
        _, token = signed_webhook(event, KEY, SECRET)
        options["authorization"] = token
        options["body"] = raw.replace("Eve", "Mallory")
    elif forge == "no-hash":
        options["authorization"] = lk.AccessToken(KEY, SECRET).to_jwt()
    answer = send(account, event, capture=django_capture_on_commit_callbacks, **options)
    assert answer.status_code == 401, answer.content
    assert "error" in answer.json() and SECRET not in answer.content.decode()
    assert ProviderEvent.objects.count() == 0 and Presence.objects.count() == 0


@pytest.mark.parametrize("body", ["not json", "[]", "{\"event\": 5, \"id\": \"x\"}", "{}",
                                  "{\"event\": \"participant_joined\"}",
                                  "{\"event\": \"participant_joined\", \"id\": \"EV_x\", \"room\": {\"name\": \"\"}}",
                                  "{\"id\": \"EV_y\", \"event\": \"participant_joined\", \"room\": {\"name\": \"r\"},"
                                  " \"participant\": {\"identity\": \"" + "p" * 300 + "\"}}",
                                  "{\"id\": \"EV_z\", \"event\": \"egress_ended\", \"egressInfo\": {}}",
                                  "[" * 5000])
def test_malformed_bodies_are_refused_with_a_4xx_and_nothing_is_written(account, session, body,
                                                                        django_capture_on_commit_callbacks):
    answer = send(account, None, body=body, capture=django_capture_on_commit_callbacks)
    assert 400 <= answer.status_code < 500, (body[:40], answer.status_code)
    assert ProviderEvent.objects.count() == 0


def test_a_body_that_is_not_utf8_is_refused(account, session, django_capture_on_commit_callbacks):
    raw = b"\xff\xfe{}"
    token = lk.AccessToken(KEY, SECRET).with_sha256("AAAA").to_jwt()
    answer = Client().post(f"/providers/livekit/{account.code}/events", raw, content_type="application/webhook+json",
                           HTTP_AUTHORIZATION=token)
    assert answer.status_code == 400 and ProviderEvent.objects.count() == 0


def test_rooms_that_are_not_the_portals_and_other_events_are_answered_and_ignored(
        account, session, django_capture_on_commit_callbacks):
    other = participant_event(session, "participant_joined", "EV_other")
    other["room"]["name"] = "someone-elses-room"
    assert send(account, other, capture=django_capture_on_commit_callbacks).status_code == 200
    started = {"event": "room_started", "id": "EV_started", "room": {"name": room_name(session.occurrence.meeting)}}
    assert send(account, started, capture=django_capture_on_commit_callbacks).status_code == 200
    assert ProviderEvent.objects.count() == 0


def test_an_unknown_or_other_providers_account_is_a_404(account, session, acme, django_capture_on_commit_callbacks):
    gcore = ProviderAccountFactory(organization=acme)
    event = participant_event(session, "participant_joined", "EV_wrong")
    assert send(gcore, event, capture=django_capture_on_commit_callbacks).status_code == 404
    raw, token = signed_webhook(event, KEY, SECRET)
    assert Client().post("/providers/livekit/nope/events", raw, content_type="application/json",
                         HTTP_AUTHORIZATION=token).status_code == 404
    assert ProviderEvent.objects.count() == 0


def test_room_finished_ends_the_sitting_once(account, session, django_capture_on_commit_callbacks):
    meeting = session.occurrence.meeting
    send(account, participant_event(session, "participant_joined", "EV_in"), capture=django_capture_on_commit_callbacks)
    finished = {"event": "room_finished", "id": "EV_done", "createdAt": str(int(time.time())),
                "room": {"sid": "RM_1", "name": room_name(meeting)}}
    answer = send(account, finished, capture=django_capture_on_commit_callbacks)

    assert answer.status_code == 200
    assert Occurrence.objects.get(pk=session.occurrence_id).status == Occurrence.Status.ENDED
    assert JoinSession.objects.get(pk=session.pk).end_reason == JoinSession.EndReason.ENDED
    assert not Presence.objects.filter(left_at__isnull=True).exists()
    assert ProviderEvent.objects.get(dedupe_key="EV_done").applied
    again = send(account, finished, capture=django_capture_on_commit_callbacks)
    assert again.json() == {"result": "already recorded"} and ProviderEvent.objects.filter(kind="finished").count() == 1


def egress(meeting, egress_id, event_id, *, status="EGRESS_COMPLETE", location="https://files.example.org/a.mp4"):
    started = int((timezone.now() - timedelta(minutes=20)).timestamp() * 1e9)
    return {"event": "egress_ended", "id": event_id, "createdAt": str(int(time.time())),
            "egressInfo": {"egressId": egress_id, "roomName": room_name(meeting), "status": status,
                           "startedAt": str(started), "fileResults": [
                               {"filename": "a.mp4", "location": location, "startedAt": str(started),
                                "duration": str(int(600 * 1e9)), "size": "1000"}]}}


def test_egress_ended_brings_the_recording_home_with_its_files_location(account, session,
                                                                        django_capture_on_commit_callbacks):
    meeting = session.occurrence.meeting
    send(account, egress(meeting, "EG_1", "EV_eg1"), capture=django_capture_on_commit_callbacks)
    send(account, egress(meeting, "EG_2", "EV_eg2", status="EGRESS_FAILED", location=""),
         capture=django_capture_on_commit_callbacks)
    send(account, egress(meeting, "EG_1", "EV_eg1"), capture=django_capture_on_commit_callbacks)  # a repeat

    recordings = {r.provider_recording_id: r for r in Recording.objects.filter(meeting=meeting)}
    assert set(recordings) == {"EG_1", "EG_2"}
    ready = recordings["EG_1"]
    assert (ready.status, ready.provider, ready.download_url, ready.content_type, ready.duration_seconds) == (
        "ready", "livekit", "https://files.example.org/a.mp4", "video/mp4", 600)
    assert ready.occurrence_id == session.occurrence_id
    assert recordings["EG_2"].status == "uploading" and recordings["EG_2"].download_url == ""

    # The beat's sync reads the same stored events: nothing changes, and nothing is asked of LiveKit.
    again = sync.sync_recordings(meeting)
    assert (again["videos"], again["created"], again["removed"]) == (2, 0, 0)


def test_the_sittings_summary_comes_from_the_webhooks_attendance(account, session, django_capture_on_commit_callbacks):
    meeting = session.occurrence.meeting
    send(account, participant_event(session, "participant_joined", "EV_a"), capture=django_capture_on_commit_callbacks)
    send(account, participant_event(session, "participant_left", "EV_b"), capture=django_capture_on_commit_callbacks)
    sitting = meeting.occurrences.get()
    report = get_provider("livekit", account).fetch_sitting(
        meeting=meeting, start=sitting.start - timedelta(hours=1), end=sitting.end + timedelta(hours=1))
    assert report.participants == 1 and report.first_join is not None and report.last_leave is not None
    assert report.stays == []  # the stays are already attendance; nothing is counted twice
