"""Self-hosted Jitsi Meet: every minted JWT decoded and verified (HS256 with the app secret, RS256
with the key id; every claim, per role), the room page (guarded, no-store, the JWT only in its body)
framing the frame document of JITSI_FRAME_ORIGIN (no secret, strict policy, answered only on that
host, which answers nothing else), the 503 without that setting, account checks and moderation."""

import os
import re
import subprocess
import sys
from datetime import timedelta
from html import unescape
from pathlib import Path
from urllib.parse import urlencode

import jwt
import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone

from meetings.models import JoinSession
from meetings.providers import get_provider
from meetings.providers.base import NotSupported
from meetings.providers.jitsi.frame import frame_origin as configured_frame_origin
from meetings.providers.jitsi.frame import setting_problem, site_of
from meetings.providers.jitsi.provider import MODERATOR_NOTE, room_name
from meetings.providers.signing import new_rsa_pair
from meetings.services import joining

from ..factories import InvitationFactory, MeetingFactory, ProviderAccountFactory

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = "meet.example.org"
FRAME_HOST = "jitsi-frames.example.net"
FRAME_ORIGIN = f"https://{FRAME_HOST}"
APP_ID = "portal-app"
SECRET = "jitsi-app-secret-" + "x" * 24
CLAIMS = {"iss", "aud", "sub", "room", "nbf", "exp", "iat", "moderator", "context"}


@pytest.fixture(autouse=True)
def frame_origin(settings):
    settings.JITSI_FRAME_ORIGIN = FRAME_ORIGIN
    settings.SITE_URL = "http://testserver"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, FRAME_HOST]  # as settings.py adds it from the environment


@pytest.fixture
def account(acme):
    return ProviderAccountFactory(organization=acme, name="Jitsi", provider="jitsi", meet_domain=DOMAIN,
                                  api_key=APP_ID, api_secret=SECRET, jwt_secret="", jwt_algorithm="HS256")


@pytest.fixture(scope="module")
def rsa_pair():
    return new_rsa_pair()


@pytest.fixture
def rs_account(acme, rsa_pair):
    return ProviderAccountFactory(organization=acme, name="Jitsi RS", provider="jitsi", meet_domain=DOMAIN,
                                  api_key=APP_ID, jwt_secret="", jwt_algorithm="RS256", jwt_private_key=rsa_pair[0],
                                  jwt_public_key=rsa_pair[1], key_id="portal/key-1", jwt_audience="meet-audience")


def jitsi_meeting(account, **settings):
    return MeetingFactory(organization=account.organization, provider="jitsi", provider_account=account, **settings)


def enter(invitation) -> Client:
    browser = Client()
    assert browser.post(f"/j/{invitation.token}").status_code == 302
    return browser


def attributes(page: str, element_id: str) -> dict[str, str]:
    tag = re.search(r'<[a-z]+\s[^>]*\bid="' + element_id + r'"[^>]*>', page).group(0)
    return {name: unescape(value) for name, value in re.findall(r'([a-z-]+)="([^"]*)"', tag)}


def room_token(response) -> str:
    """The JWT in the room page's body (the page sends it to the frame by postMessage)."""
    assert response.status_code == 200
    return attributes(response.content.decode(), "jitsi-frame")["data-jwt"]


def entered_token(invitation) -> str:
    return room_token(enter(invitation).get(f"/j/{invitation.token}/room/"))


def on_frame_host() -> Client:
    return Client(HTTP_HOST=FRAME_HOST)


def frame_address(room: str, domain: str = DOMAIN) -> str:
    return f"/jitsi-frame/?{urlencode({'domain': domain, 'room': room})}"


def directives(response) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in response["Content-Security-Policy"].split("; ")}


def decode_hs(token: str, audience: str = "jitsi") -> dict:
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    return jwt.decode(token, SECRET, algorithms=["HS256"], audience=audience, leeway=0)


def window_of(meeting):
    sitting = meeting.occurrences.get()
    return (int((sitting.start - timedelta(minutes=django_settings.JOIN_OPENS_MINUTES_BEFORE)).timestamp()),
            int((sitting.end + timedelta(minutes=django_settings.JOIN_GRACE_MINUTES_AFTER)).timestamp()))


@pytest.mark.parametrize(("role", "moderator", "recording"), [
    ("host", True, True), ("moderator", True, True), ("participant", False, False), ("interpreter", False, False)])
def test_the_frame_carries_an_hs256_token_with_every_claim_for_the_role(account, role, moderator, recording):
    meeting = jitsi_meeting(account, recording_allowed=True)
    person = InvitationFactory(meeting=meeting, display_name="Ada Lovelace", role=role, email="ada@example.net",
                               language="fr" if role == "interpreter" else "")
    claims = decode_hs(entered_token(person))
    opens, ends = window_of(meeting)
    assert set(claims) == CLAIMS
    assert (claims["iss"], claims["aud"], claims["sub"]) == (APP_ID, "jitsi", DOMAIN)
    assert claims["room"] == room_name(meeting) == claims["room"].lower()
    assert "/" not in claims["room"] and "@" not in claims["room"]
    assert (claims["nbf"], claims["exp"]) == (opens, ends) and isinstance(claims["exp"], int)
    assert claims["moderator"] is moderator
    assert claims["context"]["user"] == {"id": person.peer_id, "name": "Ada Lovelace", "email": "ada@example.net",
                                         "avatar": "", "moderator": moderator,
                                         "affiliation": "owner" if moderator else "member"}
    features = claims["context"]["features"]
    assert (features["recording"], features["livestreaming"], features["transcription"]) == (recording,) * 3
    assert features["screen-sharing"] is (role != "interpreter")
    assert features["outbound-call"] is False and features["sip-outbound-call"] is False


def test_no_recording_feature_for_anyone_when_the_meeting_does_not_allow_it(account):
    meeting = jitsi_meeting(account, recording_allowed=False)
    host = InvitationFactory(meeting=meeting, role="host")
    claims = decode_hs(entered_token(host))
    assert claims["moderator"] is True and claims["context"]["features"]["recording"] is False


def test_empty_strings_never_null_for_a_person_without_email(account):
    meeting = jitsi_meeting(account)
    guest = InvitationFactory(meeting=meeting, display_name="Guest")
    type(guest).objects.filter(pk=guest.pk).update(email="")  # a guest of an open link has none
    user = decode_hs(entered_token(guest))["context"]["user"]
    assert user["email"] == "" and user["avatar"] == "" and all(isinstance(user[k], str) for k in
                                                                  ("id", "name", "email", "avatar"))


def test_rs256_tokens_carry_the_key_id_and_verify_with_the_public_key(rs_account, rsa_pair):
    meeting = jitsi_meeting(rs_account)
    person = InvitationFactory(meeting=meeting, role="participant")
    token = entered_token(person)

    assert jwt.get_unverified_header(token) == {"alg": "RS256", "typ": "JWT", "kid": "portal/key-1"}
    claims = jwt.decode(token, rsa_pair[1], algorithms=["RS256"], audience="meet-audience", leeway=0)
    assert (claims["iss"], claims["sub"], claims["room"]) == (APP_ID, DOMAIN, room_name(meeting))
    assert claims["context"]["user"]["affiliation"] == "member" and claims["moderator"] is False
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, new_rsa_pair()[1], algorithms=["RS256"], audience="meet-audience")
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(token, rsa_pair[1], algorithms=["RS256"], audience="jitsi")


def test_the_token_window_is_narrowed_by_the_invitations_own_window(account):
    meeting = jitsi_meeting(account)
    sitting = meeting.occurrences.get()
    person = InvitationFactory(meeting=meeting)
    person.valid_from = timezone.now().replace(microsecond=0) - timedelta(minutes=1)
    person.valid_until = sitting.start + timedelta(minutes=20)
    person.save()
    claims = decode_hs(entered_token(person))
    assert claims["nbf"] == int(person.valid_from.timestamp())
    assert claims["exp"] == int(person.valid_until.timestamp())


def test_the_room_page_frames_the_frame_origin_and_holds_the_token_only_in_its_body(account):
    meeting = jitsi_meeting(account)
    person = InvitationFactory(meeting=meeting, role="host")
    response = enter(person).get(f"/j/{person.token}/room/")
    page = response.content.decode()
    frame = attributes(page, "jitsi-frame")

    assert response.status_code == 200
    assert frame["sandbox"] == "allow-scripts allow-same-origin allow-popups allow-forms"
    assert frame["allow"] == "camera; microphone; display-capture; autoplay; fullscreen"
    assert frame["referrerpolicy"] == "no-referrer"  # the room page's address holds the join link
    assert frame["data-src"] == f"{FRAME_ORIGIN}/jitsi-frame/?domain={DOMAIN}&room={room_name(meeting)}"
    assert frame["data-frame-origin"] == FRAME_ORIGIN
    token = frame["data-jwt"]
    assert token.startswith("eyJ") and page.count(token) == 1 and token not in frame["data-src"]
    assert person.token not in frame["data-src"]
    policy = directives(response)
    assert policy["frame-src"] == [FRAME_ORIGIN] and policy["script-src"] == ["'self'"]
    assert policy["connect-src"] == ["'self'"] and DOMAIN not in response["Content-Security-Policy"]
    for feature in ("camera", "microphone", "display-capture"):
        assert f'{feature}=(self "{FRAME_ORIGIN}")' in response["Permissions-Policy"]
    assert DOMAIN not in response["Permissions-Policy"]
    assert "no-store" in response["Cache-Control"]


def test_only_the_browser_holding_the_join_session_gets_the_token(account):
    meeting = jitsi_meeting(account)
    person = InvitationFactory(meeting=meeting)
    browser = enter(person)
    stranger = Client().get(f"/j/{person.token}/room/")
    assert stranger.status_code == 302 and b"eyJ" not in stranger.content
    joining.remove_from_room(JoinSession.objects.get(invitation=person))
    ended = browser.get(f"/j/{person.token}/room/")
    assert ended.status_code == 401 and b"eyJ" not in ended.content


def test_the_frame_document_has_its_own_strict_policy_and_no_secret(account):
    meeting = jitsi_meeting(account)
    response = on_frame_host().get(frame_address(room_name(meeting)))
    body = response.content.decode()

    assert response.status_code == 200
    policy = dict(part.split(" ", 1) for part in response["Content-Security-Policy"].split("; "))
    assert policy["script-src"] == f"{FRAME_ORIGIN}/static/jitsi_frame.js https://{DOMAIN}/external_api.js"
    assert policy["frame-src"] == f"https://{DOMAIN}"
    assert policy["frame-ancestors"] == "http://testserver"  # SITE_URL's origin
    assert policy["connect-src"] == policy["default-src"] == "'none'"
    assert "unsafe" not in response["Content-Security-Policy"]
    for feature in ("camera", "microphone", "display-capture"):
        assert f'{feature}=(self "https://{DOMAIN}")' in response["Permissions-Policy"]
    assert response["Cache-Control"] == "no-store" and response["Referrer-Policy"] == "no-referrer"
    assert "X-Frame-Options" not in response  # frame-ancestors says who may frame it
    assert not response.cookies
    assert f'<script src="https://{DOMAIN}/external_api.js"></script>' in body
    assert f'<script src="{FRAME_ORIGIN}/static/jitsi_frame.js"></script>' in body
    assert "<script>" not in body  # no inline script
    assert attributes(body, "jitsi") == {"id": "jitsi", "data-domain": DOMAIN, "data-room": room_name(meeting),
                                         "data-portal": "http://testserver", "data-no-ssl": "false"}
    assert "eyJ" not in body and "jwt" not in body


def test_the_frame_host_serves_the_frame_and_its_script_only(account):
    person = InvitationFactory(meeting=jitsi_meeting(account))
    browser = enter(person)  # a test client sends its cookies to every host: the middleware still refuses
    browser.defaults["HTTP_HOST"] = FRAME_HOST
    before = JoinSession.objects.count()

    for address in ("/", "/login/", "/admin/", f"/j/{person.token}", f"/j/{person.token}/room/",
                    f"/j/{person.token}/room/state", "/o/acme/", "/static/portal.js", "/static/room_jitsi.js",
                    "/jitsi-frame", "/jitsi-frame/x"):
        response = browser.get(address)
        assert response.status_code == 404, address
        assert response["Content-Type"].startswith("text/plain") and not response.cookies, address
    assert browser.post(f"/j/{person.token}").status_code == 404
    assert browser.post(f"/j/{person.token}/leave").status_code == 404
    assert JoinSession.objects.count() == before and JoinSession.objects.get().ended_at is None

    script = browser.get("/static/jitsi_frame.js")
    assert script.status_code == 200 and "javascript" in script["Content-Type"]
    assert browser.get(frame_address(room_name(person.meeting))).status_code == 200
    assert browser.post(frame_address(room_name(person.meeting))).status_code == 405


def test_the_frame_answers_404_on_the_portals_own_host_and_without_the_setting(account, settings):
    meeting = jitsi_meeting(account)
    person = InvitationFactory(meeting=meeting)
    browser = enter(person)
    assert browser.get(frame_address(room_name(meeting))).status_code == 404  # host testserver: the portal
    assert Client(HTTP_HOST="127.0.0.1").get(frame_address(room_name(meeting))).status_code == 404

    settings.JITSI_FRAME_ORIGIN = ""
    assert on_frame_host().get(frame_address(room_name(meeting))).status_code == 404
    assert on_frame_host().get("/login/").status_code == 200  # without the setting that host is nothing special


def test_the_frame_runs_only_the_domain_of_an_enabled_jitsi_account(account):
    room = "portal" + "a" * 32
    assert on_frame_host().get(f"/jitsi-frame/?domain={DOMAIN}&room={room}").status_code == 200
    stranger = on_frame_host().get(f"/jitsi-frame/?domain=meet.attacker-owned.com&room={room}")
    assert stranger.status_code == 404 and "external_api" not in stranger.content.decode()
    account.enabled = False
    account.save()
    assert on_frame_host().get(f"/jitsi-frame/?domain={DOMAIN}&room={room}").status_code == 404


@pytest.mark.parametrize("query", [
    "", f"domain={DOMAIN}", "room=portal" + "a" * 32, f"domain={DOMAIN}&room=portal", f"domain={DOMAIN}&room=x",
    f"domain={DOMAIN}&room=portal{'g' * 32}", f"domain={DOMAIN}&room=portal{'a' * 32}%0A",
    f"domain={DOMAIN}&room=PORTAL{'A' * 32}", "domain=127.0.0.1&room=portal" + "a" * 32,
    "domain=evil.example.com%2Fx&room=portal" + "a" * 32, "domain=evil.example.com%0D%0AX:y&room=portal" + "a" * 32,
    "domain=evil.example.com:8443&room=portal" + "a" * 32, "domain=a%40evil.example.com&room=portal" + "a" * 32,
    "domain=meet.localhost&room=portal" + "a" * 32, "domain=" + "a" * 5000 + "&room=portal" + "a" * 32,
    "domain=%C3%BC.example.com&room=portal" + "a" * 32, "domain[]=x&room[]=y",
])
def test_bad_frame_addresses_answer_400(query):
    response = on_frame_host().get(f"/jitsi-frame/?{query}")
    assert response.status_code == 400 and "Content-Security-Policy" in response
    assert "external_api" not in response.content.decode()


def test_without_a_frame_origin_a_jitsi_room_answers_a_clear_503_and_the_check_says_so(account, settings):
    person = InvitationFactory(meeting=jitsi_meeting(account))
    browser = enter(person)
    for value in ("", "http://testserver", "https://frames.testserver", "https://jitsi-frames.example.net/frames", "http://jitsi-frames.example.net",
                  "jitsi-frames.example.net", "https://user@jitsi-frames.example.net", "https://:443"):
        settings.JITSI_FRAME_ORIGIN = value
        response = browser.get(f"/j/{person.token}/room/")
        assert response.status_code == 503, value
        assert b"JITSI_FRAME_ORIGIN" in response.content and b"eyJ" not in response.content, value
        assert directives(response)["frame-src"] == ["'none'"] and directives(response)["script-src"] == ["'self'"]
        frame_check = get_provider("jitsi", account).check_connection()[1]
        assert frame_check.name == "Frame origin" and not frame_check.ok and "JITSI_FRAME_ORIGIN" in frame_check.detail
    settings.JITSI_FRAME_ORIGIN = ""
    assert b"operator must set JITSI_FRAME_ORIGIN" in browser.get(f"/j/{person.token}/room/").content


@pytest.mark.parametrize(("site_url", "value", "site"), [
    ("https://portal.example.co.uk", "https://jitsi-frame.example.co.uk", "example.co.uk"),
    ("https://meet.example.com", "https://jitsi-frames.example.com", "example.com"),
    ("https://a.b.example.com", "https://frames.example.com:8443", "example.com"),
    ("https://example.github.io", "https://frames.example.github.io", "example.github.io"),
])
def test_a_frame_origin_on_the_portals_own_site_is_refused_with_the_site_named(account, settings, site_url, value,
                                                                              site):
    settings.SITE_URL, settings.JITSI_FRAME_ORIGIN = site_url, value
    problem = setting_problem()
    assert "JITSI_FRAME_ORIGIN must be another site than the portal's SITE_URL" in problem
    assert configured_frame_origin() == ""
    if value.startswith("https://jitsi-frame"):  # a sibling, not a subdomain: only the site tells
        assert f"one site, {site}" in problem
    frame_check = get_provider("jitsi", account).check_connection()[1]
    assert frame_check.name == "Frame origin" and not frame_check.ok and frame_check.detail == problem
    person = InvitationFactory(meeting=jitsi_meeting(account))
    response = enter(person).get(f"/j/{person.token}/room/")
    assert response.status_code == 503 and b"another site" in response.content and b"eyJ" not in response.content


@pytest.mark.parametrize(("site_url", "value"), [
    ("https://example.github.io", "https://other.github.io"),  # github.io is a public suffix (private section)
    ("https://portal.example.co.uk", "https://frames.example-frames.co.uk"),
    ("https://meet.example.com", "https://jitsi-frames.example.net"),
    ("https://meet.example.com", "https://example.com.frames.example.org"),
])
def test_a_frame_origin_on_another_site_is_accepted(account, settings, site_url, value):
    settings.SITE_URL, settings.JITSI_FRAME_ORIGIN = site_url, value
    assert setting_problem() == "" and configured_frame_origin() == value
    frame_check = get_provider("jitsi", account).check_connection()[1]
    assert frame_check.ok and value in frame_check.detail
    person = InvitationFactory(meeting=jitsi_meeting(account))
    page = enter(person).get(f"/j/{person.token}/room/")
    assert page.status_code == 200 and attributes(page.content.decode(), "jitsi-frame")["data-frame-origin"] == value


@pytest.mark.parametrize(("host", "site"), [
    ("portal.example.co.uk", "example.co.uk"), ("Jitsi-Frame.Example.CO.UK.", "example.co.uk"),
    ("example.github.io", "example.github.io"), ("github.io", "github.io"), ("127.0.0.1", "127.0.0.1"),
    ("[::1]", "[::1]"), ("localhost", "localhost"), ("a.b.c.example.com", "example.com"),
])
def test_a_site_is_the_registrable_domain_by_the_public_suffix_list(host, site):
    assert site_of(host) == site


def test_the_frame_hosts_name_is_allowed_when_the_setting_is_given():
    environment = {**os.environ, "JITSI_FRAME_ORIGIN": FRAME_ORIGIN + "/", "ALLOWED_HOSTS": "portal.example.com"}
    shown = subprocess.run([sys.executable, "-c", "from portal import settings; "
                            "print(settings.ALLOWED_HOSTS, settings.JITSI_FRAME_ORIGIN)"],
                           env=environment, capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert shown.strip() == f"['portal.example.com', '{FRAME_HOST}'] {FRAME_ORIGIN}"


def test_an_account_whose_stored_domain_is_invalid_answers_503_not_500(account):
    meeting = jitsi_meeting(account)
    person = InvitationFactory(meeting=meeting)
    type(account).objects.filter(pk=account.pk).update(meet_domain="127.0.0.1")  # bypassing the form
    browser = enter(person)
    assert browser.get(f"/j/{person.token}/room/").status_code == 503
    assert on_frame_host().get(frame_address(room_name(meeting), domain="127.0.0.1")).status_code == 400


def test_the_test_only_base_url_points_the_frame_at_a_stand_in(account, settings):
    settings.JITSI_BASE_URL = "http://127.0.0.1:9"
    meeting = jitsi_meeting(account)
    person = InvitationFactory(meeting=meeting)
    page = enter(person).get(f"/j/{person.token}/room/").content.decode()
    assert attributes(page, "jitsi-frame")["data-src"] == (f"{FRAME_ORIGIN}/jitsi-frame/?domain=127.0.0.1%3A9"
                                                          f"&room={room_name(meeting)}")
    response = on_frame_host().get(frame_address(room_name(meeting), domain="127.0.0.1:9"))
    assert "frame-src http://127.0.0.1:9;" in response["Content-Security-Policy"]
    body = response.content.decode()
    assert 'data-domain="127.0.0.1:9"' in body and 'data-no-ssl="true"' in body
    # With the stand-in set, no other domain is framed.
    assert on_frame_host().get(frame_address(room_name(meeting))).status_code == 400


@pytest.mark.parametrize(("values", "field"), [
    ({"meet_domain": "https://meet.example.org/x"}, "meet_domain"),
    ({"meet_domain": "10.0.0.5"}, "meet_domain"),
    ({"meet_domain": "jitsi.internal"}, "meet_domain"),
    ({"api_key": ""}, "api_key"),
    ({"api_secret": ""}, "api_secret"),
    ({"api_secret": "short"}, "api_secret"),
    ({"jwt_algorithm": "RS256", "key_id": "k1", "jwt_private_key": ""}, "jwt_private_key"),
    ({"jwt_algorithm": "RS256", "key_id": "k1", "jwt_private_key": "not a key"}, "jwt_private_key"),
    ({"jwt_algorithm": "RS256", "key_id": "", "jwt_private_key": "rsa"}, "key_id"),
    ({"jwt_algorithm": "HS512"}, "jwt_algorithm"),
])
def test_account_problems_name_the_field(values, field, rsa_pair):
    good = {"meet_domain": DOMAIN, "api_key": APP_ID, "api_secret": SECRET, "jwt_algorithm": "HS256",
            "jwt_private_key": "", "key_id": ""}
    if values.get("jwt_private_key") == "rsa":
        values = {**values, "jwt_private_key": rsa_pair[0]}
    provider = get_provider("jitsi")
    assert provider.account_problems(good) == {}
    assert provider.account_problems({**good, "jwt_algorithm": "RS256", "key_id": "k1",
                                      "jwt_private_key": rsa_pair[0], "api_secret": ""}) == {}
    assert field in provider.account_problems({**good, **values})


def test_the_account_form_and_the_connection_check_explain_who_is_a_moderator(account):
    provider = get_provider("jitsi", account)
    assert "mod_token_affiliation" in MODERATOR_NOTE and "every" in MODERATOR_NOTE.lower()
    assert str(MODERATOR_NOTE) in provider.account_problems({"api_secret": ""})["api_secret"]
    checks = provider.check_connection()
    assert [c.ok for c in checks] == [True, True, True] and checks[2].detail == MODERATOR_NOTE
    assert checks[1].name == "Frame origin" and FRAME_ORIGIN in checks[1].detail
    assert SECRET not in " ".join(c.detail for c in checks)


def test_moderation_is_the_portals_own_and_nothing_is_synced(account):
    meeting = jitsi_meeting(account)
    person = InvitationFactory(meeting=meeting)
    provider = get_provider("jitsi", account)
    caps = provider.capabilities
    assert (caps.remove_participant, caps.statistics, caps.webhooks, caps.webinar) == (False,) * 4
    assert provider.remove_participant(meeting=meeting, invitation=person) is False
    assert provider.end_room(meeting=meeting, occurrence=None) is False
    with pytest.raises(NotSupported):
        provider.fetch_recordings(meeting=meeting)
    with pytest.raises(NotSupported):
        provider.fetch_sitting(meeting=meeting, start=timezone.now(), end=timezone.now())
    assert provider.meeting_for_room(room_name(meeting)) == meeting
    assert provider.meeting_for_room("portalnothex") is None
