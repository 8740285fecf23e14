"""Headers that keep a page to what it needs, and where a provider's script may come from.

The critical case: organization B typed a meet domain, and organization A's member who joins B's
meeting must never run script from that domain inside the portal's origin."""

import re
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from meetings.forms import ProviderAccountForm
from meetings.models import ProviderAccount

from .factories import GcoreMeetingFactory, InvitationFactory, MeetingFactory, ProviderAccountFactory

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
HOSTILE_DOMAINS = [
    "meet.gcore.com@127.0.0.1:8443", "host:8443", "https://evil.example.com/path", "evil.host/x", "127.0.0.1",
    "[::1]", "10.0.0.8", "localhost", "meet.localhost", "printer.local", "intranet.corp", "bücher.example",
    "evil .example.com", "-bad.example.com", "meet.gcore.com\\@evil.com", "a" * 64 + ".example.com", "example",
]


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split("; ")}


def joined(invitation) -> Client:
    browser = Client()
    assert browser.post(f"/j/{invitation.token}").status_code == 302
    return browser


@pytest.mark.parametrize("domain", HOSTILE_DOMAINS)
def test_a_meet_domain_must_be_a_bare_public_host_name(acme, domain):
    form = ProviderAccountForm(data={"name": "Gcore", "provider": "gcore", "enabled": "on",
                                     "meet_domain": domain, "default_region": "serv0", "jwt_algorithm": "HS256",
                                     "jwt_secret": "s" * 40})
    account = ProviderAccount(organization=acme, name="Gcore", meet_domain=domain, jwt_secret="s" * 40)

    assert not form.is_valid() and "meet_domain" in form.errors
    with pytest.raises(ValidationError):
        account.full_clean()


def test_the_pasted_address_of_a_public_host_is_kept_as_its_name(acme):
    form = ProviderAccountForm(data={"name": "Gcore", "provider": "gcore", "enabled": "on",
                                     "meet_domain": "https://Video.Acme-Corp.com/", "default_region": "serv0",
                                     "jwt_algorithm": "HS256", "jwt_secret": "s" * 40})

    assert form.is_valid(), form.errors
    assert form.cleaned_data["meet_domain"] == "video.acme-corp.com"


def test_a_provider_room_page_frames_and_scripts_only_that_providers_host(acme):
    account = ProviderAccountFactory(organization=acme, meet_domain="acme.gvideo.co")
    invitation = InvitationFactory(meeting=GcoreMeetingFactory(organization=acme, provider_account=account))

    response = joined(invitation).get(f"/j/{invitation.token}/room/")

    policy = directives(response)
    assert policy["frame-src"] == ["https://acme.gvideo.co"]
    assert policy["script-src"] == ["'self'", "https://acme.gvideo.co"]
    assert policy["connect-src"] == ["'self'"] and policy["frame-ancestors"] == ["'none'"]
    assert 'camera=(self "https://acme.gvideo.co")' in response["Permissions-Policy"]
    assert 'data-bridge="https://acme.gvideo.co/meetBridgeApi.js"' in response.content.decode()


def test_an_organizations_own_domain_is_framed_but_its_script_never_loads(acme):
    account = ProviderAccountFactory(organization=acme, meet_domain="video.acme-corp.com")
    invitation = InvitationFactory(meeting=GcoreMeetingFactory(organization=acme, provider_account=account))

    response = joined(invitation).get(f"/j/{invitation.token}/room/")

    assert directives(response)["script-src"] == ["'self'"]
    assert directives(response)["frame-src"] == ["https://video.acme-corp.com"]
    assert 'data-bridge=""' in response.content.decode()


def test_a_meet_domain_written_around_validation_never_reaches_a_page(acme):
    account = ProviderAccountFactory(organization=acme, meet_domain="acme.gvideo.co")
    invitation = InvitationFactory(meeting=GcoreMeetingFactory(organization=acme, provider_account=account))
    browser = joined(invitation)
    ProviderAccount.objects.filter(pk=account.pk).update(meet_domain="meet.gcore.com@127.0.0.1:8443")

    response = browser.get(f"/j/{invitation.token}/room/")

    assert response.status_code == 503
    assert b"127.0.0.1:8443" not in response.content and b"not set up correctly" in response.content
    assert directives(response)["script-src"] == ["'self'"] and directives(response)["frame-src"] == ["'none'"]


def test_every_kind_of_page_has_a_strict_policy(client, alice, acme):
    meeting = MeetingFactory(organization=acme, owner=alice.user)
    invitation = InvitationFactory(meeting=meeting)
    browser = joined(invitation)
    client.force_login(alice.user)
    pages = [Client().get("/login/"), client.get("/o/acme/"), client.get(f"/o/acme/meetings/{meeting.code}/"),
             Client().get(f"/j/{invitation.token}"), browser.get(f"/j/{invitation.token}/room/"),
             Client().get("/j/unknown-token"), client.get("/o/acme/providers/")]

    for response in pages:
        policy = directives(response)
        assert response.status_code in (200, 403, 404), response.status_code
        assert policy["script-src"] == ["'self'"], response.request["PATH_INFO"]
        assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]
        assert policy["base-uri"] == ["'none'"] and policy["frame-src"] == ["'none'"]
        assert "unsafe" not in response["Content-Security-Policy"]
        assert response["Referrer-Policy"] == "same-origin" and response["X-Frame-Options"] == "DENY"
        assert "geolocation=()" in response["Permissions-Policy"]


def test_templates_have_no_inline_script_or_event_handler():
    offenders = []
    for template in TEMPLATES.rglob("*.html"):
        if "email" in template.parts:
            continue
        text = template.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(r"\son[a-z]+\s*=", text):
            offenders.append(str(template.relative_to(TEMPLATES)))
    assert offenders == []


def test_pages_that_carry_a_secret_are_never_stored(client, alice, acme, django_capture_on_commit_callbacks):
    meeting = MeetingFactory(organization=acme, owner=alice.user)
    invitation = InvitationFactory(meeting=meeting)
    account = ProviderAccountFactory(organization=acme)
    client.force_login(alice.user)
    client.post("/account/calendar/")
    feed_path = re.search(r"/calendar/[\w-]+\.ics", client.get("/account/calendar/").content.decode()).group(0)
    browser = joined(invitation)

    secret_pages = [Client().get(f"/j/{invitation.token}"), browser.get(f"/j/{invitation.token}/room/"),
                    client.get(feed_path), client.get("/account/calendar/"), client.get("/o/acme/providers/"),
                    client.get(f"/o/acme/providers/{account.code}/"),
                    Client().get("/password/set/MQ/set-password/")]

    for response in secret_pages:
        assert "no-store" in response["Cache-Control"], response.request["PATH_INFO"]
    assert "no-store" not in Client().get("/login/").get("Cache-Control", "")


def test_head_on_a_join_link_answers_like_get_and_writes_nothing(acme):
    invitation = InvitationFactory(meeting=MeetingFactory(organization=acme))

    response = Client().head(f"/j/{invitation.token}")

    invitation.refresh_from_db()
    assert response.status_code == 200 and invitation.first_opened_at is None


def test_a_providers_recording_page_may_stream_from_the_providers_host_only(client, alice, acme):
    from meetings.models import Recording

    meeting = MeetingFactory(organization=acme, owner=alice.user)
    recording = Recording.objects.create(organization=acme, meeting=meeting, status="ready", visibility="organization",
                                         provider="gcore", provider_recording_id="77",
                                         hls_url="https://cdn.example-video.com/videos/77/master.m3u8")
    client.force_login(alice.user)

    for path in (f"/o/acme/recordings/{recording.code}/", f"/o/acme/meetings/{meeting.code}/"):
        policy = directives(client.get(path))
        assert policy["connect-src"] == ["'self'", "https://cdn.example-video.com"], path
        assert policy["media-src"] == ["'self'", "blob:", "https://cdn.example-video.com"], path
        assert policy["script-src"] == ["'self'"], path


def test_not_found_and_forbidden_pages_are_the_portals_own(client, bob):
    missing = client.get("/no/such/page/")
    client.force_login(bob.user)
    forbidden = client.get(f"/o/{bob.organization.slug}/integrations/api-keys/")

    assert missing.status_code == 404 and "Nothing here" in missing.content.decode()
    assert forbidden.status_code == 403 and "This page is not for you" in forbidden.content.decode()
    assert "admins" in forbidden.content.decode() and "Meeting portal" in forbidden.content.decode()
