"""An owner sets up the organization's identity provider in the portal and tests it: a real sign-in
round trip with the test identity provider in a new tab, in Chromium, that signs nobody in."""

import pytest
from playwright.sync_api import expect

from accounts.models import IdentityProvider, OIDCIdentity, User

from ..factories import IdentityProviderFactory
from .conftest import assert_accessible, signed_in_page

pytestmark = pytest.mark.browser



@pytest.fixture
def test_idp(idp_a, live_server, settings):
    settings.SITE_URL = live_server.url
    idp_a.add_client("acme-browser-test", "browser-test-secret", [live_server.url])
    idp_a.misbehave()
    idp_a.add_user("nina", password="nina-pass", email="nina@acme.test", email_verified=True, name="Nina Test",
                   groups=["teachers"])
    return idp_a


def test_an_owner_sets_up_and_tests_the_identity_provider(new_context, live_server, alice, test_idp):
    context = new_context(viewport={"width": 1200, "height": 800}, timezone_id="Europe/Berlin")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = signed_in_page(context, live_server.url, alice.user)  # the portal's own sign-in, not the IdP's
    page.goto(f"{live_server.url}/o/acme/")
    page.get_by_role("link", name="Sign-in", exact=True).click()
    expect(page.get_by_role("heading", name="Identity provider", exact=True)).to_be_visible()
    assert_accessible(page, "the identity-provider page")

    callback = page.get_by_label("Redirect URL")
    expect(callback).to_have_value(f"{live_server.url}/oidc/callback/")
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == f"{live_server.url}/oidc/callback/"

    page.get_by_label("Issuer URL").fill(test_idp.issuer)
    page.get_by_label("Client ID").fill("acme-browser-test")
    page.get_by_label("Client secret").fill("browser-test-secret")
    page.get_by_label("Scopes").fill("openid email profile groups")
    page.get_by_label("Allowed email domains").fill("acme.test")
    names, roles = page.get_by_label("Group name"), page.get_by_label("Role for this group")
    names.nth(0).fill("teachers")
    roles.nth(0).select_option("host")
    page.get_by_role("button", name="Add a group").click()
    names.nth(1).fill("staff")
    roles.nth(1).select_option("admin")
    page.get_by_role("button", name="Add a group").click()
    names.nth(2).fill("mistake")
    page.get_by_role("button", name="Remove").nth(2).click()
    expect(names).to_have_count(2)
    page.get_by_label("Add people the portal does not know yet at their first sign-in").check()
    page.get_by_role("button", name="Save").click()

    expect(page.locator(".messages")).to_contain_text("identity provider settings were saved")
    saved = IdentityProvider.objects.get(organization=alice.organization)
    assert saved.group_roles == {"teachers": "host", "staff": "admin"} and saved.client_secret == "browser-test-secret"
    expect(page.get_by_label("Client secret")).to_have_value("")  # write-only: never sent back
    expect(page.locator("#identity-provider-form")).to_contain_text("A secret is set")
    page.screenshot(path="test-artifacts/idp-settings.png", full_page=True)

    with context.expect_page() as opened:
        page.get_by_role("button", name="Test sign-in").click()
    tab = opened.value
    tab.wait_for_url(f"{test_idp.issuer}/authorize*")
    tab.fill("#username", "nina")
    tab.fill("#password", "nina-pass")
    tab.click("#submit")
    expect(tab.locator("#test-email")).to_have_text("nina@acme.test")
    expect(tab.locator("#test-verified")).to_have_text("yes")
    expect(tab.locator("#test-groups")).to_have_text("teachers")
    expect(tab.locator("#test-role")).to_have_text("Host")
    expect(tab.locator("#test-outcome")).to_have_text("This person would be signed in.")
    assert_accessible(tab, "the test sign-in result")
    tab.screenshot(path="test-artifacts/idp-test-result.png", full_page=True)

    # Nobody was signed in or added: the owner is still herself, in both tabs.
    assert not User.objects.filter(email="nina@acme.test").exists() and not OIDCIdentity.objects.exists()
    page.reload()
    expect(page.get_by_role("link", name=alice.user.display_name)).to_be_visible()
    tab.goto(f"{live_server.url}/account/")
    expect(tab.locator("main")).to_contain_text(alice.user.email)


def test_a_failed_test_shows_the_exact_error(new_context, live_server, alice, test_idp):
    IdentityProviderFactory(organization=alice.organization, issuer=test_idp.issuer, client_id="acme-browser-test",
                            client_secret="not-the-secret", group_roles={})
    context = new_context(viewport={"width": 390, "height": 844, "is_mobile": True})
    page = signed_in_page(context, live_server.url, alice.user)  # the portal's own sign-in, not the IdP's
    page.goto(f"{live_server.url}/o/acme/settings/identity-provider/")
    assert_accessible(page, "the identity-provider page on a phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path="test-artifacts/idp-settings-phone.png", full_page=True)

    with context.expect_page() as opened:
        page.get_by_role("button", name="Test sign-in").click()
    tab = opened.value
    tab.fill("#username", "nina")
    tab.fill("#password", "nina-pass")
    tab.click("#submit")
    expect(tab.locator("#test-error")).to_contain_text("The token endpoint refused the code: HTTP 401")
    assert not User.objects.filter(email="nina@acme.test").exists()
