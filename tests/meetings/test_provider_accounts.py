"""Organization admins manage provider accounts in the portal: secrets write-only and encrypted, an
RSA pair on request, and a connection check that says what works."""

import re

import jwt
import pytest
from django.db import connection

from accounts.models import Membership
from meetings.models import ProviderAccount
from meetings.providers import signing

from ..factories import ProviderAccountFactory

SECRETS = {"jwt_secret": "hs256-secret-" + "x" * 32, "api_token": "streaming-token-123",
           "webhook_secret": "Bearer webhook-456", "access_secret": "Basic access-789"}


@pytest.fixture
def admin(client, alice):
    client.force_login(alice.user)
    return client


def form(**overrides):
    return {"name": "Gcore EU", "provider": "gcore", "enabled": "on", "is_default": "on",
            "meet_domain": "https://acme.gvideo.co/", "default_region": "serv0", "jwt_algorithm": "HS256",
            "jwt_private_key": "", **SECRETS, **overrides}


def test_an_admin_adds_an_account_whose_secrets_are_encrypted_and_never_shown(admin, acme):
    assert "No provider accounts yet" in admin.get("/o/acme/providers/").content.decode()

    page = admin.post("/o/acme/providers/new/", form(), follow=True).content.decode()

    account = ProviderAccount.objects.get(organization=acme)
    assert account.meet_domain == "acme.gvideo.co" and account.api_token == SECRETS["api_token"]
    assert f"/providers/gcore/{account.code}/access" in page and f"/providers/gcore/{account.code}/events" in page
    listing = admin.get("/o/acme/providers/").content.decode()
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM meetings_provideraccount WHERE id = %s", [account.pk])
        stored = " ".join(str(value) for value in cursor.fetchone())
    for secret in SECRETS.values():
        assert secret not in page and secret not in listing and secret.split()[-1] not in stored


def test_saving_with_empty_secrets_keeps_them_and_a_new_key_invalidates_cached_signers(admin, acme):
    account = ProviderAccountFactory(organization=acme, **SECRETS)
    signing.signing_key(account)
    url = f"/o/acme/providers/{account.code}/"

    admin.post(url, form(name="Renamed", **{name: "" for name in SECRETS}))
    kept = ProviderAccount.objects.get(pk=account.pk)
    assert (kept.name, kept.api_token, kept.jwt_secret, kept.key_version) == (
        "Renamed", SECRETS["api_token"], SECRETS["jwt_secret"], account.key_version)

    admin.post(url, form(jwt_secret="a-brand-new-secret-" + "y" * 32))
    changed = ProviderAccount.objects.get(pk=account.pk)
    assert changed.key_version == account.key_version + 1
    assert signing.signing_key(changed) == "a-brand-new-secret-" + "y" * 32


def test_a_short_hs256_secret_is_refused_and_nothing_is_saved(admin, acme):
    page = admin.post("/o/acme/providers/new/", form(jwt_secret="short")).content.decode()

    # The portal's own words, or Gcore's account check's once the provider reports it.
    assert re.search(r"at least 32 bytes|it needs 32 or more", page) and not ProviderAccount.objects.exists()
    assert 'value="Gcore EU"' in page  # what was typed is kept, except the secrets


def test_an_admin_generates_an_rsa_pair_after_confirming_and_sees_only_its_public_half(admin, acme):
    account = ProviderAccountFactory(organization=acme)
    url = f"/o/acme/providers/{account.code}/keys/"
    assert "Generate a new key pair for Gcore?" in admin.get(url).content.decode()
    assert ProviderAccount.objects.get(pk=account.pk).jwt_algorithm == "HS256"

    page = admin.post(url, follow=True).content.decode()

    account.refresh_from_db()
    assert account.jwt_algorithm == "RS256" and "BEGIN PUBLIC KEY" in page
    assert "PRIVATE KEY" not in page
    token = signing.mint(account, {"roomId": "serv0x"})
    assert jwt.decode(token, account.jwt_public_key, algorithms=["RS256"]) == {"roomId": "serv0x"}


def test_check_connection_reports_each_part(admin, acme, gcore_api, settings):
    settings.GCORE_API_BASE_URL = settings.GCORE_SERVER_BASE_URL = gcore_api.url
    gcore_api.reset(SECRETS["api_token"])
    account = ProviderAccountFactory(organization=acme, **{**SECRETS, "access_secret": ""})

    page = admin.post(f"/o/acme/providers/{account.code}/check/", follow=True).content.decode()

    assert "✓ Join tokens (HS256)</strong>: Signed and verified" in page
    assert "✓ Streaming API (recordings and statistics)</strong>: The API token was accepted." in page
    assert f"✓ Meet server for Luxembourg</strong>: {gcore_api.url} answered (400)" in page
    assert "✓ Access check</strong>: Not used: rights travel in the signed token" in page  # JWT mode
    account.join_mode = "access_check"
    account.save()
    page = admin.post(f"/o/acme/providers/{account.code}/check/", follow=True).content.decode()
    assert "✗ Access check secret</strong>: Not set" in page
    account.join_mode = "jwt"
    account.save()

    gcore_api.reset("another-token")
    page = admin.post(f"/o/acme/providers/{account.code}/check/", follow=True).content.decode()
    assert "✗ Streaming API (recordings and statistics)</strong>: Gcore refused" in page
    assert "Invalid API token" in page and "refused the API token (403)" in page
    assert SECRETS["api_token"] not in page


def test_the_connection_check_speaks_the_admins_language(admin, alice, acme, gcore_api, settings):
    settings.GCORE_API_BASE_URL = settings.GCORE_SERVER_BASE_URL = gcore_api.url
    gcore_api.reset(SECRETS["api_token"])
    alice.user.language = "de"
    alice.user.save()
    account = ProviderAccountFactory(organization=acme, **{**SECRETS, "webhook_secret": ""})

    page = admin.post(f"/o/acme/providers/{account.code}/check/", follow=True).content.decode()

    assert "✓ Beitritts-Tokens (HS256)</strong>: Ein Token wurde mit dem gemeinsamen Geheimnis signiert" in page
    assert "✓ Streaming-API (Aufzeichnungen und Statistiken)</strong>: Das API-Token wurde akzeptiert." in page
    assert f"✓ Meet-Server für Luxemburg</strong>: {gcore_api.url} hat geantwortet (400)" in page
    assert "✗ Geheimnis des Ereignis-Webhooks</strong>: Nicht gesetzt" in page


def test_only_organization_admins_manage_accounts(client, bob, acme):
    Membership.objects.filter(user=bob.user).update(role="host")
    account = ProviderAccountFactory(organization=acme)
    client.force_login(bob.user)

    assert client.get("/o/acme/providers/").status_code == 403
    assert client.post(f"/o/acme/providers/{account.code}/keys/").status_code == 403
    assert "Video providers" not in client.get("/o/acme/").content.decode()


def test_the_list_shows_each_account_only_what_its_provider_uses(admin, acme):
    ProviderAccountFactory(organization=acme, name="Gcore EU", meet_domain="acme.gvideo.co")
    ProviderAccountFactory(organization=acme, name="Our LiveKit", provider="livekit",
                           server_url="https://livekit.acme.example", meet_domain="stale.gvideo.co")
    ProviderAccountFactory(organization=acme, name="VideoSDK", provider="videosdk", meet_domain="stale.gvideo.co")

    page = admin.get("/o/acme/providers/").content.decode()

    rows = {re.sub(r"<[^>]+>", " ", row).split()[0]: " ".join(re.sub(r"<[^>]+>", " ", row).split())
            for row in re.findall(r"<tr>(.*?)</tr>", page, re.S)[1:]}
    assert "acme.gvideo.co HS256" in rows["Gcore"]
    assert "https://livekit.acme.example —" in rows["Our"] and "stale" not in rows["Our"]
    assert "VideoSDK VideoSDK — —" in rows["VideoSDK"]
