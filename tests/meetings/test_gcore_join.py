"""Joining a Gcore Meet meeting: the iframe URL and a signed token carrying exactly the person's rights."""

import time
from datetime import UTC, timedelta
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from meetings import links
from meetings.models import JoinSession, ProviderAccount
from meetings.providers import signing
from meetings.providers.gcore.provider import room_id
from meetings.services import scheduling
from meetings.services.accounts import generate_rsa_pair, provider_account_save

from ..factories import GcoreMeetingFactory, InvitationFactory, ProviderAccountFactory

SECRET = "a-shared-secret-of-32-bytes-or-more!"


@pytest.fixture
def account(acme):
    return ProviderAccountFactory(organization=acme, meet_domain="acme.gvideo.co", jwt_secret=SECRET,
                                  is_default=True)


def gcore_meeting(account, **settings):
    return GcoreMeetingFactory(organization=account.organization, provider_account=account, **settings)


def iframe_of(invitation):
    browser = Client()
    browser.post(f"/j/{invitation.token}")
    page = browser.get(f"/j/{invitation.token}/room/").content.decode()
    src = page.split('id="provider-room" class="provider-room" data-src="')[1].split('"')[0].replace("&amp;", "&")
    allow = page.split('allow="')[1].split('"')[0]
    url = urlsplit(src)
    return url, {k: v[0] for k, v in parse_qs(url.query).items()}, allow


def decode(token, key, algorithm):
    header = jwt.get_unverified_header(token)
    assert header == {"typ": "JWT", "alg": algorithm}
    return jwt.decode(token, key, algorithms=[algorithm])


def test_a_moderator_gets_an_hs256_token_with_every_claim_and_no_rights_in_the_url(account):
    meeting = gcore_meeting(account, recording_allowed=True, waiting_room=True, raise_hand=True)
    moderator = InvitationFactory(meeting=meeting, display_name="Mo Derator", role="moderator")
    before = int(time.time())

    url, query, allow = iframe_of(moderator)

    room_id = "serv0" + meeting.ical_uid.split("@")[0].replace("-", "")
    assert (url.scheme, url.netloc, url.path) == ("https", "acme.gvideo.co", "/call/")
    assert set(query) == {"roomId", "nameScreenDisabled", "token"} and query["roomId"] == room_id
    assert allow == "camera; microphone; fullscreen; display-capture; autoplay; screen-wake-lock"
    claims = decode(query["token"], SECRET, "HS256")
    assert before <= claims["iat"] <= int(time.time()) and claims["exp"] == claims["iat"] + 600
    start = meeting.occurrences.get().start.astimezone(UTC)
    # No accessToken: the seed says that with the JWT option on, &accessToken cannot be used.
    assert claims == {
        "roomId": room_id, "role": "moderator", "displayName": "Mo Derator", "peerId": moderator.peer_id,
        "canRecord": True, "waitingRoom": True, "handEnabled": True, "maxBroadcasters": 10,
        "startTime": start.strftime("%Y-%m-%dT%H:%M:%S.0Z"), "iat": claims["iat"], "exp": claims["exp"]}


def test_participants_cannot_record_and_carry_no_role(account):
    meeting = gcore_meeting(account, recording_allowed=True)
    participant = InvitationFactory(meeting=meeting, role="participant")

    claims = decode(iframe_of(participant)[1]["token"], SECRET, "HS256")

    assert "role" not in claims and claims["canRecord"] is False


def test_the_rooms_look_comes_from_meeting_settings_in_the_url_and_never_in_the_token(account):
    meeting = gcore_meeting(account, controls_disabled=True, hide_indicators=True, start_fullscreen=True,
                            sort_peers=True, minimize_tiles=True, interface_language="de", chat_enabled=False)
    participant = InvitationFactory(meeting=meeting, role="participant")

    _, query, _ = iframe_of(participant)

    assert {k: v for k, v in query.items() if k not in ("roomId", "token")} == {
        "nameScreenDisabled": "true", "controlsDisabled": "true", "hideIndicators": "true", "startWithFS": "true",
        "sortPeers": "true", "minimizeTiles": "true", "lang": "de", "disableChat": "true"}
    assert not {"controlsDisabled", "hideIndicators", "lang"} & set(decode(query["token"], SECRET, "HS256"))


def test_an_interpreter_gets_the_interpretation_claims(account):
    interpreter = InvitationFactory(meeting=gcore_meeting(account), role="interpreter", language="de")

    claims = decode(iframe_of(interpreter)[1]["token"], SECRET, "HS256")

    assert (claims["role"], claims["featureInterpreters"], claims["intLang"]) == ("interpreter", True, "de")


def test_webinar_viewers_and_speakers(account):
    webinar = gcore_meeting(account, kind="webinar", max_watchers=500, chat_enabled=False, interface_language="fr")
    viewer = InvitationFactory(meeting=webinar, role="viewer")
    speaker = InvitationFactory(meeting=webinar, role="speaker")

    url, query, _ = iframe_of(viewer)
    viewer_claims = decode(query["token"], SECRET, "HS256")
    speaker_claims = decode(iframe_of(speaker)[1]["token"], SECRET, "HS256")

    assert url.path == "/webinar/"
    assert (query["lang"], query["disableChat"], query["autoplayWithoutAudioTrack"]) == ("fr", "true", "true")
    assert viewer_claims["itisparticipant"] is False and speaker_claims["itisparticipant"] is True
    assert viewer_claims["maxWatchers"] == 500 and "lang" not in viewer_claims


def test_rs256_tokens_verify_with_the_public_key_to_register_and_a_new_pair_takes_over(account):
    generate_rsa_pair(account)
    first_public = ProviderAccount.objects.get(pk=account.pk).jwt_public_key
    guest = InvitationFactory(meeting=gcore_meeting(account))

    first = iframe_of(guest)[1]["token"]
    claims = decode(first, first_public, "RS256")
    assert claims == {
        "roomId": room_id(guest.meeting), "displayName": guest.display_name, "peerId": guest.peer_id,
        "canRecord": False, "waitingRoom": False, "handEnabled": guest.meeting.raise_hand, "maxBroadcasters": 10,
        "startTime": guest.meeting.occurrences.get().start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0Z"),
        "iat": claims["iat"], "exp": claims["iat"] + 600}

    generate_rsa_pair(ProviderAccount.objects.get(pk=account.pk))
    account = ProviderAccount.objects.get(pk=account.pk)
    second = iframe_of(guest)[1]["token"]
    assert account.key_version == 3
    assert decode(second, account.jwt_public_key, "RS256")["peerId"] == guest.peer_id
    with pytest.raises(jwt.InvalidSignatureError):
        decode(second, first_public, "RS256")


def test_loaded_keys_are_cached_per_account_and_key_version(account):
    generate_rsa_pair(account)
    account = ProviderAccount.objects.get(pk=account.pk)

    key = signing.signing_key(account)

    assert signing.signing_key(ProviderAccount.objects.get(pk=account.pk)) is key
    previous = ProviderAccount.objects.get(pk=account.pk)
    account.jwt_algorithm, account.jwt_secret = "HS256", "another-secret-that-is-long-enough!!"
    provider_account_save(account, previous=previous)
    assert signing.signing_key(ProviderAccount.objects.get(pk=account.pk)) == "another-secret-that-is-long-enough!!"


def test_a_gcore_meeting_needs_an_account(client, alice):
    room = scheduling.room_create(organization=alice.organization, owner=alice.user, name="R", max_broadcasters=8,
                                  max_watchers=20)
    start = timezone.now() + timedelta(hours=1)
    with pytest.raises(ValidationError, match="no Gcore Meet account yet"):
        scheduling.meeting_schedule(organization=alice.organization, room=room, owner=alice.user, title="T",
                                    start=start, end=start + timedelta(hours=1), timezone_name="UTC",
                                    provider="gcore", max_broadcasters=10)


def test_the_account_page_shows_what_to_register_and_never_a_secret(client, account):
    from ..factories import UserFactory

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    page = client.get(f"/admin/meetings/provideraccount/{account.pk}/change/").content.decode()

    assert f"/providers/gcore/{account.code}/access" in page
    assert SECRET not in page


# The access-check mode (ProviderAccount.join_mode): no JWT; the URL carries who the person is and the
# rights the seed lets a URL carry, and Gcore asks the portal's access check.

ACCESS_HEADER = "Basic Z2NvcmVfbWVldDpzZWNyZXQ="


@pytest.fixture
def checked_account(acme):
    return ProviderAccountFactory(organization=acme, meet_domain="acme.gvideo.co", join_mode="access_check",
                                  jwt_secret="", access_secret=ACCESS_HEADER, is_default=True)


def test_the_access_check_mode_puts_no_jwt_in_the_url_only_what_the_seed_allows_there(checked_account):
    meeting = gcore_meeting(checked_account, recording_allowed=True, waiting_room=False, raise_hand=True,
                            chat_enabled=False)
    moderator = InvitationFactory(meeting=meeting, display_name="Mo Derator", role="moderator")

    url, query, _ = iframe_of(moderator)

    session = JoinSession.objects.get(invitation=moderator)
    assert (url.scheme, url.netloc, url.path) == ("https", "acme.gvideo.co", "/call/")
    assert query == {
        "roomId": room_id(meeting), "nameScreenDisabled": "true", "disableChat": "true",
        "peerId": moderator.peer_id, "accessToken": links.access_token(session), "displayName": "Mo Derator",
        "handEnabled": "true", "maxBroadcasters": "10"}
    # JWT-only rights (role, canRecord, waitingRoom) cannot travel in a URL; the access check's own URL
    # and header are registered with Gcore, never shown to the person.
    assert not {"token", "role", "canRecord", "waitingRoom", "accessUrl", "authorizationAccess"} & set(query)


def test_the_access_token_in_the_url_is_what_the_access_check_admits(checked_account):
    meeting = gcore_meeting(checked_account)
    guest = InvitationFactory(meeting=meeting)
    _, query, _ = iframe_of(guest)

    answer = Client().post(f"/providers/gcore/{checked_account.code}/access", {
        "accessToken": query["accessToken"], "roomId": query["roomId"], "peerId": query["peerId"]},
        content_type="application/json", HTTP_AUTHORIZATION=ACCESS_HEADER)

    assert (answer.status_code, answer.json()) == (200, {"result": "allowed"})
    assert JoinSession.objects.get(invitation=guest).provider_admitted


def test_webinar_rights_in_the_access_check_mode_url(checked_account):
    webinar = gcore_meeting(checked_account, kind="webinar", max_watchers=500, raise_hand=False)
    viewer = InvitationFactory(meeting=webinar, role="viewer")
    speaker = InvitationFactory(meeting=webinar, role="speaker")

    url, viewer_query, _ = iframe_of(viewer)
    speaker_query = iframe_of(speaker)[1]

    assert url.path == "/webinar/"
    assert (viewer_query["itisparticipant"], speaker_query["itisparticipant"]) == ("false", "true")
    assert viewer_query["maxWatchers"] == speaker_query["maxWatchers"] == "500"
    assert viewer_query["autoplayWithoutAudioTrack"] == "true" and "handEnabled" not in viewer_query
    assert "token" not in viewer_query and "token" not in speaker_query


def test_without_gcores_bridge_script_the_name_screen_stays(acme):
    # A domain the organization typed is framed but gets no bridge, so nothing could call "join".
    account = ProviderAccountFactory(organization=acme, meet_domain="video.acme-corp.com", jwt_secret=SECRET)
    guest = InvitationFactory(meeting=gcore_meeting(account))

    _, query, _ = iframe_of(guest)

    assert "nameScreenDisabled" not in query and set(query) == {"roomId", "token"}
    assert decode(query["token"], SECRET, "HS256")["peerId"] == guest.peer_id
