"""In Chromium: the schedule form and the provider-account form show only the chosen provider's
options, and switch as the provider select changes."""

import pytest
from django.test import Client
from playwright.sync_api import expect

from meetings.models import Meeting, ProviderAccount
from meetings.providers import PROVIDERS
from meetings.providers.base import Capabilities, Provider

from ..factories import MembershipFactory, ProviderAccountFactory, RoomFactory, UserFactory

pytestmark = pytest.mark.browser


class SmallCallsProvider(Provider):
    """Calls only (no webinar, no waiting room), with an account of its own kind."""

    key = "smallcalls"
    name = "Small calls"
    capabilities = Capabilities(recording=True)
    settings_fields = ("raise_hand", "chat_enabled", "waiting_room", "recording_allowed")
    account_fields = ("space_host", "project_id", "join_mode")
    secret_fields = ("api_token",)
    join_modes = ("fabric", "video")


@pytest.fixture
def small_calls(monkeypatch):
    # The live server runs in this process, so it sees the registry as the test leaves it.
    monkeypatch.setitem(PROVIDERS, SmallCallsProvider.key, SmallCallsProvider)


def signed_in(page, live_server, user):
    client = Client()
    client.force_login(user)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                               "url": live_server.url}])


@pytest.fixture
def host(acme):
    user = MembershipFactory(organization=acme, role="host", user=UserFactory(email="hana@acme.test")).user
    RoomFactory(organization=acme, owner=user, name="Hana's room", provider="builtin")
    ProviderAccountFactory(organization=acme)
    return user


def test_the_schedule_form_shows_gcore_options_only_while_gcore_is_chosen(page, live_server, host, small_calls):
    signed_in(page, live_server, host)
    page.goto(f"{live_server.url}/o/acme/meetings/new/")
    page.get_by_text("More options").click()  # the provider and its options wait there
    gcore_only = [page.get_by_label("Region"), page.get_by_label("Interface language"),
                  page.get_by_label("Start in full screen"), page.get_by_label("Hide the room's main controls")]
    provider = page.locator("select[name=provider]")
    expect(provider).to_have_value("builtin")

    for option in gcore_only:
        expect(option).to_be_hidden()
    expect(page.get_by_label("Waiting room")).to_be_visible()
    expect(page.locator("select[name=kind] option[value=webinar]")).to_be_enabled()

    provider.select_option("gcore")
    for option in gcore_only:
        expect(option).to_be_visible()
    page.get_by_label("Start in full screen").check()

    # A provider without webinars or a waiting room offers neither; a chosen webinar becomes a call.
    page.locator("select[name=kind]").select_option("webinar")
    provider.select_option("smallcalls")
    expect(page.get_by_label("Waiting room")).to_be_hidden()
    expect(page.locator("select[name=kind] option[value=webinar]")).to_be_disabled()
    expect(page.locator("select[name=kind]")).to_have_value("call")
    for option in gcore_only:
        expect(option).to_be_hidden()

    # Back on the built-in provider, the Gcore option ticked above is hidden and not applied.
    provider.select_option("builtin")
    expect(page.get_by_label("Start in full screen")).to_be_hidden()
    page.get_by_label("Title").fill("Stand-up")
    page.get_by_role("button", name="Schedule").click()
    page.wait_for_selector("text=is scheduled")
    meeting = Meeting.objects.get(title="Stand-up")
    assert (meeting.provider, meeting.start_fullscreen) == ("builtin", False)


def test_the_account_form_shows_the_chosen_providers_fields_and_join_modes(page, live_server, alice, small_calls):
    signed_in(page, live_server, alice.user)
    page.goto(f"{live_server.url}/o/acme/providers/new/")
    provider, join_mode = page.locator("select[name=provider]"), page.locator("select[name=join_mode]")
    expect(provider).to_have_value("gcore")
    expect(page.get_by_label("Meet domain")).to_be_visible()
    expect(page.get_by_label("Project id")).to_be_hidden()
    expect(join_mode.locator("option[value=access_check]")).to_be_enabled()
    expect(page.get_by_text("Access check: Gcore asks the portal at each join; no JWT")).to_be_visible()

    provider.select_option("smallcalls")
    expect(page.get_by_label("Meet domain")).to_be_hidden()
    expect(page.get_by_label("Signing secret")).to_be_hidden()
    expect(page.get_by_label("Project id")).to_be_visible()
    expect(join_mode).to_have_value("fabric")  # the provider's own default, not Gcore's
    expect(join_mode.locator("option[value=jwt]")).to_be_disabled()
    expect(page.get_by_text("Access check: Gcore asks the portal at each join; no JWT")).to_be_hidden()
    expect(page.get_by_text("Fabric: guest tokens for guests, subscriber tokens for members")).to_be_visible()

    page.get_by_label("Name").fill("Small calls EU")
    page.get_by_label("Space:", exact=True).fill("acme.example.com")
    page.get_by_label("Project id").fill("0" * 36)
    page.get_by_label("API token").fill("a-token")
    page.get_by_role("button", name="Add the account").click()
    page.wait_for_selector("text=Small calls EU was added")
    account = ProviderAccount.objects.get(name="Small calls EU")
    assert (account.provider, account.join_mode, account.api_token) == ("smallcalls", "fabric", "a-token")
