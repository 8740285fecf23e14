"""An organization admin changes the organization's zone and language; a person whose device is in
another zone sees local times next to the page's and saves their device's zone, in Chromium."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import Organization, User
from accounts.services import membership_add

from ..factories import UserFactory
from .conftest import assert_accessible, sign_in_with_password

pytestmark = pytest.mark.browser



@pytest.mark.parametrize("viewport", [{"width": 1200, "height": 800},
                                      {"width": 390, "height": 844, "is_mobile": True}], ids=["desktop", "phone"])
def test_an_owner_sets_the_zone_and_language_in_the_settings_tab(new_context, live_server, alice, viewport):
    page = new_context(viewport=viewport, timezone_id="Europe/Berlin").new_page()
    sign_in_with_password(page, live_server.url, alice.user.email)

    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Organization settings")).to_be_visible()
    assert_accessible(page, "the organization settings page")
    page.get_by_label("Time zone").fill("Mars/Olympus")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".field.invalid .error")).to_contain_text("is not a time zone name")
    assert Organization.objects.get(slug="acme").timezone == "Europe/Berlin"

    page.get_by_label("Name").fill("Acme Europe")
    page.get_by_label("Time zone").fill("Asia/Tokyo")
    page.get_by_label("Default language").select_option("fr")
    page.get_by_role("button", name="Save").click()

    expect(page.locator(".messages")).to_contain_text("settings were saved")
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme Europe")
    expect(page.get_by_label("Time zone")).to_have_value("Asia/Tokyo")
    saved = Organization.objects.get(slug="acme")
    assert (saved.name, saved.timezone, saved.default_locale) == ("Acme Europe", "Asia/Tokyo", "fr")
    if not viewport.get("is_mobile"):
        page.screenshot(path="test-artifacts/org-settings.png", full_page=True)
    else:
        page.screenshot(path="test-artifacts/org-settings-phone.png", full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing sticks out sideways


@pytest.fixture
def pending_invitation(alice, acme):
    """An invitation with an expiry time, shown on the members page as a <time>."""
    UserFactory(email="dora@elsewhere.test")
    return membership_add(organization=acme, email="dora@elsewhere.test", role="member", added_by=alice)


def test_a_device_in_another_zone_sees_its_local_times_and_saves_its_zone(new_context, live_server, alice,
                                                                          pending_invitation):
    page = new_context(viewport={"width": 1200, "height": 800}, timezone_id="America/New_York",
                       locale="en-US").new_page()
    sign_in_with_password(page, live_server.url, alice.user.email)
    page.goto(f"{live_server.url}/o/acme/members/")

    notice = page.locator("#timezone-notice")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("Times are shown in Europe/Berlin. Your device is in America/New York.")
    # Berlin is six hours ahead of New York in late November.
    expires = pending_invitation.expires_at
    local = expires.astimezone(__import__("zoneinfo").ZoneInfo("America/New_York"))
    hint = page.locator("li[data-pending] time + .local-time")
    # The device's date comes first when it is another day there than on the page (near midnight).
    clock = f"{local.hour % 12 or 12}:{local.minute:02d}"
    expect(hint).to_have_text(re.compile(rf"\((?:[^)]*, )?{clock}\s?[AP]M your time\)"))
    assert_accessible(page, "the members page with the time-zone notice")
    page.screenshot(path="test-artifacts/tz-notice.png", full_page=True)

    page.get_by_role("button", name="Use America/New York").click()
    expect(notice).to_be_hidden()
    assert User.objects.get(pk=alice.user.pk).timezone == "America/New_York"
    expect(page.locator("#timezone-notice")).to_have_attribute("data-page-zone", "America/New_York")
    expect(page.locator(".local-time")).to_have_count(0)  # the page now speaks the device's zone


def test_a_dismissed_notice_stays_dismissed(new_context, live_server, alice):
    page = new_context(viewport={"width": 390, "height": 844, "is_mobile": True},
                       timezone_id="America/New_York").new_page()
    sign_in_with_password(page, live_server.url, alice.user.email)
    notice = page.locator("#timezone-notice")
    expect(notice).to_be_visible()

    page.get_by_role("button", name="Dismiss").click()
    expect(notice).to_be_hidden()
    page.reload()
    page.goto(f"{live_server.url}/o/acme/members/")
    expect(page.locator("h1")).to_have_text("Acme")
    expect(notice).to_be_hidden()
    assert User.objects.get(pk=alice.user.pk).timezone == ""


def test_no_notice_when_the_device_is_in_the_page_zone(new_context, live_server, alice):
    page = new_context(viewport={"width": 1200, "height": 800}, timezone_id="Europe/Berlin").new_page()
    sign_in_with_password(page, live_server.url, alice.user.email)
    expect(page.locator("h1")).to_have_text("Acme")
    expect(page.locator("#timezone-notice")).to_be_hidden()
