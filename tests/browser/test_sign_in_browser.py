"""A person signs in through their organization's identity provider in headless Chromium."""

import pytest

from accounts.models import Membership

from ..factories import IdentityProviderFactory
from .conftest import assert_accessible

pytestmark = pytest.mark.browser


def sign_in_at_idp(page, live_server, idp, identifier, *, password):
    """Type the identifier on the portal's sign-in page, then sam's credentials at the IdP's form."""
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Work email or organization short name").fill(identifier)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{idp.issuer}/authorize*")
    page.fill("#username", "sam")
    page.fill("#password", password)
    page.click("#submit")


@pytest.fixture
def acme_with_idp(acme, idp_a, live_server, settings):
    settings.SITE_URL = live_server.url  # the callback address registered at the identity provider
    IdentityProviderFactory(organization=acme, issuer=idp_a.issuer, client_id="acme-browser",
                            client_secret="browser-secret", allowed_email_domains="acme.test",
                            group_roles={"hosts": "host"}, provision_unknown_users=True)
    idp_a.add_client("acme-browser", "browser-secret", [live_server.url])
    idp_a.misbehave()
    idp_a.add_user("sam", password="sam-pass", email="sam@acme.test", name="Sam Carter", groups=["hosts"])
    return acme


def test_sign_in_at_the_identity_provider_lands_on_the_dashboard_and_sign_out_ends_both(
        page, live_server, acme_with_idp, idp_a, screenshot):
    sign_in_at_idp(page, live_server, idp_a, "sam@acme.test", password="sam-pass")

    page.wait_for_url(f"{live_server.url}/o/acme/")
    assert page.get_by_role("heading", level=1).inner_text() == "Acme"
    assert "Your role: Host" in page.inner_text("main")
    assert page.get_by_role("link", name="Sam Carter").is_visible()
    screenshot("sign-in-dashboard")
    assert_accessible(page, "the dashboard")
    assert Membership.objects.get(user__email="sam@acme.test").role == "host"

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{live_server.url}/login/")
    page.goto(f"{live_server.url}/o/acme/")
    assert page.url.startswith(f"{live_server.url}/login/")


def test_wrong_password_at_the_idp_keeps_the_person_out(page, live_server, acme_with_idp, idp_a):
    sign_in_at_idp(page, live_server, idp_a, "acme", password="wrong")

    assert page.inner_text("#error") == "Wrong username or password."
    page.goto(f"{live_server.url}/o/acme/")
    assert page.url.startswith(f"{live_server.url}/login/")
