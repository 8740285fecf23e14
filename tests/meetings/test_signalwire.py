"""SignalWire Video against the contract server (tests/signalwire_api_server.py): rooms on demand,
a room token per join with exactly the role's rights, Relay and Fabric tokens refreshed server-side,
moderation, connection checks, errors and 429s."""

import base64
import threading
from datetime import timedelta

import jwt
import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.utils import timezone

from meetings.models import ProviderAccount, ProviderRoom, SessionToken
from meetings.providers import get_provider
from meetings.providers.signalwire.provider import MODERATION, SELF, SELF_AUDIO, room_name

from ..factories import InvitationFactory, MeetingFactory, MembershipFactory, ProviderAccountFactory, UserFactory

PROJECT = "5f0c7c50-7b3a-4a3e-9d1e-3f1b2a9c0d11"
TOKEN = "PTsignalwire-api-token"


@pytest.fixture
def api(signalwire_api, settings):
    settings.SIGNALWIRE_BASE_URL = signalwire_api.url
    settings.SIGNALWIRE_BACKOFF_SECONDS = 0.05
    signalwire_api.reset(project_id=PROJECT, api_token=TOKEN, channel_host="relay.example.signalwire.com")
    return signalwire_api


@pytest.fixture
def account(acme, api):
    return ProviderAccountFactory(organization=acme, name="SignalWire", provider="signalwire", jwt_secret="",
                                  space_host="acme.signalwire.com", project_id=PROJECT, api_token=TOKEN,
                                  join_mode="video")


def signalwire_meeting(account, **settings):
    return MeetingFactory(organization=account.organization, provider="signalwire", provider_account=account,
                          **settings)


def enter(invitation) -> tuple[Client, str]:
    browser = Client()
    browser.post(f"/j/{invitation.token}")
    response = browser.get(f"/j/{invitation.token}/room/")
    assert response.status_code == 200, response.content[:300]
    return browser, response


def page_token(response) -> str:
    return response.content.decode().split('data-token="')[1].split('"')[0]


def token_request(api) -> dict:
    return api.requests("/api/video/room_tokens", "POST")[-1]["body"]


def stay_end(meeting):
    grace = timedelta(minutes=django_settings.JOIN_GRACE_MINUTES_AFTER)
    return (meeting.occurrences.get().end + grace).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_the_first_join_creates_the_room_from_the_meetings_settings_and_later_joins_reuse_it(account, api):
    meeting = signalwire_meeting(account, title="Board call", max_broadcasters=12, kind="call")
    enter(InvitationFactory(meeting=meeting, display_name="Ada", role="host"))
    enter(InvitationFactory(meeting=meeting, display_name="Bo"))

    created = api.requests("/api/video/rooms", "POST")
    assert len(created) == 1
    body = created[0]["body"]
    assert body["name"] == room_name(meeting) and len(body["name"]) <= 100
    assert (body["display_name"], body["max_members"], body["quality"], body["layout"], body["record_on_start"]) == (
        "Board call", 12, "720p", "grid-responsive", False)
    sitting = meeting.occurrences.get()
    assert body["join_from"] == (sitting.start - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert body["join_until"] == stay_end(meeting)
    room = ProviderRoom.objects.get(meeting=meeting)
    assert room.provider_room_id == api.state()["rooms"][0]["id"]
    assert all(r["authorized"] for r in api.requests())  # Basic project:token on every call


def test_a_room_that_already_exists_at_signalwire_is_found_by_name_not_created_again(account, api):
    meeting = signalwire_meeting(account)
    client = get_provider("signalwire", account).client()
    client.create_room({"name": room_name(meeting)})

    enter(InvitationFactory(meeting=meeting))

    assert len(api.requests("/api/video/rooms", "POST")) == 1  # only the one made above
    assert ProviderRoom.objects.get(meeting=meeting).name == room_name(meeting)


def test_changed_meeting_settings_update_the_room_on_the_next_join(account, api):
    meeting = signalwire_meeting(account, max_broadcasters=5)
    enter(InvitationFactory(meeting=meeting))
    meeting.max_broadcasters = 40
    meeting.save()
    enter(InvitationFactory(meeting=meeting))

    updates = api.requests(method="PUT")
    assert len(updates) == 1 and updates[0]["body"]["max_members"] == 40
    assert updates[0]["path"] == f"/api/video/rooms/{ProviderRoom.objects.get().provider_room_id}"


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_joins_make_exactly_one_room(acme, api):
    account = ProviderAccountFactory(organization=acme, provider="signalwire", jwt_secret="", join_mode="video",
                                     space_host="acme.signalwire.com", project_id=PROJECT, api_token=TOKEN)
    meeting = signalwire_meeting(account)
    people = [InvitationFactory(meeting=meeting) for _ in range(6)]
    for person in people:
        Client().post(f"/j/{person.token}")  # joined; the room page is what asks for the room
    api.set(slow_create=0.3)
    results, gate = [], threading.Barrier(len(people))

    def open_room(invitation):
        browser = Client()
        browser.post(f"/j/{invitation.token}")
        gate.wait()
        results.append(browser.get(f"/j/{invitation.token}/room/").status_code)
        connection.close()

    threads = [threading.Thread(target=open_room, args=(p,)) for p in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == [200] * len(people)
    assert len(api.state()["rooms"]) == 1 and ProviderRoom.objects.filter(meeting=meeting).count() == 1
    assert len(api.requests("/api/video/room_tokens", "POST")) == len(people)


def test_each_role_gets_exactly_its_rights_in_its_room_token(account, api):
    meeting = signalwire_meeting(account, recording_allowed=True, raise_hand=True)
    cases = {"host": SELF + MODERATION + ["room.member.lowerhand", "room.recording"],
             "moderator": SELF + MODERATION + ["room.member.lowerhand", "room.recording"],
             "participant": SELF, "interpreter": SELF_AUDIO}
    for role, rights in cases.items():
        person = InvitationFactory(meeting=meeting, role=role, display_name=f"A {role}",
                                   **({"language": "de"} if role == "interpreter" else {}))
        _, response = enter(person)
        sent = token_request(api)
        assert sent == {"room_name": room_name(meeting), "user_name": f"A {role}", "permissions": rights,
                        "join_as": "member", "join_until": stay_end(meeting), "remove_at": stay_end(meeting),
                        "join_video_muted": role == "interpreter", "meta": {"peer_id": person.peer_id}}, role
        minted = page_token(response)
        assert jwt.get_unverified_header(minted) == {"typ": "VRT", "alg": "HS512",
                                                     "ch": "relay.example.signalwire.com"}
        claims = jwt.decode(minted, options={"verify_signature": False})  # SignalWire's key; the portal has none
        assert (claims["r"], claims["u"], claims["s"], claims["mta"]) == (
            room_name(meeting), f"A {role}", rights, {"peer_id": person.peer_id})
    assert "room.recording" not in SELF + SELF_AUDIO


def test_webinar_viewers_join_as_audience_with_no_rights_and_speakers_as_members(account, api):
    meeting = signalwire_meeting(account, kind="webinar", max_watchers=200)
    _, viewer_page = enter(InvitationFactory(meeting=meeting, role="viewer"))
    viewer_sent = token_request(api)
    enter(InvitationFactory(meeting=meeting, role="speaker"))
    speaker_sent = token_request(api)

    assert (viewer_sent["join_as"], viewer_sent["permissions"]) == ("audience", [])
    assert 'data-audience="true"' in viewer_page.content.decode()
    assert (speaker_sent["join_as"], speaker_sent["permissions"]) == ("member", SELF)
    assert api.requests("/api/video/rooms", "POST")[0]["body"]["max_members"] == 208


def test_an_invitation_that_ends_early_bounds_the_token(account, api):
    meeting = signalwire_meeting(account)
    ends = timezone.now().replace(microsecond=0) + timedelta(minutes=20)
    person = InvitationFactory(meeting=meeting)
    person.valid_until = ends
    person.save()
    enter(person)

    sent = token_request(api)
    assert sent["join_until"] == sent["remove_at"] == ends.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_the_room_page_has_the_sdk_token_and_its_socket_host_but_no_account_secret(account, api):
    meeting = signalwire_meeting(account)
    _, response = enter(InvitationFactory(meeting=meeting))
    page = response.content.decode()

    assert "vendor/signalwire/index.umd.js" in page and 'data-mode="video"' in page
    for secret in (TOKEN, base64.b64encode(f"{PROJECT}:{TOKEN}".encode()).decode()):
        assert secret not in page
    policy = response["Content-Security-Policy"]
    assert "connect-src 'self' wss://relay.example.signalwire.com" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]


def test_a_refused_api_token_gives_a_clear_page_not_a_500(account, api):
    api.reset(project_id=PROJECT, api_token="rotated")
    meeting = signalwire_meeting(account)
    invitation = InvitationFactory(meeting=meeting)
    browser = Client()
    browser.post(f"/j/{invitation.token}")
    response = browser.get(f"/j/{invitation.token}/room/")

    assert response.status_code == 503
    assert "The video provider of this meeting is not set up correctly" in response.content.decode()
    assert not ProviderRoom.objects.exists()


def test_429s_are_waited_out_and_5xx_retried(account, api):
    api.set(throttle_next=2, retry_after="1", fail_next=1)
    meeting = signalwire_meeting(account)
    _, response = enter(InvitationFactory(meeting=meeting))

    statuses = [r["status"] for r in api.requests()]
    assert statuses[:3] == [429, 429, 503] and statuses[-1] == 200
    assert page_token(response)


def test_a_refused_room_setting_names_the_field(account, api):
    from meetings.providers.base import ProviderError

    client = get_provider("signalwire", account).client()
    with pytest.raises(ProviderError) as refused:
        client.create_room({"name": "bad name!"})
    assert refused.value.permanent and "HTTP 422" in str(refused.value) and "name must match" in str(refused.value)


def test_the_relay_jwt_is_minted_for_the_peer_and_refreshed_server_side(account, api, alice):
    meeting = signalwire_meeting(account)
    person = InvitationFactory(meeting=meeting, role="moderator", email=alice.user.email)
    person.user = alice.user
    person.save()
    browser, _ = enter(person)

    first = browser.post(f"/j/{person.token}/room/token")
    second = browser.post(f"/j/{person.token}/room/token")

    assert first.status_code == second.status_code == 200
    minted = api.requests("/api/relay/rest/jwt", "POST")
    assert [r["body"] for r in minted] == [{"resource": person.peer_id, "expires_in": 15}]
    refreshed = api.requests("/api/relay/rest/jwt", "PUT")
    stored = SessionToken.objects.get(purpose="relay")
    assert len(refreshed) == 1 and refreshed[0]["body"]["refresh_token"] != stored.refresh_token  # rotated
    for answer in (first, second):
        claims = jwt.decode(answer.json()["token"], options={"verify_signature": False})
        assert claims["resource"] == person.peer_id and claims["exp"] - claims["iat"] == 15 * 60
        assert "refresh" not in answer.content.decode()
    assert first.json()["token"] != second.json()["token"]
    with connection.cursor() as cursor:  # encrypted at rest
        cursor.execute("SELECT refresh_token FROM meetings_sessiontoken")
        assert stored.refresh_token not in cursor.fetchone()[0]


def test_no_token_for_someone_who_left_or_never_joined(account, api):
    meeting = signalwire_meeting(account)
    person = InvitationFactory(meeting=meeting)
    browser, _ = enter(person)
    browser.post(f"/j/{person.token}/leave")

    assert browser.post(f"/j/{person.token}/room/token").status_code in (404, 410)
    assert Client().post(f"/j/{person.token}/room/token").status_code == 404
    assert Client().get(f"/j/{person.token}/room/token").status_code == 405
    assert not api.requests("/api/relay/rest/jwt")


def test_fabric_guests_get_a_guest_token_for_the_room_address_and_members_a_subscriber_token(account, api, acme):
    account.join_mode = "fabric"
    account.save()
    meeting = signalwire_meeting(account)
    guest = InvitationFactory(meeting=meeting, email="guest@example.net")
    member_user = MembershipFactory(organization=acme, user=UserFactory(email="mia@acme.test")).user
    member = InvitationFactory(meeting=meeting, email="mia@acme.test", role="moderator")
    member.user = member_user
    member.save()

    _, guest_page = enter(guest)
    guest_sent = api.requests("/api/fabric/guests/tokens", "POST")[-1]["body"]
    address = next(a for a in api.requests("/api/fabric/addresses", "GET"))
    member_browser, member_page = enter(member)
    member_sent = api.requests("/api/fabric/subscribers/tokens", "POST")[-1]["body"]

    room = ProviderRoom.objects.get(meeting=meeting)
    assert address["query"]["name"] == room.name
    assert len(guest_sent["allowed_addresses"]) == 1
    grace = timedelta(minutes=django_settings.JOIN_GRACE_MINUTES_AFTER)
    assert guest_sent["expire_at"] == int((meeting.occurrences.get().end + grace).timestamp())
    assert member_sent == {"reference": "mia@acme.test"}
    assert 'data-mode="fabric"' in guest_page.content.decode()
    assert f'data-address="/public/{room.name}"' in member_page.content.decode()
    assert not api.requests("/api/video/room_tokens")
    # The member's page asks for a fresh token: the subscriber token is refreshed with its refresh token.
    fresh = member_browser.post(f"/j/{member.token}/room/token")
    assert fresh.status_code == 200
    assert len(api.requests("/api/fabric/subscribers/tokens/refresh", "POST")) == 1


def test_ending_the_meeting_removes_everyone_through_the_room_setting(account, api):
    meeting = signalwire_meeting(account)
    enter(InvitationFactory(meeting=meeting))
    provider = get_provider("signalwire", account)

    assert provider.end_room(meeting=meeting, occurrence=None) is True
    update = api.requests(method="PUT")[-1]
    assert update["path"].endswith(ProviderRoom.objects.get().provider_room_id) and "remove_at" in update["body"]
    other = signalwire_meeting(account)
    assert provider.end_room(meeting=other, occurrence=None) is False  # no room yet: nothing to end


def test_the_connection_check_lists_rooms_and_says_when_the_token_is_refused(account, api):
    checks = get_provider("signalwire", account).check_connection()
    assert [c.ok for c in checks] == [True]
    assert api.requests("/api/video/rooms", "GET")[-1]["query"] == {"page_size": "1"}

    api.reset(project_id=PROJECT, api_token="rotated")
    checks = get_provider("signalwire", account).check_connection()
    assert [c.ok for c in checks] == [False] and "HTTP 401" in checks[0].detail and TOKEN not in checks[0].detail


def test_account_problems_name_each_missing_part(account):
    provider = get_provider("signalwire", account)
    assert provider.account_problems({"space_host": "acme.signalwire.com", "project_id": PROJECT,
                                      "api_token": TOKEN, "join_mode": "video"}) == {}
    problems = provider.account_problems({"space_host": "", "project_id": "nope", "api_token": "",
                                          "join_mode": "jwt"})
    # (the space host is not checked here: the tests point every space at the contract server)
    assert set(problems) == {"project_id", "api_token", "join_mode"}
    assert "UUID" in problems["project_id"]


def test_a_space_host_must_be_a_signalwire_space(account, settings):
    settings.SIGNALWIRE_BASE_URL = ""
    problems = get_provider("signalwire", account).account_problems({"space_host": "evil.example"})
    assert "example.signalwire.com" in problems["space_host"]
    assert ProviderAccount.JoinMode("fabric").label.startswith("Fabric")


def test_fabric_accounts_still_give_webinar_viewers_an_audience_room_token(account, api):
    account.join_mode = "fabric"
    account.save()
    meeting = signalwire_meeting(account, kind="webinar", max_watchers=50)
    _, page = enter(InvitationFactory(meeting=meeting, role="viewer"))

    assert (token_request(api)["join_as"], token_request(api)["permissions"]) == ("audience", [])
    assert not api.requests("/api/fabric/guests/tokens") and 'data-mode="video"' in page.content.decode()


def test_guests_and_members_who_do_not_moderate_get_no_relay_jwt(account, api, acme):
    meeting = signalwire_meeting(account)
    guest = InvitationFactory(meeting=meeting, role="moderator")  # a moderator from outside
    member = InvitationFactory(meeting=meeting, email="mo@acme.test")
    member.user = MembershipFactory(organization=acme, user=UserFactory(email="mo@acme.test")).user
    member.save()
    for person in (guest, member):
        browser, _ = enter(person)
        refused = browser.post(f"/j/{person.token}/room/token")
        assert refused.status_code == 409 and "rejoin" in refused.json()["error"]
    assert not api.requests("/api/relay/rest/jwt")  # a Relay JWT can place calls: none was asked for


def test_fabric_subscriber_tokens_only_for_moderators_who_are_still_members(account, api, acme):
    account.join_mode = "fabric"
    account.save()
    meeting = signalwire_meeting(account)
    user = MembershipFactory(organization=acme, user=UserFactory(email="lee@acme.test")).user
    participant = InvitationFactory(meeting=meeting, email="lee@acme.test")
    participant.user = user
    participant.save()
    enter(participant)  # a member, but not moderating: a guest token for this room only
    assert not api.requests("/api/fabric/subscribers/tokens") and len(api.requests("/api/fabric/guests/tokens")) == 1

    former = InvitationFactory(meeting=meeting, email="ex@acme.test", role="moderator")
    former.user = UserFactory(email="ex@acme.test")  # invited as a member, no longer one
    former.save()
    browser, _ = enter(former)
    assert not api.requests("/api/fabric/subscribers/tokens")
    assert browser.post(f"/j/{former.token}/room/token").status_code == 200  # a fresh guest token
    assert len(api.requests("/api/fabric/guests/tokens")) == 3


def test_the_token_endpoint_is_rate_limited_per_stay(account, api, alice):
    meeting = signalwire_meeting(account)
    person = InvitationFactory(meeting=meeting, role="moderator", email=alice.user.email)
    person.user = alice.user
    person.save()
    browser, _ = enter(person)
    answers = [browser.post(f"/j/{person.token}/room/token").status_code for _ in range(31)]
    assert answers[:30] == [200] * 30 and answers[30] == 429
    assert len(api.requests("/api/relay/rest/jwt")) == 30
