"""Capabilities drive the UI: the schedule, room and provider-account forms offer only what the chosen
provider supports (each field names its providers; portal.js hides the others), and the server ignores
or refuses what the provider does not take, in the portal and in Django admin alike."""

from html.parser import HTMLParser

import pytest

from meetings.models import Meeting, ProviderAccount, Room
from meetings.providers import PROVIDERS
from meetings.providers.base import Capabilities, Provider

from ..factories import MembershipFactory, ProviderAccountFactory, RoomFactory, UserFactory
from .test_scheduling import form as schedule_form

GCORE_ONLY = ("region", "interface_language", "controls_disabled", "hide_indicators", "start_fullscreen",
              "sort_peers", "minimize_tiles")


class FormFields(HTMLParser):
    """Per form field: the providers its wrapper names (None: every provider), its label, and the
    providers each of its options names."""

    def __init__(self, html: str):
        super().__init__()
        self.wrapper = None
        self.providers, self.labels, self.options, self.defaults, self.notes = {}, {}, {}, {}, []
        self._label_for = self._select = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "p" and "field" in (attrs.get("class") or "").split():
            self.wrapper = attrs.get("data-providers")
        elif attrs.get("name") and (tag in ("select", "textarea") or (
                tag == "input" and attrs.get("type") not in ("hidden", "submit"))):
            self.providers[attrs["name"]] = self.wrapper
            if tag == "select":
                self._select = attrs["name"]
                self.options[self._select], self.defaults[self._select] = {}, {}
        elif tag == "option" and self._select:
            self.options[self._select][attrs.get("value")] = attrs.get("data-providers")
            if attrs.get("data-default-for"):
                self.defaults[self._select][attrs["value"]] = attrs["data-default-for"]
        elif tag == "label" and attrs.get("for", "").startswith("id_"):
            self._label_for = attrs["for"][3:]
            self.labels[self._label_for] = ""
        elif tag == "small" and attrs.get("data-providers") is not None:
            self.notes.append(attrs["data-providers"])

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "label":
            self._label_for = None
        elif tag == "p":
            self.wrapper = None

    def handle_data(self, data):
        if self._label_for:
            self.labels[self._label_for] += data

    def shown_for(self, provider: str) -> set[str]:
        """The fields a person sees with this provider chosen (what portal.js leaves visible)."""
        return {name for name, keys in self.providers.items() if keys is None or provider in keys.split()}

    def options_for(self, field: str, provider: str) -> list[str]:
        return [value for value, keys in self.options[field].items() if keys is None or provider in keys.split()]


class NoWebinarProvider(Provider):
    """A provider that holds neither webinars nor a waiting room, and keeps an account of its own."""

    key = "smallcalls"
    name = "Small calls"
    capabilities = Capabilities(recording=True)
    settings_fields = ("raise_hand", "chat_enabled", "waiting_room", "recording_allowed")
    account_fields = ("space_host", "project_id", "join_mode")
    secret_fields = ("api_token",)
    join_modes = ("fabric", "video")

    def account_problems(self, values):
        if values.get("project_id") and len(values["project_id"]) != 36:
            return {"project_id": "A project id is a UUID (36 characters)."}
        return {}


@pytest.fixture
def small_calls(monkeypatch):
    monkeypatch.setitem(PROVIDERS, NoWebinarProvider.key, NoWebinarProvider)
    return NoWebinarProvider


@pytest.fixture
def host(acme):
    return MembershipFactory(organization=acme, role="host", user=UserFactory(email="hana@acme.test")).user


@pytest.fixture
def as_host(client, host):
    client.force_login(host)
    return client


@pytest.fixture
def as_admin(client, alice):
    client.force_login(alice.user)
    return client


# --- Schedule and room forms -------------------------------------------------------------------------

def test_the_schedule_form_names_gcore_options_as_gcore_only_and_drops_the_gcore_suffix(as_host):
    fields = FormFields(as_host.get("/o/acme/meetings/new/").content.decode())

    builtin = fields.shown_for("builtin")
    assert not builtin & set(GCORE_ONLY)
    assert {"title", "start", "kind", "waiting_room", "chat_enabled", "max_broadcasters"} <= builtin
    assert set(GCORE_ONLY) <= fields.shown_for("gcore")
    assert "(Gcore)" not in "".join(fields.labels.values())
    assert fields.labels["start_fullscreen"].strip() == "Start in full screen"  # a box, its label after it


def test_the_room_forms_mark_gcore_options_the_same_way(as_host, host, acme):
    room = RoomFactory(organization=acme, owner=host)

    for url in ("/o/acme/rooms/", f"/o/acme/rooms/{room.code}/"):
        fields = FormFields(as_host.get(url).content.decode())
        assert not fields.shown_for("builtin") & set(GCORE_ONLY), url
        assert set(GCORE_ONLY) <= fields.shown_for("gcore"), url
        assert "(Gcore)" not in "".join(fields.labels.values())


def test_a_provider_without_webinars_or_a_waiting_room_is_offered_neither(as_host, small_calls):
    fields = FormFields(as_host.get("/o/acme/meetings/new/").content.decode())

    assert fields.options_for("kind", "smallcalls") == ["call"]
    assert fields.options_for("kind", "builtin") == ["call", "webinar"]
    assert "waiting_room" not in fields.shown_for("smallcalls")
    assert {"waiting_room", "recording_allowed"} <= fields.shown_for("builtin")
    assert "recording_allowed" in fields.shown_for("smallcalls")


def test_gcore_only_values_posted_for_a_builtin_meeting_are_ignored(as_host, host, acme):
    room = RoomFactory(organization=acme, owner=host)

    response = as_host.post("/o/acme/meetings/new/", schedule_form(
        room, region="serv3", interface_language="de", start_fullscreen="on", controls_disabled="on"))

    assert response.status_code == 302, response.content.decode()
    meeting = Meeting.objects.get(title="Team sync")
    assert (meeting.provider, meeting.region, meeting.interface_language, meeting.start_fullscreen,
            meeting.controls_disabled) == ("builtin", "serv0", "", False, False)


def test_an_unusable_value_of_a_field_the_provider_ignores_is_no_error(as_host, host, acme):
    room = RoomFactory(organization=acme, owner=host)

    response = as_host.post("/o/acme/meetings/new/", schedule_form(room, region="not-a-region"))

    assert response.status_code == 302, response.content.decode()
    assert Meeting.objects.get(title="Team sync").region == "serv0"


def test_gcore_meetings_keep_their_gcore_options(as_host, host, acme):
    ProviderAccountFactory(organization=acme)
    room = RoomFactory(organization=acme, owner=host)

    response = as_host.post("/o/acme/meetings/new/", schedule_form(
        room, provider="gcore", region="serv3", interface_language="de", start_fullscreen="on"))

    assert response.status_code == 302, response.content.decode()
    meeting = Meeting.objects.get(title="Team sync")
    assert (meeting.region, meeting.interface_language, meeting.start_fullscreen) == ("serv3", "de", True)


def test_a_waiting_room_is_ignored_for_a_provider_that_has_none(as_host, host, acme, small_calls):
    room = RoomFactory(organization=acme, owner=host)
    data = {"name": room.name, "kind": "call", "provider": "smallcalls", "waiting_room": "on", "raise_hand": "on",
            "max_broadcasters": 8, "max_watchers": 0, "region": "serv2"}

    response = as_host.post(f"/o/acme/rooms/{room.code}/", data)

    assert response.status_code == 302, response.content.decode()
    room = Room.objects.get(pk=room.pk)
    assert (room.provider, room.waiting_room, room.raise_hand, room.region) == ("smallcalls", False, True, "serv0")


# --- Provider accounts -------------------------------------------------------------------------------

def account_form(**overrides):
    return {"name": "Video", "provider": "gcore", "enabled": "on", "meet_domain": "acme.gvideo.co",
            "default_region": "serv0", "jwt_algorithm": "HS256", "jwt_secret": "s" * 40, **overrides}


def test_the_account_form_shows_each_providers_fields_and_join_modes_only_for_it(as_admin, small_calls):
    fields = FormFields(as_admin.get("/o/acme/providers/new/").content.decode())

    gcore, small = fields.shown_for("gcore"), fields.shown_for("smallcalls")
    assert {"meet_domain", "default_region", "jwt_algorithm", "jwt_secret", "access_secret", "join_mode"} <= gcore
    assert not {"space_host", "project_id"} & gcore
    assert {"name", "space_host", "project_id", "api_token", "join_mode"} <= small
    assert not {"meet_domain", "jwt_secret", "webhook_secret", "default_region"} & small
    assert fields.options_for("join_mode", "gcore") == ["jwt", "access_check"]
    assert sorted(fields.options_for("join_mode", "smallcalls")) == ["fabric", "video"]
    assert fields.defaults["join_mode"] == {"jwt": "gcore", "fabric": "smallcalls"} | fields.defaults["join_mode"]
    assert "smallcalls" not in fields.defaults["join_mode"].get("video", "")
    assert "builtin" not in fields.options["provider"]  # nothing to configure for the built-in one
    page = as_admin.get("/o/acme/providers/new/").content.decode()
    assert str(ProviderAccount.JoinMode.GCORE_ACCESS_CHECK.label) in page  # what each mode gives up


def test_the_account_form_refuses_a_join_mode_of_another_provider(as_admin, acme, small_calls):
    page = as_admin.post("/o/acme/providers/new/", account_form(join_mode="video")).content.decode()

    assert "Gcore Meet does not offer this join mode" in page
    assert not ProviderAccount.objects.exists()

    as_admin.post("/o/acme/providers/new/", account_form(join_mode="access_check"))
    assert ProviderAccount.objects.get().join_mode == "access_check"


def test_a_blank_join_mode_or_a_changed_provider_takes_the_providers_first_mode(as_admin, acme, small_calls):
    as_admin.post("/o/acme/providers/new/", account_form(join_mode=""))
    account = ProviderAccount.objects.get()
    assert account.join_mode == "jwt"

    response = as_admin.post(f"/o/acme/providers/{account.code}/", {
        "name": "Video", "provider": "smallcalls", "enabled": "on", "space_host": "acme.example.com",
        "project_id": "0" * 36, "api_token": "token", "join_mode": "jwt", "meet_domain": "not a domain"})

    assert response.status_code == 302, response.content.decode()
    account.refresh_from_db()
    assert (account.provider, account.join_mode, account.project_id) == ("smallcalls", "fabric", "0" * 36)
    assert account.meet_domain == "acme.gvideo.co"  # another provider's field: what was sent is ignored


def test_the_providers_own_account_check_is_shown_on_its_field(as_admin, acme, small_calls):
    page = as_admin.post("/o/acme/providers/new/", {
        "name": "Video", "provider": "smallcalls", "enabled": "on", "space_host": "acme.example.com",
        "project_id": "not-a-uuid", "api_token": "token"}).content.decode()

    assert "A project id is a UUID (36 characters)." in page
    assert not ProviderAccount.objects.exists()
    assert FormFields(page).shown_for("smallcalls") >= {"project_id"}


# --- Django admin ------------------------------------------------------------------------------------

@pytest.fixture
def operator(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def admin_form(acme, **overrides):
    return {"organization": acme.pk, **account_form(**overrides)}


def test_admin_refuses_a_join_mode_of_another_provider_and_the_providers_own_check(operator, acme, small_calls):
    page = operator.post("/admin/meetings/provideraccount/add/", admin_form(acme, join_mode="video"))

    assert page.status_code == 200 and "Gcore Meet does not offer this join mode" in page.content.decode()
    page = operator.post("/admin/meetings/provideraccount/add/", {
        "organization": acme.pk, "name": "Video", "provider": "smallcalls", "enabled": "on",
        "space_host": "acme.example.com", "project_id": "not-a-uuid", "join_mode": "fabric"})
    assert page.status_code == 200 and "A project id is a UUID (36 characters)." in page.content.decode()
    assert not ProviderAccount.objects.exists()

    response = operator.post("/admin/meetings/provideraccount/add/", admin_form(acme, join_mode="access_check"))
    assert response.status_code == 302
    assert ProviderAccount.objects.get().join_mode == "access_check"


def test_admin_account_pages_render(operator, acme):
    account = ProviderAccountFactory(organization=acme)

    for url in ("/admin/meetings/provideraccount/add/", f"/admin/meetings/provideraccount/{account.pk}/change/"):
        response = operator.get(url)
        assert response.status_code == 200 and 'name="join_mode"' in response.content.decode(), url
