"""Owners set up the organization's identity provider in the portal and test it against a real
OIDC server, without anyone being signed in by the test."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from accounts.models import IdentityProvider, Membership, OIDCIdentity, User

from .factories import IdentityProviderFactory, MembershipFactory, UserFactory

SITE = "http://portal.test"
PAGE = "/o/acme/settings/identity-provider/"


@pytest.fixture
def site(settings):
    settings.SITE_URL = SITE
    return SITE


def form_data(idp, **changes):
    data = {"enabled": "on", "issuer": idp.issuer, "client_id": "acme-portal", "client_secret": "acme-secret",
            "scopes": "openid email profile groups", "allowed_email_domains": "acme.test, @Acme.example",
            "groups_claim": "groups", "provision_unknown_users": "on",
            "group_name": ["portal-admins", "teachers", ""], "group_role": ["admin", "host", "member"]}
    data.update(changes)
    return data


def test_an_owner_sets_up_the_identity_provider_and_sees_the_callback_url(as_alice, acme, idp_a, site):
    page = as_alice.get(PAGE).content.decode()
    assert f'value="{SITE}/oidc/callback/"' in page  # from SITE_URL, not from the request's host
    assert "Test sign-in" not in page  # nothing saved to test yet

    response = as_alice.post(PAGE, form_data(idp_a))

    assert response.status_code == 302
    saved = IdentityProvider.objects.get(organization=acme)
    assert (saved.issuer, saved.client_id, saved.client_secret) == (idp_a.issuer, "acme-portal", "acme-secret")
    assert saved.group_roles == {"portal-admins": "admin", "teachers": "host"}
    assert saved.allowed_email_domains == "acme.test, acme.example"
    assert saved.enabled and saved.provision_unknown_users
    page = as_alice.get(PAGE).content.decode()
    assert "acme-secret" not in page and "A secret is set" in page
    assert 'value="portal-admins"' in page and 'value="teachers"' in page


def test_the_secret_is_kept_when_left_empty_and_replaced_when_typed(as_alice, acme, idp_a, site):
    IdentityProviderFactory(organization=acme, issuer=idp_a.issuer, client_secret="old-secret")
    as_alice.post(PAGE, form_data(idp_a, client_secret=""))
    assert IdentityProvider.objects.get(organization=acme).client_secret == "old-secret"
    as_alice.post(PAGE, form_data(idp_a, client_secret="new-secret"))
    assert IdentityProvider.objects.get(organization=acme).client_secret == "new-secret"


def test_the_saved_secret_never_goes_to_another_issuer_or_client(as_alice, acme, idp_a, idp_b, site):
    """An owner who never saw the secret cannot point the portal at their own server to receive it."""
    IdentityProviderFactory(organization=acme, issuer=idp_a.issuer, client_id="acme-portal", client_secret="old-secret")

    for changes in ({"issuer": idp_b.issuer}, {"client_id": "another-client"}):
        page = as_alice.post(PAGE, form_data(idp_a, client_secret="", **changes)).content.decode()

        assert "Give the client secret again: the issuer or client ID changed." in page
        saved = IdentityProvider.objects.get(organization=acme)
        assert (saved.issuer, saved.client_id, saved.client_secret) == (idp_a.issuer, "acme-portal", "old-secret")


def test_removing_every_group_row_clears_the_mapping(as_alice, acme, idp_a, site):
    IdentityProviderFactory(organization=acme, issuer=idp_a.issuer, group_roles={"a": "host"})
    as_alice.post(PAGE, form_data(idp_a, group_name=[], group_role=[]))
    assert IdentityProvider.objects.get(organization=acme).group_roles == {}


def test_an_issuer_without_a_working_discovery_document_is_refused(as_alice, acme, idp_a, site):
    response = as_alice.post(PAGE, form_data(idp_a, issuer=idp_a.issuer + "/other"))
    assert response.status_code == 200
    assert "could not read this issuer" in response.content.decode()
    assert not IdentityProvider.objects.filter(organization=acme).exists()


@pytest.mark.parametrize("changes, text", [
    ({"issuer": "http://idp.example.com"}, "must be an https://"),
    ({"issuer": "not a url"}, "Enter a valid URL"),
    ({"client_secret": ""}, "Give the client secret"),
    ({"client_id": "a\x00b"}, "Null characters are not allowed"),
    ({"scopes": "email profile"}, "must include openid"),
    ({"scopes": "openid \"quoted\""}, "plain words"),
    ({"allowed_email_domains": "acme.test, not a domain!"}, "not a domain!"),
    ({"allowed_email_domains": "x" * 600}, "at most"),
    ({"group_name": ["hosts", "hosts"], "group_role": ["host", "admin"]}, "listed twice"),
    ({"group_name": ["bosses"], "group_role": ["owner"]}, "choose admin, host or member"),
    ({"group_name": ["a\nb"], "group_role": ["host"]}, "one line"),
    ({"group_name": ["x" * 300], "group_role": ["host"]}, "at most 200"),
    ({"groups_claim": "", "group_name": ["hosts"], "group_role": ["host"]}, "Name the groups claim"),
])
def test_bad_settings_get_a_message_and_nothing_is_saved(as_alice, acme, idp_a, site, changes, text):
    response = as_alice.post(PAGE, form_data(idp_a, **changes))
    assert response.status_code == 200
    assert text in response.content.decode()
    assert not IdentityProvider.objects.filter(organization=acme).exists()


def test_admins_get_403_outsiders_404_and_anonymous_the_sign_in_page(client, acme, charlie, idp_a, site):
    IdentityProviderFactory(organization=acme, issuer=idp_a.issuer, client_id="kept")
    admin = MembershipFactory(organization=acme, role="admin").user
    for who, status in ((admin, 403), (charlie.user, 404)):
        client.force_login(who)
        assert client.get(PAGE).status_code == status
        assert client.post(PAGE, form_data(idp_a, client_id="stolen")).status_code == status
        assert client.post(PAGE + "test/").status_code == status
    client.logout()
    assert client.get(PAGE)["Location"].startswith("/login/")
    assert client.post(PAGE + "test/")["Location"].startswith("/login/")
    assert IdentityProvider.objects.get(organization=acme).client_id == "kept"


def test_the_sign_in_tab_shows_for_owners_only(client, acme, alice):
    admin = MembershipFactory(organization=acme, role="admin").user
    client.force_login(admin)
    assert PAGE.encode() not in client.get("/o/acme/members/").content
    client.force_login(alice.user)
    assert PAGE.encode() in client.get("/o/acme/members/").content


# --- Test sign-in against the real test identity provider --------------------------------------

@pytest.fixture
def acme_idp(acme, idp_a, site):
    idp = IdentityProviderFactory(organization=acme, issuer=idp_a.issuer, client_id="acme-test",
                                  client_secret="acme-secret", allowed_email_domains="acme.test",
                                  group_roles={"portal-admins": "admin", "hosts": "host"},
                                  provision_unknown_users=False, enabled=False)
    idp_a.add_client("acme-test", "acme-secret", [SITE])
    idp_a.misbehave()
    idp_a.add_user("nina", email="nina@acme.test", email_verified=True, name="Nina Test", groups=["hosts", "x"])
    return idp


def run_test_sign_in(client, idp, username):
    start = client.post(PAGE + "test/")
    assert start.status_code == 302
    callback = idp.sign_in(start["Location"], username)
    parts = urlsplit(callback)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{SITE}/oidc/callback/"
    return callback, client.get(f"{parts.path}?{parts.query}")


def test_test_sign_in_shows_what_came_back_and_signs_nobody_in(as_alice, alice, acme_idp, idp_a):
    _, result = run_test_sign_in(as_alice, idp_a, "nina")

    page = result.content.decode()
    assert result.status_code == 200, page
    assert "nina@acme.test" in page and "Nina Test" in page and "hosts, x" in page
    assert '<dd id="test-role">Host</dd>' in page
    assert "would be refused" in page and "not added at sign-in" in page  # provisioning is off
    assert not User.objects.filter(email="nina@acme.test").exists() and not OIDCIdentity.objects.exists()
    assert as_alice.get("/account/").context["user"] == alice.user  # still signed in as the owner


def test_the_authorization_request_is_bound_to_the_owner_and_uses_pkce(as_alice, acme_idp, idp_a):
    params = parse_qs(urlsplit(as_alice.post(PAGE + "test/")["Location"]).query)
    assert params["redirect_uri"] == [f"{SITE}/oidc/callback/"] and params["code_challenge_method"] == ["S256"]
    assert params["client_id"] == ["acme-test"] and params["state"][0] and params["nonce"][0]


def test_a_test_callback_cannot_sign_anyone_in_nor_be_replayed(as_alice, acme_idp, idp_a):
    callback, _ = run_test_sign_in(as_alice, idp_a, "nina")
    query = urlsplit(callback).query

    stranger = Client()  # someone else's browser, with the owner's callback URL
    refused = stranger.get(f"/oidc/callback/?{query}")
    assert refused.status_code in (400, 403)
    assert stranger.get("/o/acme/")["Location"].startswith("/login/")
    replay = as_alice.get(f"/oidc/callback/?{query}")  # used once: the owner's session no longer holds it
    assert replay.status_code in (400, 403) and "Nina Test" not in replay.content.decode()
    assert not User.objects.filter(email="nina@acme.test").exists()


def test_a_test_started_by_an_owner_who_was_demoted_shows_nothing(as_alice, alice, acme_idp, idp_a):
    start = as_alice.post(PAGE + "test/")
    MembershipFactory(organization=alice.organization, role="owner", user=UserFactory(email="o2@acme.test"))
    Membership.objects.filter(pk=alice.pk).update(role="admin")
    callback = idp_a.sign_in(start["Location"], "nina")
    result = as_alice.get(urlsplit(callback).path + "?" + urlsplit(callback).query)
    assert result.status_code == 403 and "nina@acme.test" not in result.content.decode()


def test_with_provisioning_on_the_test_says_the_person_would_be_signed_in(as_alice, acme_idp, idp_a):
    IdentityProvider.objects.filter(pk=acme_idp.pk).update(provision_unknown_users=True)
    _, result = run_test_sign_in(as_alice, idp_a, "nina")
    assert "This person would be signed in." in result.content.decode()
    IdentityProvider.objects.filter(pk=acme_idp.pk).update(allowed_email_domains="")
    _, result = run_test_sign_in(as_alice, idp_a, "nina")
    assert "only for addresses of the allowed email domains" in result.content.decode()
    assert not User.objects.filter(email="nina@acme.test").exists()


def test_a_wrong_client_secret_shows_the_token_endpoints_answer(as_alice, acme_idp, idp_a):
    IdentityProvider.objects.filter(pk=acme_idp.pk).update(client_secret="")
    acme_idp.refresh_from_db()
    acme_idp.client_secret = "wrong-secret"
    acme_idp.save()
    _, result = run_test_sign_in(as_alice, idp_a, "nina")
    assert result.status_code == 400
    assert "token endpoint refused the code" in result.content.decode()


def test_a_token_for_another_audience_is_reported(as_alice, acme_idp, idp_a):
    idp_a.misbehave(aud="someone-else")
    _, result = run_test_sign_in(as_alice, idp_a, "nina")
    idp_a.misbehave()
    assert result.status_code == 400 and "issued for another application" in result.content.decode()
