"""The language switcher in the top bar: the page changes language, stays so after a reload, and a
signed-in person's choice is saved to their profile (so it follows them to another device)."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone, translation
from django.utils.formats import date_format
from playwright.sync_api import expect

from tests.factories import MeetingFactory

from .conftest import ARTIFACTS, assert_accessible

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def sign_in(page, live_server, user, password):
    page.goto(f"{live_server.url}/login/password/")
    page.fill("#id_username", user.email)
    page.fill("#id_password", password)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/o/acme/")


def switch_to(page, language_name):
    page.locator("#language-switcher-select").select_option(label=language_name)
    page.locator("form.language-switcher button[type=submit]").click()


@pytest.fixture
def alice_with_a_meeting(alice):
    alice.user.set_password("owner passphrase")
    alice.user.full_name = "Alice Archer"
    alice.user.save()
    start = (timezone.now() + timedelta(days=3)).replace(hour=9, minute=30, second=0, microsecond=0)
    MeetingFactory(organization=alice.organization, owner=alice.user, title="Quarterly review", start=start,
                   end=start + timedelta(hours=1))
    with translation.override("de"):
        alice.german_start = date_format(timezone.localtime(start, ZoneInfo(alice.organization.timezone)),
                                         "DATETIME_FORMAT")
    return alice


def test_a_signed_in_person_switches_to_german_and_it_is_saved(page, live_server, alice_with_a_meeting,
                                                               new_context, screenshot):
    alice = alice_with_a_meeting
    sign_in(page, live_server, alice.user, "owner passphrase")
    expect(page.get_by_role("heading", name="Upcoming")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")

    switch_to(page, "Deutsch")

    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("heading", name="Demnächst")).to_be_visible()
    expect(page.get_by_role("link", name="Besprechung planen")).to_be_visible()
    expect(page.locator("#language-switcher-select")).to_have_value("de")
    # Dates follow the language too: German weekday and month names, in the organization's zone.
    expect(page.locator("main time").first).to_have_text(alice.german_start)
    page.reload()
    expect(page.get_by_role("heading", name="Demnächst")).to_be_visible()
    alice.user.refresh_from_db()
    assert alice.user.language == "de"
    assert_accessible(page, "dashboard in German")
    screenshot("dashboard-de")

    # The saved setting follows the person to another device whose browser asks for English.
    phone = new_context(**PHONE, locale="en-US").new_page()
    sign_in(phone, live_server, alice.user, "owner passphrase")
    expect(phone.locator("html")).to_have_attribute("lang", "de")
    expect(phone.get_by_role("heading", name="Demnächst")).to_be_visible()
    assert_accessible(phone, "dashboard in German on a phone")
    ARTIFACTS.mkdir(exist_ok=True)
    phone.screenshot(path=str(ARTIFACTS / "dashboard-de-phone.png"), full_page=True)


def test_a_visitor_switches_the_sign_in_page_to_french(page, live_server, screenshot):
    page.goto(f"{live_server.url}/login/")
    expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()

    switch_to(page, "Français")

    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", name="Se connecter")).to_be_visible()
    expect(page.get_by_role("button", name="Continuer")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Se connecter")).to_be_visible()
    assert_accessible(page, "sign-in page in French")
    screenshot("sign-in-fr")
