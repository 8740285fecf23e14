"""The host's meeting page in Chromium: inviting an interpreter, picking members, copying the open link,
and ending a sitting by mistake and reopening it."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from meetings.models import Invitation, Occurrence
from meetings.tasks import send_meeting_email

from ..factories import InvitationFactory, MeetingFactory, MembershipFactory, UserFactory
from .conftest import assert_accessible, save_screenshot, signed_in_page

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def host(acme):
    user = UserFactory(email="hugo@acme.test", full_name="Hugo Host", password="hugo's passphrase")
    return MembershipFactory(organization=acme, role="host", user=user).user


def started_meeting(host, **fields):
    start = timezone.now().replace(microsecond=0) - timedelta(minutes=5)
    return MeetingFactory(organization=host.memberships.get().organization, owner=host, start=start,
                          end=start + timedelta(hours=1), **fields)


def test_an_interpreter_needs_a_language_and_the_form_keeps_its_shape(new_context, live_server, host):
    meeting = started_meeting(host, title="Council")
    page = signed_in_page(new_context(viewport={"width": 1200, "height": 800}), live_server.url, host)
    page.goto(f"{live_server.url}/o/acme/meetings/{meeting.code}/")
    page.click("summary:has-text('One person by email')")
    form = page.locator("form[action$='/invite/']")
    language = form.locator("select[name=language]")
    assert not language.is_visible()  # only beside the interpreter role

    form.locator("input[name=email]").fill("ines@example.net")
    form.locator("select[name=role]").select_option("interpreter")
    assert language.is_visible()
    assert language.locator("option[value=de]").inner_text() == "German"
    form.get_by_role("button", name="Invite").click()

    error = page.locator("form[action$='/invite/'] .error")
    assert error.inner_text() == "Choose the language this interpreter speaks into."
    email_box = page.locator("form[action$='/invite/'] input[name=email]").bounding_box()
    role_box = page.locator("form[action$='/invite/'] select[name=role]").bounding_box()
    assert abs(email_box["y"] - role_box["y"]) < 2  # the error sits under its field, the row stays a row
    assert not Invitation.objects.filter(email="ines@example.net").exists()

    page.locator("form[action$='/invite/'] select[name=language]").select_option("de")
    page.locator("form[action$='/invite/']").get_by_role("button", name="Invite").click()
    page.wait_for_selector("text=ines@example.net was invited")
    assert Invitation.objects.get(email="ines@example.net").language == "de"
    page.locator("#new-link").get_by_role("button", name="Copy").is_visible()
    assert_accessible(page, "the meeting page")


def test_members_are_found_by_typing_and_ticked(new_context, live_server, host, acme):
    meeting = started_meeting(host, title="Planning")
    for name in ("Ada Lovelace", "Alan Turing", "Grace Hopper"):
        email = name.split()[0].lower() + "@acme.test"
        MembershipFactory(organization=acme, user=UserFactory(email=email, full_name=name))
    page = signed_in_page(new_context(viewport={"width": 1200, "height": 800}), live_server.url, host)
    page.goto(f"{live_server.url}/o/acme/meetings/{meeting.code}/invite/members/")

    page.get_by_label("Find members").fill("alan tur")  # every word must match
    shown = [text.strip() for text in page.locator("#id_members label:visible").all_inner_texts()]
    assert shown == ["Alan Turing <alan@acme.test>"]
    assert page.locator("#member-count").inner_text() == "1 shown"
    page.get_by_role("button", name="Tick all shown").click()
    page.get_by_label("Find members").fill("")
    assert page.get_by_label("Grace Hopper <grace@acme.test>").is_visible()
    assert_accessible(page, "the invite-members page")
    page.get_by_role("button", name="Invite").click()
    page.wait_for_selector("text=1 person was invited")

    assert list(meeting.invitations.values_list("email", flat=True)) == ["alan@acme.test"]


def test_the_open_link_is_copied_with_one_click(new_context, live_server, host):
    webinar = started_meeting(host, title="Town hall", kind="webinar")
    context = new_context(viewport={"width": 1200, "height": 800})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = signed_in_page(context, live_server.url, host)
    page.goto(f"{live_server.url}/o/acme/meetings/{webinar.code}/")
    assert page.get_by_label("Viewers at once").get_attribute("max") == "20"

    page.get_by_label("Viewers at once").fill("15")
    page.get_by_role("button", name="Make an open link").click()
    copy = page.locator("#open-link").get_by_role("button", name="Copy")
    copy.click()

    link = page.locator("#open-link-url").input_value()
    assert "/j/" in link
    page.wait_for_function("link => navigator.clipboard.readText().then(text => text === link)", arg=link)
    assert page.evaluate("navigator.clipboard.readText()") == link


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_ending_by_mistake_is_confirmed_and_undone(new_context, live_server, host, device):
    meeting = started_meeting(host, title="Weekly sync")
    sitting = meeting.occurrences.get()
    Occurrence.objects.filter(pk=sitting.pk).update(status="live")
    options = PHONE if device == "phone" else {"viewport": {"width": 1200, "height": 800}}
    page = signed_in_page(new_context(**options), live_server.url, host)
    page.goto(f"{live_server.url}/o/acme/meetings/{meeting.code}/")

    page.get_by_role("link", name="End for everyone…").click()
    assert page.get_by_role("heading", name="End this sitting for everyone?").is_visible()
    assert "reopen it" in page.inner_text("main")
    page.get_by_role("button", name="End for everyone").click()

    page.wait_for_selector("text=You can reopen it until")
    assert page.get_by_role("link", name="Join as host").count() == 0
    assert page.locator("#invite").count() == 0 and page.get_by_role("link", name="Edit").count() == 0
    if device == "phone":
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    save_screenshot(page, f"meeting-page-ended-{device}")
    assert_accessible(page, "the ended meeting's page")

    page.get_by_role("button", name="Reopen").click()
    page.wait_for_selector("text=The sitting is open again")
    assert page.get_by_role("link", name="Edit").is_visible()
    assert Occurrence.objects.get(pk=sitting.pk).status == "scheduled"
    save_screenshot(page, f"meeting-page-{device}")


def test_an_invitation_in_german_reads_as_one_email_with_one_button(new_context, acme, host):
    acme.default_locale = "de"
    acme.save(update_fields=["default_locale"])
    meeting = MeetingFactory(organization=acme, owner=host, title="Quartalsplanung", timezone="Europe/Berlin")
    guest = InvitationFactory(meeting=meeting, email="greta@example.net", display_name="Greta Gast")
    Invitation.objects.filter(pk=guest.pk).update(timezone="America/New_York")
    send_meeting_email(guest.pk, "invitation", None)
    [message] = [m for m in mail.outbox if m.to == ["greta@example.net"]]
    page = new_context(viewport={"width": 700, "height": 900}).new_page()

    page.set_content(message.alternatives[0][0])

    assert page.get_by_text("Acme", exact=True).is_visible()  # the organization heads the email
    button = page.get_by_role("link", name="Der Besprechung beitreten")
    assert button.get_attribute("href").endswith(f"/j/{guest.token}")
    assert "America/New_York" in page.inner_text("body") and "Europe/Berlin" in page.inner_text("body")
    save_screenshot(page, "email-de")


@pytest.mark.parametrize("path", ["/account/", "/account/calendar/", "/o/acme/rooms/", "/o/acme/members/",
                                  "/o/acme/providers/", "/o/acme/providers/new/",
                                  "/o/acme/integrations/api-keys/", "/o/acme/no-such-page/"])
def test_the_other_main_pages_pass_axe(new_context, live_server, alice, path):
    page = signed_in_page(new_context(viewport={"width": 1200, "height": 800}), live_server.url, alice.user)
    page.goto(f"{live_server.url}{path}")

    assert_accessible(page, path)


def test_the_sign_in_page_passes_axe_on_a_phone(new_context, live_server):
    page = new_context(**PHONE).new_page()
    page.goto(f"{live_server.url}/login/")

    assert_accessible(page, "the sign-in page on a phone")


def test_on_a_phone_wide_tables_scroll_in_their_own_box_not_the_page(new_context, live_server, alice, host):
    meeting = started_meeting(host, title="Weekly sync")
    for n in range(3):
        InvitationFactory(meeting=meeting, display_name=f"Guest {n}",
                          email=f"guest-{n}-with-a-rather-long-address@example.net")
    page = signed_in_page(new_context(**PHONE), live_server.url, alice.user)

    for path in (f"/o/acme/meetings/{meeting.code}/", "/o/acme/members/"):
        page.goto(f"{live_server.url}{path}")
        # (Not innerWidth: a phone widens its layout viewport to what sticks out.)
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 390, f"{path} scrolls sideways"
        # The table holds more than the screen shows, and scrolls within its own box.
        assert page.evaluate("[...document.querySelectorAll('table.list')].some(t => t.scrollWidth > t.clientWidth)")
    save_screenshot(page, "members-phone")
