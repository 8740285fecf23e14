"""VideoSDK against the contract server (tests/videosdk_api_server.py): rooms made once per meeting
(customRoomId), validated before every join, a join token per person with exactly the role's
permissions, crawler tokens on every REST call, moderation through /v2/sessions, connection checks,
errors and 429s."""

import threading
from datetime import timedelta

import jwt
import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.utils import timezone

from meetings.models import ProviderAccount, ProviderRoom
from meetings.providers import get_provider
from meetings.providers.base import ProviderError
from meetings.providers.videosdk.provider import custom_room_id
from meetings.tasks import tell_provider

from ..factories import InvitationFactory, MeetingFactory, ProviderAccountFactory

KEY = "0d4f6e9e-acme-videosdk-key"
SECRET = "7c3b" * 16  # VideoSDK's secrets are 64 hex characters


@pytest.fixture
def api(videosdk_api, settings):
    settings.VIDEOSDK_API_BASE_URL = videosdk_api.url
    settings.VIDEOSDK_BACKOFF_SECONDS = 0.05
    settings.VIDEOSDK_SIGNALING_HOST = ""
    settings.SITE_URL = "https://meet.acme.test"
    videosdk_api.reset(api_key=KEY, secret=SECRET)
    return videosdk_api


def videosdk_account(organization, **extra):
    return ProviderAccountFactory(organization=organization, name=extra.pop("name", "VideoSDK"), provider="videosdk",
                                  jwt_secret="", api_key=extra.pop("api_key", KEY),
                                  api_secret=extra.pop("api_secret", SECRET), **extra)


@pytest.fixture
def account(acme, api):
    return videosdk_account(acme)


def videosdk_meeting(account, **settings):
    return MeetingFactory(organization=account.organization, provider="videosdk", provider_account=account, **settings)


def enter(invitation) -> tuple[Client, object]:
    browser = Client()
    browser.post(f"/j/{invitation.token}")
    response = browser.get(f"/j/{invitation.token}/room/")
    assert response.status_code == 200, response.content[:300]
    return browser, response


def page_value(response, name: str) -> str:
    return response.content.decode().split(f'data-{name}="')[1].split('"')[0]


def decoded(token: str) -> dict:
    """The claims of a token the portal signed, verified with the account's secret (as VideoSDK does)."""
    return jwt.decode(token, SECRET, algorithms=["HS256"])


def stay_end(meeting) -> int:
    grace = timedelta(minutes=django_settings.JOIN_GRACE_MINUTES_AFTER)
    return int((meeting.occurrences.get().end + grace).timestamp())


def test_the_first_join_creates_the_room_with_the_meetings_custom_id_and_later_joins_reuse_it(account, api):
    meeting = videosdk_meeting(account)
    enter(InvitationFactory(meeting=meeting, role="host"))
    enter(InvitationFactory(meeting=meeting))

    created = api.requests("/v2/rooms", "POST")
    assert len(created) == 1
    assert created[0]["body"] == {
        "customRoomId": custom_room_id(meeting),
        "webhook": {"endPoint": f"https://meet.acme.test/providers/videosdk/{account.code}/events",
                    "events": ["participant-joined", "participant-left", "session-started", "session-ended",
                               "recording-started", "recording-stopped"]}}
    room = ProviderRoom.objects.get(meeting=meeting)
    assert room.provider_room_id == api.state()["rooms"][0]["roomId"]
    assert room.name == custom_room_id(meeting)
    # VideoSDK was asked whether the room can be joined, once for both joins (its answer holds a minute).
    assert [r["path"] for r in api.requests()] == ["/v2/rooms", f"/v2/rooms/validate/{room.provider_room_id}"]


def test_every_rest_call_carries_a_fresh_crawler_token_with_no_prefix(account, api):
    meeting = videosdk_meeting(account)
    enter(InvitationFactory(meeting=meeting))

    calls = api.requests()
    assert calls and all(r["authorized"] for r in calls)
    tokens = [r["token"] for r in calls]
    assert len(set(tokens)) == len(tokens)  # a new jti every time
    for token in tokens:
        assert not token.lower().startswith("bearer")
        claims = decoded(token)
        assert (claims["apikey"], claims["version"], claims["roles"]) == (KEY, 2, ["crawler"])
        assert "roomId" not in claims and "participantId" not in claims
        assert 0 < claims["exp"] - claims["iat"] <= 600 and claims["jti"]


def test_a_room_videosdk_already_has_for_the_custom_id_is_reused_not_made_again(account, api):
    meeting = videosdk_meeting(account)
    earlier = get_provider("videosdk", account).client().create_room({"customRoomId": custom_room_id(meeting)})

    enter(InvitationFactory(meeting=meeting))

    assert len(api.state()["rooms"]) == 1  # VideoSDK answered the room it had for the customRoomId
    assert ProviderRoom.objects.get(meeting=meeting).provider_room_id == earlier["roomId"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_joins_make_exactly_one_room(acme, api):
    account = videosdk_account(acme)
    meeting = videosdk_meeting(account)
    people = [InvitationFactory(meeting=meeting) for _ in range(6)]
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
    assert len(api.requests("/v2/rooms", "POST")) == 1  # the others waited on the meeting's row and found it
    assert len(api.state()["rooms"]) == 1 and ProviderRoom.objects.filter(meeting=meeting).count() == 1


def test_each_role_gets_exactly_its_permissions_in_a_token_for_this_room_and_peer(account, api):
    meeting = videosdk_meeting(account)
    cases = {"host": ["allow_join", "allow_mod"], "moderator": ["allow_join", "allow_mod"],
             "participant": ["allow_join"]}
    tokens = []
    for role, permissions in cases.items():
        person = InvitationFactory(meeting=meeting, role=role)
        _, response = enter(person)
        token = page_value(response, "token")
        claims = decoded(token)
        room = ProviderRoom.objects.get(meeting=meeting).provider_room_id
        assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
        assert {k: v for k, v in claims.items() if k not in ("iat", "jti")} == {
            "apikey": KEY, "permissions": permissions, "version": 2, "roomId": room,
            "participantId": person.peer_id, "roles": ["rtc"], "exp": stay_end(meeting)}, role
        assert page_value(response, "room-id") == room and page_value(response, "participant-id") == person.peer_id
        tokens.append(claims["jti"])
    assert len(set(tokens)) == len(tokens)


def test_with_the_waiting_room_on_everyone_but_moderators_asks_to_join_and_nothing_else(account, api):
    meeting = videosdk_meeting(account, waiting_room=True)
    _, guest_page = enter(InvitationFactory(meeting=meeting))
    _, host_page = enter(InvitationFactory(meeting=meeting, role="host"))

    assert decoded(page_value(guest_page, "token"))["permissions"] == ["ask_join"]
    assert page_value(guest_page, "asks-to-join") == "true"
    assert decoded(page_value(host_page, "token"))["permissions"] == ["allow_join", "allow_mod"]
    assert page_value(host_page, "asks-to-join") == "false"
    assert 'id="entry-requests"' in host_page.content.decode()
    assert 'id="entry-requests"' not in guest_page.content.decode()


def test_an_invitation_that_ends_early_bounds_the_token(account, api):
    meeting = videosdk_meeting(account)
    ends = timezone.now().replace(microsecond=0) + timedelta(minutes=20)
    person = InvitationFactory(meeting=meeting)
    person.valid_until = ends
    person.save()
    _, response = enter(person)

    assert decoded(page_value(response, "token"))["exp"] == int(ends.timestamp())


def test_the_room_page_loads_the_portals_sdk_and_allows_only_videosdks_hosts(account, api, settings):
    meeting = videosdk_meeting(account, recording_allowed=True)
    _, host_page = enter(InvitationFactory(meeting=meeting, role="host"))
    _, guest_page = enter(InvitationFactory(meeting=meeting))
    page = host_page.content.decode()

    assert "/static/vendor/videosdk/videosdk.js" in page and "room_videosdk.js" in page
    assert SECRET not in page and SECRET not in guest_page.content.decode()
    assert 'id="toggle-record"' in page and 'id="toggle-record"' not in guest_page.content.decode()
    policy = host_page["Content-Security-Policy"]
    connect = policy.split("connect-src ")[1].split(";")[0].split()
    assert connect == ["'self'", "https://api.videosdk.live", "https://*.videosdk.live", "wss://*.videosdk.live"]
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert host_page["Cache-Control"] == "no-store, private"

    settings.VIDEOSDK_SIGNALING_HOST = "videosdk-proxy.acme.test"
    _, proxied = enter(InvitationFactory(meeting=meeting))
    assert page_value(proxied, "signaling-host") == "videosdk-proxy.acme.test"
    assert "https://videosdk-proxy.acme.test" in proxied["Content-Security-Policy"]
    assert "wss://videosdk-proxy.acme.test" in proxied["Content-Security-Policy"]


def test_without_an_https_address_rooms_are_made_without_a_webhook(account, api, settings):
    settings.SITE_URL = "http://127.0.0.1:8000"
    enter(InvitationFactory(meeting=videosdk_meeting(account)))

    assert "webhook" not in api.requests("/v2/rooms", "POST")[0]["body"]
    checks = get_provider("videosdk", account).check_connection()
    assert [c.name for c in checks if not c.ok] == ["Webhook address"]


def test_a_room_videosdk_no_longer_accepts_gives_a_clear_page_not_a_500_once_its_last_answer_is_old(account, api):
    meeting = videosdk_meeting(account)
    enter(InvitationFactory(meeting=meeting))
    room = ProviderRoom.objects.get(meeting=meeting)
    get_provider("videosdk", account).client().call("POST", "/v2/rooms/deactivate",
                                                    body={"roomId": room.provider_room_id})
    enter(InvitationFactory(meeting=meeting))  # within the minute VideoSDK's earlier answer holds
    cache.delete(f"videosdk:valid:{room.provider_room_id}")  # a minute later
    invitation = InvitationFactory(meeting=meeting)
    browser = Client()
    browser.post(f"/j/{invitation.token}")
    response = browser.get(f"/j/{invitation.token}/room/")

    assert response.status_code == 503
    assert "The video provider of this meeting is not set up correctly" in response.content.decode()
    assert "data-token" not in response.content.decode()


def test_a_refused_secret_gives_a_clear_page_and_makes_no_room(account, api):
    api.reset(api_key=KEY, secret="rotated" * 8)
    invitation = InvitationFactory(meeting=videosdk_meeting(account))
    browser = Client()
    browser.post(f"/j/{invitation.token}")
    response = browser.get(f"/j/{invitation.token}/room/")

    assert response.status_code == 503
    assert not ProviderRoom.objects.exists()
    assert api.requests("/v2/rooms", "POST")[0]["status"] == 401


def test_429s_are_waited_out_and_5xx_retried(account, api):
    api.set(throttle_next=2, retry_after="1", fail_next=1)
    _, response = enter(InvitationFactory(meeting=videosdk_meeting(account)))

    statuses = [r["status"] for r in api.requests()]
    assert statuses[:3] == [429, 429, 503] and statuses[-1] == 200
    assert decoded(page_value(response, "token"))


def test_a_provider_that_keeps_failing_is_a_retryable_error(account, api):
    api.set(fail_next=10)
    with pytest.raises(ProviderError) as failed:
        get_provider("videosdk", account).client().list_rooms()
    assert not failed.value.permanent and "HTTP 503" in str(failed.value)


def test_removing_someone_and_ending_the_meeting_go_through_videosdks_sessions_api(account, api):
    meeting = videosdk_meeting(account)
    ada = InvitationFactory(meeting=meeting)
    bo = InvitationFactory(meeting=meeting)
    enter(ada)
    room = ProviderRoom.objects.get(meeting=meeting).provider_room_id
    now = timezone.now().strftime("%Y-%m-%dT%H:%M:%S.000Z")
    api.add_session({"id": "s-live", "roomId": room, "start": now, "end": None, "status": "ongoing",
                     "participants": [{"participantId": p.peer_id, "name": p.display_name,
                                       "timelog": [{"start": now, "end": None}]} for p in (ada, bo)]})
    provider = get_provider("videosdk", account)

    assert tell_provider.run(meeting.pk, "remove", ada.pk) is True  # the moderator's removal, as the task does it
    assert provider.remove_participant(meeting=meeting, invitation=ada) is False  # gone already
    assert provider.end_room(meeting=meeting, occurrence=None) is True
    assert provider.end_room(meeting=meeting, occurrence=None) is False  # nothing live any more

    removals = api.requests("/v2/sessions/participants/remove", "POST")
    assert [r["body"] for r in removals] == [{"participantId": ada.peer_id, "roomId": room}] * 2
    assert [r["body"] for r in api.requests("/v2/sessions/end", "POST")] == [{"roomId": room}] * 2
    other = videosdk_meeting(account)
    assert provider.end_room(meeting=other, occurrence=None) is False  # no room yet: nothing to end
    assert provider.remove_participant(meeting=other, invitation=ada) is False


def test_a_room_id_names_only_this_accounts_meeting(account, api, charlie):
    meeting = videosdk_meeting(account)
    enter(InvitationFactory(meeting=meeting))
    room = ProviderRoom.objects.get(meeting=meeting).provider_room_id
    theirs = videosdk_account(charlie.organization, name="Globex VideoSDK")

    assert get_provider("videosdk", account).meeting_for_room(room) == meeting
    assert get_provider("videosdk", theirs).meeting_for_room(room) is None
    assert get_provider("videosdk", account).meeting_for_room("abcd-efgh-ijkl") is None


def test_the_connection_check_tries_the_key_and_the_webhook_key_and_says_when_refused(account, api):
    checks = get_provider("videosdk", account).check_connection()
    assert [(c.name, c.ok) for c in checks] == [("REST API", True), ("Webhook signatures", True),
                                                 ("Webhook address", True)]
    assert api.requests("/v2/rooms", "GET")[-1]["query"] == {"page": "1", "perPage": "1"}

    api.reset(api_key=KEY, secret="rotated" * 8)
    checks = get_provider("videosdk", account).check_connection()
    assert checks[0].ok is False and "HTTP 401" in checks[0].detail and SECRET not in checks[0].detail


def test_account_problems_name_each_missing_part(account):
    provider = get_provider("videosdk", account)
    assert provider.account_problems({"api_key": KEY, "api_secret": SECRET}) == {}
    assert set(provider.account_problems({"api_key": "", "api_secret": ""})) == {"api_key", "api_secret"}


def test_videosdk_holds_calls_with_a_waiting_room_but_no_webinars(account):
    provider = get_provider("videosdk", account)
    assert provider.capabilities.waiting_room and provider.capabilities.remove_participant
    assert provider.limit_problems(kind="webinar", max_broadcasters=8, max_watchers=20)
    assert provider.limit_problems(kind="call", max_broadcasters=50, max_watchers=0) == []


def test_an_admin_adds_a_videosdk_account_whose_secret_is_encrypted_and_never_shown(client, alice, acme, api):
    client.force_login(alice.user)
    new = client.get("/o/acme/providers/new/").content.decode()
    assert 'name="api_key"' in new and 'name="api_secret"' in new

    page = client.post("/o/acme/providers/new/", {"name": "VideoSDK", "provider": "videosdk", "enabled": "on",
                                                  "api_key": KEY, "api_secret": SECRET}, follow=True)

    account = ProviderAccount.objects.get(organization=acme, provider="videosdk")
    assert (account.api_key, account.api_secret) == (KEY, SECRET)
    assert SECRET not in page.content.decode() and SECRET not in client.get("/o/acme/providers/").content.decode()
    with connection.cursor() as cursor:
        cursor.execute("SELECT api_secret FROM meetings_provideraccount WHERE id = %s", [account.pk])
        assert SECRET not in cursor.fetchone()[0]
    kept = client.post(f"/o/acme/providers/{account.code}/", {"name": "Renamed", "provider": "videosdk",
                                                             "enabled": "on", "api_key": KEY, "api_secret": ""})
    assert kept.status_code == 302 and ProviderAccount.objects.get(pk=account.pk).api_secret == SECRET
    refused = client.post("/o/acme/providers/new/", {"name": "Half", "provider": "videosdk", "api_key": KEY})
    assert refused.status_code == 200 and "Paste the secret" in refused.content.decode()
