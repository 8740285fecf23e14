"""LiveKit against the contract stand-in (tests/livekit_api_server.py): rooms created with the meeting's
limits, an access token per join with exactly the role's grants (decoded and verified here),
moderation through RoomService (remove, end, mute, a role change updating live permissions), the
account checks, errors and 429s."""

import json
from datetime import timedelta

import jwt
import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone
from livekit import api as lk

from meetings.models import Invitation, JoinSession, Occurrence, ProviderRoom
from meetings.providers import get_provider
from meetings.providers.base import ProviderError
from meetings.providers.livekit.provider import room_name
from meetings.providers.livekit.tokens import LIFETIME
from meetings.services import invitations, scheduling

from ..factories import InvitationFactory, MeetingFactory, ProviderAccountFactory
from ..livekit_api import livekit_api  # noqa: F401  (the session fixture)

KEY = "APIportaltest"
SECRET = "livekit-secret-" + "x" * 32


@pytest.fixture
def api(livekit_api, settings):  # noqa: F811
    settings.LIVEKIT_BACKOFF_SECONDS = 0.05
    livekit_api.reset(api_key=KEY, api_secret=SECRET)
    return livekit_api


@pytest.fixture
def account(acme, api):
    return ProviderAccountFactory(organization=acme, name="LiveKit", provider="livekit", jwt_secret="",
                                  server_url=api.url, api_key=KEY, api_secret=SECRET)


def livekit_meeting(account, **settings):
    return MeetingFactory(organization=account.organization, provider="livekit", provider_account=account,
                          **settings)


def enter(invitation):
    browser = Client()
    browser.post(f"/j/{invitation.token}")
    response = browser.get(f"/j/{invitation.token}/room/")
    assert response.status_code == 200, response.content[:300]
    return browser, response


def page_token(response) -> str:
    return response.content.decode().split('data-token="')[1].split('"')[0]


def decode(token):
    """The token as LiveKit reads it: HS256 with the secret, issuer = the key, exp required."""
    return jwt.decode(token, SECRET, algorithms=["HS256"], issuer=KEY, options={"require": ["exp", "nbf", "sub"]})


def stay_end(meeting):
    return meeting.occurrences.get().end + timedelta(minutes=django_settings.JOIN_GRACE_MINUTES_AFTER)


def in_room(api, meeting, *invitations_, tracks=None):
    """People connected to the stand-in's room (as LiveKit would list them)."""
    api.set(participants={room_name(meeting): [
        {"sid": f"PA_{n}", "identity": i.peer_id, "name": i.display_name, "state": "ACTIVE",
         "metadata": json.dumps({"role": i.role, "peer_id": i.peer_id}),  # from the token they joined with
         "tracks": (tracks or {}).get(i.peer_id, [])} for n, i in enumerate(invitations_)]})


# --- tokens --------------------------------------------------------------------------------------

EVERYTHING = ["camera", "microphone", "screen_share", "screen_share_audio"]


@pytest.mark.parametrize(("kind", "role", "video"), [
    ("call", "host", {"canPublish": True, "canPublishSources": EVERYTHING, "canPublishData": True, "roomAdmin": True}),
    ("call", "moderator", {"canPublish": True, "canPublishSources": EVERYTHING, "canPublishData": True,
                           "roomAdmin": True}),
    ("call", "participant", {"canPublish": True, "canPublishSources": EVERYTHING, "canPublishData": True}),
    ("call", "interpreter", {"canPublish": True, "canPublishSources": ["microphone"], "canPublishData": True}),
    ("webinar", "speaker", {"canPublish": True, "canPublishSources": EVERYTHING, "canPublishData": True}),
    ("webinar", "viewer", {"canPublish": False, "canPublishSources": [], "canPublishData": False, "hidden": True}),
])
def test_each_role_gets_a_token_with_exactly_its_grants(account, api, kind, role, video):
    meeting = livekit_meeting(account, kind=kind, max_watchers=50 if kind == "webinar" else 0)
    person = InvitationFactory(meeting=meeting, display_name="Ada Lovelace", role=role,
                               language="fr" if role == "interpreter" else "")
    _, response = enter(person)
    token = page_token(response)

    header = jwt.get_unverified_header(token)
    claims = decode(token)
    assert header["alg"] == "HS256"
    assert claims["iss"] == KEY and claims["sub"] == person.peer_id and claims["name"] == "Ada Lovelace"
    assert json.loads(claims["metadata"]) == {"role": role, "peer_id": person.peer_id}
    assert claims["video"] == {"roomJoin": True, "room": room_name(meeting), "canSubscribe": True, **video}
    # Minutes, not the whole stay: LiveKit checks it only when connecting, and a copy cannot be revoked.
    assert abs(claims["exp"] - (timezone.now() + LIFETIME).timestamp()) <= 5
    assert claims["nbf"] <= timezone.now().timestamp() + 1
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, "another-secret-" + "y" * 32, algorithms=["HS256"])
    # livekit-api's own verifier (what a LiveKit server does) reads the same rights back.
    grants = lk.TokenVerifier(KEY, SECRET).verify(token).video
    assert grants.room_admin is (True if role in ("host", "moderator") else None)
    assert SECRET not in response.content.decode()


def test_an_invitation_that_ends_within_the_tokens_lifetime_bounds_the_token(account, api):
    meeting = livekit_meeting(account)
    until = timezone.now() + LIFETIME / 2
    person = InvitationFactory(meeting=meeting)
    Invitation.objects.filter(pk=person.pk).update(valid_until=until)
    _, response = enter(person)
    assert abs(decode(page_token(response))["exp"] - until.timestamp()) <= 2


# --- rooms ---------------------------------------------------------------------------------------

def test_each_join_creates_the_room_with_the_meetings_limits_through_livekit_api(account, api):
    meeting = livekit_meeting(account, kind="webinar", max_broadcasters=4, max_watchers=40)
    enter(InvitationFactory(meeting=meeting, role="host"))
    enter(InvitationFactory(meeting=meeting, role="viewer"))

    created = api.requests("CreateRoom")
    assert len(created) == 2 and all(r["status"] == 200 for r in created)  # idempotent at LiveKit
    body = created[0]
    assert body["encoding"] == "protobuf"  # livekit-api speaks Twirp protobuf
    assert body["grants"] == {"roomCreate": True, "canPublish": True, "canSubscribe": True, "canPublishData": True}
    assert body["body"]["name"] == room_name(meeting) and body["body"]["max_participants"] == 44
    window = (stay_end(meeting) - timezone.now()).total_seconds()
    assert abs(body["body"]["empty_timeout"] - window) <= 5 and abs(body["body"]["departure_timeout"] - window) <= 5
    assert json.loads(body["body"]["metadata"]) == {"portal_meeting": meeting.code}
    room = ProviderRoom.objects.get(meeting=meeting)
    assert room.provider_room_id == api.state()["rooms"][0]["sid"] and len(api.state()["rooms"]) == 1


def test_the_room_page_allows_exactly_the_servers_socket_origin(account, api):
    meeting = livekit_meeting(account)
    _, response = enter(InvitationFactory(meeting=meeting))
    policy = response["Content-Security-Policy"]
    connect = next(part for part in policy.split(";") if part.strip().startswith("connect-src"))
    socket_origin = api.url.replace("http://", "ws://")
    assert socket_origin in connect.split()
    assert api.url not in connect.split() and "ws:" not in connect.split()
    page = response.content.decode()
    assert f'data-url="{socket_origin}"' in page and "vendor/livekit/livekit-client.umd.js" in page
    assert SECRET not in page and KEY not in page


def test_a_throttled_livekit_is_waited_out_with_its_retry_after(account, api):
    api.set(throttle_next=2, retry_after="1")
    meeting = livekit_meeting(account)
    started = timezone.now()
    enter(InvitationFactory(meeting=meeting))
    statuses = [r["status"] for r in api.requests("CreateRoom")]
    assert statuses == [429, 429, 200]
    assert (timezone.now() - started).total_seconds() >= 2  # Retry-After: 1, twice


def test_a_failing_server_is_retried_and_a_refusal_is_permanent(account, api):
    api.set(fail_next=2)
    provider = get_provider("livekit", account)
    meeting = livekit_meeting(account)
    provider.ensure_room(meeting)
    assert [r["status"] for r in api.requests("CreateRoom")] == [503, 503, 200]

    account.api_secret = "wrong-secret-" + "z" * 32
    with pytest.raises(ProviderError) as refused:
        get_provider("livekit", account).ensure_room(meeting)
    assert refused.value.permanent and "401" in str(refused.value)
    assert "wrong-secret" not in str(refused.value)


def test_a_server_that_never_answers_is_a_temporary_error(account, api):
    api.set(fail_next=10)
    with pytest.raises(ProviderError) as failed:
        get_provider("livekit", account).ensure_room(livekit_meeting(account))
    assert not failed.value.permanent


def test_the_join_page_says_the_video_cannot_start_when_livekit_refuses(account, api):
    account.api_secret = "wrong-secret-" + "z" * 32
    account.save()
    person = InvitationFactory(meeting=livekit_meeting(account))
    browser = Client()
    browser.post(f"/j/{person.token}")
    assert browser.get(f"/j/{person.token}/room/").status_code == 503


# --- moderation ----------------------------------------------------------------------------------

def test_removing_someone_ends_their_stay_and_removes_them_from_the_livekit_room(
        account, api, django_capture_on_commit_callbacks):
    meeting = livekit_meeting(account)
    host, eve = InvitationFactory(meeting=meeting, role="host"), InvitationFactory(meeting=meeting)
    moderator_browser, _ = enter(host)
    enter(eve)
    in_room(api, meeting, host, eve)

    with django_capture_on_commit_callbacks(execute=True):
        answer = moderator_browser.post(f"/j/{host.token}/livekit/moderate",
                                        json.dumps({"action": "remove", "identity": eve.peer_id}),
                                        content_type="application/json")

    assert answer.status_code == 200
    removed = api.requests("RemoveParticipant")
    assert len(removed) == 1 and removed[0]["body"] == {"room": room_name(meeting), "identity": eve.peer_id}
    assert removed[0]["grants"]["roomAdmin"] and removed[0]["grants"]["room"] == room_name(meeting)
    assert Invitation.objects.get(pk=eve.pk).removed_at is not None
    assert JoinSession.objects.get(invitation=eve).end_reason == "removed"
    assert [p["identity"] for p in api.state()["participants"][room_name(meeting)]] == [host.peer_id]


def test_a_moderator_mutes_someones_microphone_through_the_portal(account, api):
    meeting = livekit_meeting(account)
    host, eve = InvitationFactory(meeting=meeting, role="host"), InvitationFactory(meeting=meeting)
    moderator_browser, _ = enter(host)
    enter(eve)
    in_room(api, meeting, host, eve, tracks={eve.peer_id: [
        {"sid": "TR_mic", "type": "AUDIO", "source": "MICROPHONE", "muted": False},
        {"sid": "TR_cam", "type": "VIDEO", "source": "CAMERA", "muted": False}]})

    answer = moderator_browser.post(f"/j/{host.token}/livekit/moderate",
                                    json.dumps({"action": "mute", "identity": eve.peer_id}),
                                    content_type="application/json")

    assert answer.json() == {"muted": 1}
    muted = api.requests("MutePublishedTrack")
    assert [m["body"] for m in muted] == [{"room": room_name(meeting), "identity": eve.peer_id, "track_sid": "TR_mic",
                                           "muted": True}]
    tracks = {t["sid"]: t.get("muted", False) for t in api.state()["participants"][room_name(meeting)][1]["tracks"]}
    assert tracks == {"TR_mic": True, "TR_cam": False}


def test_a_role_change_updates_the_live_permissions_in_the_room(account, api, django_capture_on_commit_callbacks):
    meeting = livekit_meeting(account, kind="webinar", max_watchers=30)
    host, eve = InvitationFactory(meeting=meeting, role="host"), InvitationFactory(meeting=meeting, role="viewer")
    moderator_browser, _ = enter(host)
    enter(eve)
    in_room(api, meeting, host, eve)

    with django_capture_on_commit_callbacks(execute=True):
        answer = moderator_browser.post(f"/j/{host.token}/livekit/moderate",
                                        json.dumps({"action": "role", "identity": eve.peer_id, "role": "speaker"}),
                                        content_type="application/json")
    assert answer.json() == {"role": "speaker"}
    update = api.requests("UpdateParticipant")[-1]
    assert update["body"]["identity"] == eve.peer_id and update["grants"]["roomAdmin"]
    assert update["body"]["permission"] == {"can_subscribe": True, "can_publish": True, "can_publish_data": True,
                                            "can_publish_sources": ["CAMERA", "MICROPHONE", "SCREEN_SHARE",
                                                                    "SCREEN_SHARE_AUDIO"]}

    # The meeting page's role change (the host's form) reaches the room the same way.
    with django_capture_on_commit_callbacks(execute=True):
        invitations.invitation_change_role(invitation=Invitation.objects.get(pk=eve.pk), role="viewer")
    back = api.requests("UpdateParticipant")[-1]["body"]["permission"]
    assert back == {"can_subscribe": True, "hidden": True}  # no publishing, no data, hidden


def fresh_token(browser, invitation):
    return browser.post(f"/j/{invitation.token}/room/token")


def test_a_demoted_moderator_is_removed_from_livekit_and_reconnects_with_a_token_without_room_admin(
        account, api, django_capture_on_commit_callbacks):
    meeting = livekit_meeting(account)
    host, mod = InvitationFactory(meeting=meeting, role="host"), InvitationFactory(meeting=meeting, role="moderator")
    host_browser, _ = enter(host)
    mod_browser, page = enter(mod)
    assert decode(page_token(page))["video"]["roomAdmin"] is True
    in_room(api, meeting, host, mod)

    with django_capture_on_commit_callbacks(execute=True):
        answer = host_browser.post(f"/j/{host.token}/livekit/moderate",
                                   json.dumps({"action": "role", "identity": mod.peer_id, "role": "participant"}),
                                   content_type="application/json")

    assert answer.json() == {"role": "participant"}
    # UpdateParticipant cannot take roomAdmin away: the LiveKit session holding it is ended instead.
    assert [r["body"] for r in api.requests("RemoveParticipant")] == [{"room": room_name(meeting),
                                                                        "identity": mod.peer_id}]
    assert not api.requests("UpdateParticipant")
    assert [p["identity"] for p in api.state()["participants"][room_name(meeting)]] == [host.peer_id]
    # The portal's stay goes on: the room page gets a token for the new role to connect again with.
    assert JoinSession.objects.get(invitation=mod).ended_at is None
    reply = fresh_token(mod_browser, mod)
    assert reply.status_code == 200
    claims = decode(reply.json()["token"])
    assert claims["sub"] == mod.peer_id and json.loads(claims["metadata"])["role"] == "participant"
    assert claims["video"] == {"roomJoin": True, "room": room_name(meeting), "canSubscribe": True,
                               "canPublish": True, "canPublishSources": EVERYTHING, "canPublishData": True}
    assert abs(claims["exp"] - (timezone.now() + LIFETIME).timestamp()) <= 5
    assert abs(timezone.datetime.fromisoformat(reply.json()["expires_at"]).timestamp() - claims["exp"]) <= 1


def test_a_real_removal_leaves_no_token_to_reconnect_with(account, api, django_capture_on_commit_callbacks):
    meeting = livekit_meeting(account)
    host, mod = InvitationFactory(meeting=meeting, role="host"), InvitationFactory(meeting=meeting, role="moderator")
    host_browser, _ = enter(host)
    mod_browser, _ = enter(mod)
    in_room(api, meeting, host, mod)

    with django_capture_on_commit_callbacks(execute=True):
        host_browser.post(f"/j/{host.token}/livekit/moderate",
                          json.dumps({"action": "remove", "identity": mod.peer_id}), content_type="application/json")

    assert len(api.requests("RemoveParticipant")) == 1
    assert fresh_token(mod_browser, mod).status_code in (404, 409, 410)
    assert mod_browser.get(f"/j/{mod.token}/room/state").json()["reason"] == "removed"


@pytest.mark.parametrize(("before", "after"), [("participant", "moderator"), ("moderator", "host"),
                                               ("participant", "interpreter")])
def test_a_promotion_or_a_change_keeping_moderation_updates_the_participant_in_place(
        account, api, django_capture_on_commit_callbacks, before, after):
    meeting = livekit_meeting(account)
    person = InvitationFactory(meeting=meeting, role=before)
    enter(person)
    in_room(api, meeting, person)

    with django_capture_on_commit_callbacks(execute=True):
        invitations.invitation_change_role(invitation=person, role=after,
                                           language="fr" if after == "interpreter" else "")

    assert not api.requests("RemoveParticipant")
    update = api.requests("UpdateParticipant")[-1]["body"]
    assert update["identity"] == person.peer_id and json.loads(update["metadata"])["role"] == after
    # LiveKit now lists the new role: the next change knows what the person holds.
    assert json.loads(api.state()["participants"][room_name(meeting)][0]["metadata"])["role"] == after


def test_a_fresh_token_is_refused_once_the_stay_is_over(account, api):
    meeting = livekit_meeting(account)
    person = InvitationFactory(meeting=meeting)
    browser, _ = enter(person)
    Invitation.objects.filter(pk=person.pk).update(valid_until=timezone.now() - timedelta(seconds=1))
    assert fresh_token(browser, person).status_code in (404, 409, 410)


def test_moderation_is_for_moderators_and_bad_requests_are_refused(account, api):
    meeting = livekit_meeting(account)
    eve, bo = InvitationFactory(meeting=meeting), InvitationFactory(meeting=meeting)
    host = InvitationFactory(meeting=meeting, role="host")
    eve_browser, _ = enter(eve)
    host_browser, _ = enter(host)
    url = "/j/{}/livekit/moderate"

    refused = eve_browser.post(url.format(eve.token), json.dumps({"action": "remove", "identity": bo.peer_id}),
                               content_type="application/json")
    assert refused.status_code == 403
    for body in ("not json", "[]", json.dumps({"action": "remove"}), json.dumps({"action": 1, "identity": "x"}),
                 json.dumps({"action": "explode", "identity": bo.peer_id}),
                 json.dumps({"action": "role", "identity": bo.peer_id, "role": "emperor"})):
        answer = host_browser.post(url.format(host.token), body, content_type="application/json")
        assert 400 <= answer.status_code < 500, body
    assert host_browser.post(url.format(host.token), json.dumps({"action": "mute", "identity": "nobody"}),
                             content_type="application/json").status_code == 404
    assert Client().post(url.format(host.token), "{}", content_type="application/json").status_code == 404
    assert api.requests("RemoveParticipant") == [] and api.requests("UpdateParticipant") == []
    assert Invitation.objects.get(pk=bo.pk).role == "participant"


def test_a_moderator_cannot_crown_themselves_or_remove_or_demote_the_host(account, api):
    meeting = livekit_meeting(account)
    host = InvitationFactory(meeting=meeting, role="host")
    mod, bo = InvitationFactory(meeting=meeting, role="moderator"), InvitationFactory(meeting=meeting)
    mod_browser, page = enter(mod)
    enter(host)
    url = f"/j/{mod.token}/livekit/moderate"

    def ask(**body):
        return mod_browser.post(url, json.dumps(body), content_type="application/json")

    assert ask(action="role", identity=mod.peer_id, role="host").status_code == 403
    assert ask(action="role", identity=bo.peer_id, role="host").status_code == 403
    assert ask(action="role", identity=host.peer_id, role="participant").status_code == 403
    removal = ask(action="remove", identity=host.peer_id)
    assert removal.status_code == 403 and removal.json()["error"] == "Only a host can remove a host."
    assert ask(action="mute", identity="\x00").status_code == 400  # a NUL byte: refused, not a 500
    assert sorted(Invitation.objects.filter(meeting=meeting).values_list("role", flat=True)) == [
        "host", "moderator", "participant"]
    assert Invitation.objects.get(pk=host.pk).removed_at is None
    assert api.requests("RemoveParticipant") == [] and api.requests("UpdateParticipant") == []
    offered = page.content.decode().split('data-roles="')[1].split('"')[0].split(",")
    assert "host" not in offered and "participant" in offered  # the room page offers no crown


def test_ending_for_everyone_deletes_the_room_and_a_missing_room_is_no_error(
        account, api, django_capture_on_commit_callbacks):
    meeting = livekit_meeting(account)
    enter(InvitationFactory(meeting=meeting, role="host"))
    with django_capture_on_commit_callbacks(execute=True):
        scheduling.occurrence_end(occurrence=meeting.occurrences.get())
    deleted = api.requests("DeleteRoom")
    assert len(deleted) == 1 and deleted[0]["body"] == {"room": room_name(meeting)}
    assert deleted[0]["grants"]["roomCreate"] and api.state()["rooms"] == []
    assert meeting.occurrences.get().status == Occurrence.Status.ENDED
    assert get_provider("livekit", account).end_room(meeting=meeting, occurrence=None) is False  # gone already


def test_people_in_room_counts_livekits_participants(account, api):
    meeting = livekit_meeting(account)
    people = [InvitationFactory(meeting=meeting) for _ in range(3)]
    get_provider("livekit", account).ensure_room(meeting)
    in_room(api, meeting, *people)
    assert get_provider("livekit", account).people_in_room(meeting=meeting) == 3


# --- the account ---------------------------------------------------------------------------------

def test_check_connection_tries_the_key_for_real(account, api):
    checks = get_provider("livekit", account).check_connection()
    assert [c.ok for c in checks] == [True, True]
    assert api.requests("ListRooms")[-1]["grants"]["roomList"] is True

    account.api_key = "APIunknown"
    checks = get_provider("livekit", account).check_connection()
    assert not checks[0].ok and "401" in checks[0].detail and SECRET not in checks[0].detail


def test_account_problems_name_each_missing_or_wrong_field():
    provider = get_provider("livekit")
    assert provider.account_problems({"server_url": "https://livekit.example.org", "api_key": "APIx",
                                      "api_secret": "s"}) == {}
    assert provider.account_problems({"server_url": "wss://acme.livekit.cloud", "api_key": "APIx",
                                      "api_secret": "s"}) == {}
    problems = provider.account_problems({"server_url": "ftp://example.org", "api_key": " ", "api_secret": ""})
    assert set(problems) == {"server_url", "api_key", "api_secret"}
    assert set(provider.account_problems({})) == {"server_url", "api_key", "api_secret"}


def test_private_addresses_are_refused_unless_allowed(account, api, settings):
    settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(ProviderError) as refused:
        get_provider("livekit", account).client().list_rooms()
    assert "non-public" in str(refused.value)
    assert api.requests("ListRooms") == []


def test_the_server_url_is_a_public_host_without_credentials(account, settings):
    settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES = False  # as in production: invitees' browsers connect to it
    provider = get_provider("livekit", account)
    base = {"api_key": "APIkey", "api_secret": "s" * 32}
    assert "server_url" not in provider.account_problems({**base, "server_url": "https://livekit.example.org"})
    for url in ("https://10.0.0.5", "wss://192.168.1.2:7880", "https://livekit.internal.localhost",
                "https://user:pass@livekit.example.org", "https://127.0.0.1:7880"):
        assert "server_url" in provider.account_problems({**base, "server_url": url}), url
