"""Sign-in through each organization's own identity provider, a real OIDC server over HTTP."""

import time
from urllib.parse import parse_qs, urlsplit, urlunsplit

import pytest
import requests

from accounts.models import Membership, OIDCIdentity, User

from .factories import IdentityProviderFactory, MembershipFactory, UserFactory

PORTAL = "http://testserver"


@pytest.fixture(autouse=True)
def _portal_address(settings):
    """The callback address the portal registers and sends is SITE_URL's."""
    settings.SITE_URL = PORTAL


@pytest.fixture
def acme_idp(acme, idp_a):
    idp = IdentityProviderFactory(
        organization=acme, issuer=idp_a.issuer, client_id="acme-portal", client_secret="acme-secret",
        allowed_email_domains="acme.test", group_roles={"portal-admins": "admin", "hosts": "host"},
        provision_unknown_users=True)
    idp_a.add_client("acme-portal", "acme-secret", [PORTAL])
    idp_a.misbehave()
    return idp


@pytest.fixture
def globex_idp(charlie, idp_b):
    idp = IdentityProviderFactory(
        organization=charlie.organization, issuer=idp_b.issuer, client_id="globex-portal",
        client_secret="globex-secret", allowed_email_domains="globex.test", provision_unknown_users=True)
    idp_b.add_client("globex-portal", "globex-secret", [PORTAL])
    idp_b.misbehave()
    return idp


def start(client, slug, query=""):
    response = client.get(f"/oidc/{slug}/authenticate/{query}")
    assert response.status_code == 302
    return response["Location"]


def come_back(client, callback_url):
    parts = urlsplit(callback_url)
    assert f"{parts.scheme}://{parts.netloc}" == PORTAL and parts.path == "/oidc/callback/"
    return client.get(f"{parts.path}?{parts.query}")


def sign_in(client, idp, slug, username, browser=None):
    return come_back(client, idp.sign_in(start(client, slug), username, session=browser))


def assert_signed_out(client):
    assert client.get("/o/acme/")["Location"].startswith("/login/")


def test_authorization_request_uses_pkce_state_and_nonce(client, acme_idp, idp_a):
    authorize = urlsplit(start(client, "acme"))
    params = parse_qs(authorize.query)
    assert f"{authorize.scheme}://{authorize.netloc}{authorize.path}" == f"{idp_a.issuer}/authorize"
    assert params["client_id"] == ["acme-portal"]
    assert params["code_challenge_method"] == ["S256"] and len(params["code_challenge"][0]) >= 43
    assert len(params["state"][0]) >= 32 and len(params["nonce"][0]) >= 32
    assert params["scope"] == ["openid email profile"]


def test_behind_a_proxy_the_callback_is_the_sites_address_not_the_requests_host(client, acme_idp, idp_a, settings):
    settings.ALLOWED_HOSTS = ["internal-web", "testserver"]
    authorize = urlsplit(client.get("/oidc/acme/authenticate/", HTTP_HOST="internal-web:8000")["Location"])

    assert parse_qs(authorize.query)["redirect_uri"] == [f"{PORTAL}/oidc/callback/"]
    # and the code is exchanged with the same address, which the identity provider checks
    idp_a.add_user("sam", email="sam@acme.test", groups=["hosts"])
    response = come_back(client, idp_a.sign_in(urlunsplit(authorize), "sam"))
    assert response.status_code == 302 and response["Location"] == "/o/acme/"


def test_person_of_idp_a_lands_in_acme_with_mapped_role_and_cannot_reach_globex(
        client, acme_idp, globex_idp, idp_a):
    idp_a.add_user("dana", email="dana@acme.test", name="Dana Scully", groups=["hosts"])

    response = sign_in(client, idp_a, "acme", "dana")

    assert response.status_code == 302 and response["Location"] == "/o/acme/"
    dana = User.objects.get(email="dana@acme.test")
    assert dana.full_name == "Dana Scully"
    assert Membership.objects.get(user=dana, organization=acme_idp.organization).role == "host"
    assert OIDCIdentity.objects.filter(user=dana, issuer=idp_a.issuer, subject="sub-dana").exists()
    assert client.get("/o/acme/").status_code == 200
    assert client.get("/o/globex/").status_code == 404
    assert client.get("/o/globex/members/").status_code == 404


def test_groups_change_the_role_at_the_next_sign_in(client, acme_idp, idp_a):
    idp_a.add_user("erin", email="erin@acme.test", groups=["hosts"])
    sign_in(client, idp_a, "acme", "erin")
    client.post("/logout/")
    idp_a.add_user("erin", groups=["portal-admins", "hosts"])

    sign_in(client, idp_a, "acme", "erin")

    assert Membership.objects.get(user__email="erin@acme.test").role == "admin"


def test_people_are_recognised_by_subject_when_their_email_changes(client, acme_idp, idp_a):
    idp_a.add_user("fay", email="fay@acme.test")
    sign_in(client, idp_a, "acme", "fay")
    first = User.objects.get(email="fay@acme.test")
    client.post("/logout/")
    idp_a.add_user("fay", email="fay.new@acme.test")

    sign_in(client, idp_a, "acme", "fay")

    first.refresh_from_db()
    assert first.email == "fay.new@acme.test"
    assert User.objects.filter(email__startswith="fay").count() == 1


def test_another_subject_with_a_known_email_does_not_take_over_the_account(client, acme_idp, idp_a):
    idp_a.add_user("gus", email="gus@acme.test")
    sign_in(client, idp_a, "acme", "gus")
    client.post("/logout/")
    idp_a.add_user("impostor", sub="someone-else", email="gus@acme.test")

    response = sign_in(client, idp_a, "acme", "impostor")

    assert response.status_code == 403
    assert b"already exists" in response.content
    assert_signed_out(client)


def test_an_idp_cannot_claim_a_person_of_another_organization(client, acme_idp, charlie, idp_a):
    acme_idp.allowed_email_domains = ""
    acme_idp.save()
    idp_a.add_user("mallory", email=charlie.user.email)

    response = sign_in(client, idp_a, "acme", "mallory")

    assert response.status_code == 403
    assert not OIDCIdentity.objects.filter(user=charlie.user).exists()


def test_unverified_email_is_not_trusted(client, acme_idp, idp_a):
    idp_a.add_user("hal", email="hal@acme.test", email_verified=False)

    response = sign_in(client, idp_a, "acme", "hal")

    assert response.status_code == 403
    assert b"did not confirm an email address" in response.content
    assert not User.objects.filter(email="hal@acme.test").exists()


def test_email_of_a_foreign_domain_is_refused(client, acme_idp, idp_a):
    idp_a.add_user("ivy", email="ivy@elsewhere.test")

    assert sign_in(client, idp_a, "acme", "ivy").status_code == 403
    assert not User.objects.filter(email="ivy@elsewhere.test").exists()


def test_unknown_people_are_refused_without_provisioning_but_members_get_in(client, acme_idp, idp_a):
    acme_idp.provision_unknown_users = False
    acme_idp.save()
    idp_a.add_user("jo", email="jo@acme.test")
    idp_a.add_user("kim", email="kim@acme.test")
    MembershipFactory(organization=acme_idp.organization, user=UserFactory(email="kim@acme.test"), role="host")

    refused = sign_in(client, idp_a, "acme", "jo")
    assert refused.status_code == 403 and b"not a member of Acme" in refused.content

    admitted = sign_in(client, idp_a, "acme", "kim")
    assert admitted["Location"] == "/o/acme/"
    assert OIDCIdentity.objects.get(subject="sub-kim").user.email == "kim@acme.test"


def test_tampered_state_is_refused_with_a_clear_page(client, acme_idp, idp_a):
    idp_a.add_user("lou", email="lou@acme.test")
    callback = idp_a.sign_in(start(client, "acme"), "lou")

    response = come_back(client, callback.replace("state=", "state=x"))

    assert response.status_code == 400
    assert b"Sign-in failed" in response.content and b"not valid" in response.content
    assert_signed_out(client)


def test_replayed_code_is_refused(client, acme_idp, idp_a):
    idp_a.add_user("max", email="max@acme.test")
    first_callback = idp_a.sign_in(start(client, "acme"), "max")
    come_back(client, first_callback)
    client.post("/logout/")
    used_code = parse_qs(urlsplit(first_callback).query)["code"][0]
    fresh_state = parse_qs(urlsplit(start(client, "acme")).query)["state"][0]

    response = client.get(f"/oidc/callback/?code={used_code}&state={fresh_state}")

    assert response.status_code == 403
    assert b"already used" in response.content
    assert_signed_out(client)


@pytest.mark.parametrize("misbehaviour, message", [
    ({"rogue_key": True}, b"Signature verification failed"),
    ({"aud": "some-other-app"}, b"issued for another application"),
    ({"exp_offset": -600}, b"has expired"),
])
def test_bad_id_tokens_are_refused(client, acme_idp, idp_a, misbehaviour, message):
    idp_a.add_user("ned", email="ned@acme.test")
    idp_a.misbehave(**misbehaviour)

    response = sign_in(client, idp_a, "acme", "ned")

    assert response.status_code == 403
    assert message in response.content
    assert not User.objects.filter(email="ned@acme.test").exists()
    assert_signed_out(client)


def test_signing_out_ends_the_session_at_the_identity_provider(client, acme_idp, idp_a):
    idp_a.add_user("oli", email="oli@acme.test")
    browser = requests.Session()
    sign_in(client, idp_a, "acme", "oli", browser=browser)
    id_token = client.session["oidc_id_token"]

    response = client.post("/logout/")

    end_session = urlsplit(response["Location"])
    params = parse_qs(end_session.query)
    assert f"{end_session.scheme}://{end_session.netloc}{end_session.path}" == f"{idp_a.issuer}/logout"
    assert params["id_token_hint"] == [id_token]
    assert params["post_logout_redirect_uri"] == [f"{PORTAL}/login/"]
    assert_signed_out(client)
    back = browser.get(response["Location"], allow_redirects=False)
    assert back.status_code == 302 and back.headers["Location"] == f"{PORTAL}/login/"
    # The identity provider's own session is gone: a silent sign-in now needs a login.
    silent = urlsplit(start(client, "acme", "?prompt=none"))
    answer = browser.get(f"{idp_a.issuer}/authorize?{silent.query}", allow_redirects=False)
    assert "error=login_required" in answer.headers["Location"]


def _expire_id_token(client):
    session = client.session
    session["oidc_id_token_expiration"] = time.time() - 1
    session.save()


def test_session_is_refreshed_silently_while_the_person_is_active_at_the_idp(client, acme_idp, idp_a):
    idp_a.add_user("pat", email="pat@acme.test")
    browser = requests.Session()
    sign_in(client, idp_a, "acme", "pat", browser=browser)
    _expire_id_token(client)

    refresh = client.get("/o/acme/members/")
    assert refresh.status_code == 302 and refresh["Location"].startswith("/oidc/acme/authenticate/?prompt=none")
    authorize = client.get(refresh["Location"])["Location"]
    callback = browser.get(authorize, allow_redirects=False).headers["Location"]
    back = come_back(client, callback)

    assert back["Location"] == "/o/acme/members/"
    assert client.get("/o/acme/members/").status_code == 200
    assert client.session["oidc_id_token_expiration"] > time.time()


def test_person_disabled_at_the_idp_loses_access_at_the_next_refresh(client, acme_idp, idp_a):
    idp_a.add_user("quinn", email="quinn@acme.test")
    browser = requests.Session()
    sign_in(client, idp_a, "acme", "quinn", browser=browser)
    idp_a.add_user("quinn", disabled=True)
    _expire_id_token(client)

    authorize = client.get(client.get("/o/acme/")["Location"])["Location"]
    callback = browser.get(authorize, allow_redirects=False).headers["Location"]
    assert "error=login_required" in callback
    response = come_back(client, callback)

    assert response.status_code == 403
    assert_signed_out(client)



def test_sign_in_page_sends_people_by_email_domain_or_short_name(client, acme_idp, globex_idp):
    by_email = client.post("/login/", {"identifier": " Dana@ACME.test "})
    by_slug = client.post("/login/", {"identifier": "globex"})
    unknown_domain = client.post("/login/", {"identifier": "someone@elsewhere.test"})
    unknown_slug = client.post("/login/", {"identifier": "no-such-org"})

    assert by_email["Location"] == "/oidc/acme/authenticate/"
    assert by_slug["Location"] == "/oidc/globex/authenticate/"
    assert unknown_domain["Location"] == "/login/password/"
    assert unknown_slug.status_code == 200 and b"No organization has that short name" in unknown_slug.content


def test_organizations_without_an_idp_sign_in_with_a_password(client, bob):
    bob.user.set_password("bobs long passphrase")
    bob.user.save()

    assert client.post("/login/", {"identifier": "acme"})["Location"] == "/login/password/"
    wrong = client.post("/login/password/", {"username": "bob@acme.test", "password": "nope"})
    right = client.post("/login/password/", {"username": "bob@acme.test", "password": "bobs long passphrase"})

    assert wrong.status_code == 200 and b"Please enter a correct" in wrong.content
    assert right.status_code == 302 and client.get("/")["Location"] == "/o/acme/"


def test_an_unreachable_idp_gets_a_clear_page(client, acme_idp):
    acme_idp.issuer = "http://127.0.0.1:9"
    acme_idp.save()

    response = client.get("/oidc/acme/authenticate/")

    assert response.status_code == 502 and b"could not reach your identity provider" in response.content


def test_a_disabled_idp_is_not_offered(client, acme_idp):
    acme_idp.enabled = False
    acme_idp.save()

    assert client.get("/oidc/acme/authenticate/").status_code == 404
    assert client.post("/login/", {"identifier": "acme"})["Location"] == "/login/password/"
