"""Languages: which one a request gets, the switcher, and the catalogs (complete, current, and no
English left on the main pages in German, French or Spanish)."""

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import dateformat, timezone, translation
from rest_framework.test import APIClient

from accounts.api_keys import api_key_create
from accounts.i18n import language_of
from accounts.models import TIMEZONE_CHOICES
from meetings.providers import PROVIDERS
from meetings.services.invitations import invitation_revoke

from .factories import InvitationFactory, MeetingFactory, MembershipFactory, ProviderAccountFactory, UserFactory

BASE_DIR = Path(settings.BASE_DIR)
OTHER_LANGUAGES = [code for code, _name in settings.LANGUAGES if code != "en"]


def page_language(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.content.decode()).group(1)


# --- Which language a request gets -------------------------------------------------------------


@pytest.fixture
def acme_member(alice):
    """Alice, owner of Acme (Europe/Berlin), signed in, with no language of her own."""
    client = Client()
    client.force_login(alice.user)
    return client


def test_the_persons_own_setting_comes_first(acme_member, alice):
    alice.user.language = "fr"
    alice.user.save()
    alice.organization.default_locale = "de"
    alice.organization.save()
    acme_member.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"

    response = acme_member.get("/o/acme/", HTTP_ACCEPT_LANGUAGE="es")

    assert page_language(response) == "fr" and response["Content-Language"] == "fr"
    assert "Planifier une réunion" in response.content.decode()


def test_the_switchers_choice_comes_before_the_browser_and_the_organization(acme_member, alice):
    alice.organization.default_locale = "fr"
    alice.organization.save()
    acme_member.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"

    assert page_language(acme_member.get("/o/acme/", HTTP_ACCEPT_LANGUAGE="es")) == "de"
    assert page_language(Client(HTTP_ACCEPT_LANGUAGE="es").get("/login/")) == "es"
    visitor = Client(HTTP_ACCEPT_LANGUAGE="es")
    visitor.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    assert page_language(visitor.get("/login/")) == "de"


def test_the_browsers_language_comes_before_the_organizations(acme_member, alice):
    alice.organization.default_locale = "fr"
    alice.organization.save()

    assert page_language(acme_member.get("/o/acme/", HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9,en;q=0.5")) == "es"
    assert page_language(acme_member.get("/o/acme/", HTTP_ACCEPT_LANGUAGE="ja,de-AT;q=0.8")) == "de"


def test_the_organizations_locale_when_the_browser_names_none_of_ours(acme_member, alice):
    alice.organization.default_locale = "de"
    alice.organization.save()

    dashboard = acme_member.get("/o/acme/", HTTP_ACCEPT_LANGUAGE="ja, *;q=0.5")
    assert page_language(dashboard) == "de" and "Besprechung planen" in dashboard.content.decode()
    # Pages outside the organization (the profile) keep the organization last worked in.
    assert page_language(acme_member.get("/account/")) == "de"


def test_english_when_nothing_else_applies(acme_member, alice):
    assert page_language(Client().get("/login/")) == "en"
    alice.organization.default_locale = "it"  # a locale the portal has no catalog for
    alice.organization.save()
    assert page_language(acme_member.get("/o/acme/")) == "en"


def test_dates_follow_the_language(acme_member, alice):
    start = timezone.make_aware(timezone.datetime(2031, 3, 3, 9, 0), timezone.get_fixed_timezone(60))
    MeetingFactory(organization=alice.organization, owner=alice.user, title="Kick-off", start=start,
                   end=start + timedelta(hours=1))

    pages = {code: acme_member.get("/o/acme/", HTTP_ACCEPT_LANGUAGE=code).content.decode()
             for code in ("en", "de", "fr", "es")}

    assert 'datetime="2031-03-03T09:00:00+01:00">Mon 3 Mar 2031, 09:00</time>' in pages["en"]
    assert "Mo, 3. März 2031, 09:00" in pages["de"]
    assert "lun 3 mars 2031, 09:00" in pages["fr"]
    assert "lun 3 de marzo de 2031, 09:00" in pages["es"]


def test_emails_speak_the_persons_language_else_the_organizations(alice):
    assert language_of(alice.user, alice.organization) == "en"
    alice.organization.default_locale = "es"
    assert language_of(alice.user, alice.organization) == "es" and language_of(None, alice.organization) == "es"
    alice.user.language = "de"
    assert language_of(alice.user, alice.organization) == "de" and language_of(alice.user) == "de"
    assert language_of() == "en"


def test_the_403_page_says_whose_page_it_is_in_the_persons_language(alice):
    member = MembershipFactory(organization=alice.organization, role="member", user=UserFactory(email="mo@acme.test"))
    client = Client(HTTP_ACCEPT_LANGUAGE="de")
    client.force_login(member.user)

    response = client.get("/o/acme/providers/")

    assert response.status_code == 403
    page = response.content.decode()
    assert "Diese Seite ist nicht für Sie" in page
    assert "Diese Seite ist für Administratoren und Inhaber der Organisation." in page


def test_the_rest_api_stays_english(alice):
    _key, raw = api_key_create(organization=alice.organization, created_by=alice.user, name="LMS",
                               scopes=("read", "write"))
    program = APIClient(HTTP_ACCEPT_LANGUAGE="de")
    program.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    alice.user.language = "fr"
    alice.user.save()

    response = program.post("/api/v1/rooms", {"name": "two\nlines"}, format="json")

    assert response.status_code == 400 and response["Content-Language"] == "en"
    assert "Use a single line without control characters." in response.content.decode()


# --- The switcher -------------------------------------------------------------------------------


def test_the_switcher_sets_the_language_and_saves_it_for_a_signed_in_person(acme_member, alice):
    response = acme_member.post("/language/", {"language": "es", "next": "/o/acme/"})

    assert response.status_code == 302 and response["Location"] == "/o/acme/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    alice.user.refresh_from_db()
    assert alice.user.language == "es"
    assert page_language(acme_member.get("/o/acme/", HTTP_ACCEPT_LANGUAGE="de")) == "es"


def test_the_switcher_for_a_visitor_sets_only_the_cookie():
    visitor = Client()
    page = visitor.get("/login/").content.decode()
    assert 'action="/language/"' in page and 'name="csrfmiddlewaretoken"' in page.split('action="/language/"')[1]

    response = visitor.post("/language/", {"language": "fr", "next": "/login/"})

    assert response.status_code == 302 and response["Location"] == "/login/"
    assert page_language(visitor.get("/login/")) == "fr"


@pytest.mark.parametrize("bad", ["", "xx", "de\u00e9", "fr" * 200, "en-us"])
def test_the_switcher_refuses_what_is_not_one_of_its_languages(acme_member, alice, bad):
    response = acme_member.post("/language/", {"language": bad, "next": "/o/acme/"})

    assert response.status_code == 400 and settings.LANGUAGE_COOKIE_NAME not in response.cookies
    alice.user.refresh_from_db()
    assert alice.user.language == ""


def test_the_switcher_needs_a_post_with_its_csrf_token(alice):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice.user)
    assert strict.get("/language/").status_code == 405
    assert strict.post("/language/", {"language": "de"}).status_code == 403
    alice.user.refresh_from_db()
    assert alice.user.language == ""


def test_the_switcher_sends_nobody_to_another_site(acme_member):
    response = acme_member.post("/language/", {"language": "de", "next": "https://evil.example/"})
    assert response.status_code == 302 and not response["Location"].startswith("https://evil.example")


def test_the_profile_sets_or_clears_the_persons_language(acme_member, alice):
    form = acme_member.get("/account/").content.decode()
    assert 'name="language"' in form and "Automatic" in form

    acme_member.post("/account/", {"full_name": "Alice", "timezone": "", "language": "de"})
    alice.user.refresh_from_db()
    assert alice.user.language == "de"
    assert page_language(acme_member.get("/account/", HTTP_ACCEPT_LANGUAGE="fr")) == "de"

    acme_member.post("/account/", {"full_name": "Alice", "timezone": "", "language": ""})
    alice.user.refresh_from_db()
    assert alice.user.language == ""
    assert page_language(acme_member.get("/account/", HTTP_ACCEPT_LANGUAGE="fr")) == "fr"


# --- The catalogs ---------------------------------------------------------------------------------


def read_po(path: Path) -> list[dict]:
    """The entries of a .po file: msgctxt, msgid, msgid_plural, msgstr (a list) and flags."""
    entries, entry, key = [], None, None
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            if entry and "msgid" in entry:
                entries.append(entry)
            entry, key = None, None
            continue
        entry = entry if entry is not None else {"flags": set(), "msgstr": {}}
        if line.startswith("#,"):
            entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            text = ast.literal_eval(line)
            if isinstance(key, int):
                entry["msgstr"][key] += text
            else:
                entry[key] += text
        else:
            keyword, value = line.split(" ", 1)
            index = re.fullmatch(r"msgstr\[(\d+)\]", keyword)
            key = int(index.group(1)) if index else (0 if keyword == "msgstr" else keyword)
            if isinstance(key, int):
                entry["msgstr"][key] = ast.literal_eval(value)
            else:
                entry[key] = ast.literal_eval(value)
    return entries


def catalog(language: str) -> Path:
    return BASE_DIR / "locale" / language / "LC_MESSAGES" / "django.po"


PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]|\{\w*\}")


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_every_catalog_is_complete(language):
    problems = []
    for entry in read_po(catalog(language)):
        name = entry["msgid"] or "(header)"
        if "fuzzy" in entry["flags"]:
            problems.append(f"fuzzy: {name!r}")
        if not entry["msgid"]:
            continue
        for index, text in sorted(entry["msgstr"].items()):
            if not text:
                problems.append(f"not translated: {name!r}")
                continue
            source = entry["msgid"] if index == 0 else entry.get("msgid_plural", entry["msgid"])
            if sorted(PLACEHOLDER.findall(text)) != sorted(PLACEHOLDER.findall(source)):
                problems.append(f"placeholders differ: {name!r} -> {text!r}")
    assert problems == [], f"locale/{language}: " + "\n".join(problems)


def test_the_catalogs_hold_every_marked_string(tmp_path):
    """makemessages over a copy of the code finds no msgid the committed catalogs lack."""
    if shutil.which("xgettext") is None:
        pytest.fail("xgettext is missing: install Debian's gettext (make test does)")
    source = tmp_path / "src"
    for name in ("accounts", "meetings", "portal", "templates"):
        shutil.copytree(BASE_DIR / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy(BASE_DIR / "manage.py", source / "manage.py")
    env = {**os.environ, "PORTAL_VAR_DIR": str(tmp_path / "var")}
    subprocess.run([sys.executable, "manage.py", "makemessages", "-l", "de", "--no-location", "-v", "0"],
                   cwd=source, env=env, check=True, capture_output=True, timeout=300)
    marked = {entry["msgid"] for entry in read_po(source / "locale" / "de" / "LC_MESSAGES" / "django.po")} - {""}

    missing = {language: sorted(marked - {entry["msgid"] for entry in read_po(catalog(language))})
               for language in OTHER_LANGUAGES}
    assert all(not strings for strings in missing.values()), (
        "marked strings missing from the catalogs; run makemessages (README, Languages) and translate them:\n"
        + "\n".join(f"{language}: {strings}" for language, strings in missing.items() if strings))


# --- No English left on the main pages -------------------------------------------------------------

# Words that are the same in English and the language, by language (keep it short).
SAME_IN = {
    "de": {"Name", "Status", "Webinar", "Moderator", "Webhooks", "Space", "Start", "Link", "Chat", "Details",
           "Person", "Region", "Name (optional)", "Server"},
    "fr": {"Description", "Participant", "Participants", "Webhooks", "Invitation", "Invitations", "Message",
           "Messages", "Chat", "Options", "Type", "Date", "Minutes", "Total", "Zone", "Source", "Luxembourg",
           "Actions", "15 minutes", "30 minutes", "45 minutes"},
    "es": {"Webhooks", "Chat", "Total", "Australia"},
}
BRANDS = {"Gcore", "Gcore Meet", "Fabric", "SignalWire", "VideoSDK", "Jitsi", "Jitsi Meet", "LiveKit", "OpenID Connect",
          "Streaming API"}
# Example input in placeholders: people type role names as these codes in every language.
EXAMPLES = {"Ada Lovelace <ada@example.com>, moderator", "ada@example.com Grace Hopper <grace@example.com>, host"}
ACRONYM = re.compile(r"\b[A-Z][A-Z0-9]+\b|\b[a-z]+[A-Z0-9]\w*\b")  # API, HS256, RS256, jwt_secret-ish names
ADDRESS = re.compile(r"\S+@\S+|\w+://\S+|\b[\w-]+(?:\.[\w-]+)+\b|\b[A-Z]\w+(?:/[\w+-]+)+|/\S*")
TEXT_ATTRIBUTES = {"placeholder", "title", "aria-label", "alt"}
SKIPPED_ELEMENTS = {"script", "style", "code", "pre", "kbd", "samp", "template"}


class VisibleText(HTMLParser):
    """Text nodes and the attributes a person sees or hears (placeholder, title, aria-label, alt, and
    the value of buttons)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.texts, self.skipping = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in SKIPPED_ELEMENTS:
            self.skipping.append(tag)
        for name in TEXT_ATTRIBUTES & attrs.keys():
            self.texts.append(attrs[name] or "")
        if tag == "input" and attrs.get("type") in ("submit", "button", "reset") and attrs.get("value"):
            self.texts.append(attrs["value"])

    def handle_endtag(self, tag):
        if self.skipping and self.skipping[-1] == tag:
            self.skipping.pop()

    def handle_data(self, data):
        if not self.skipping:
            self.texts.append(data)

    @classmethod
    def of(cls, html: str) -> set[str]:
        parser = cls()
        parser.feed(html)
        return {" ".join(text.split()) for text in parser.texts} - {""}


@pytest.fixture
def world(alice):
    """Acme with a host, a meeting with an invitee, a provider account: the data the pages show."""
    organization = alice.organization
    alice.user.full_name = "Alice Archer"
    alice.user.save()
    host = MembershipFactory(organization=organization, role="host",
                             user=UserFactory(email="hugo@acme.test", full_name="Hugo Hart"))
    meeting = MeetingFactory(organization=organization, owner=alice.user, title="Quarterly review")
    invitation = InvitationFactory(meeting=meeting, email="guest@example.net", display_name="Greta Guest")
    account = ProviderAccountFactory(organization=organization, name="Gcore EU")
    data = {organization.name, organization.slug, alice.user.full_name, alice.user.email, host.user.full_name,
            host.user.email, meeting.title, meeting.room.name, invitation.email, invitation.display_name,
            account.name, *BRANDS, *EXAMPLES, "not-an-address", " ".join(PASTED.split()),
            *(str(cls.name) for cls in PROVIDERS.values()), *(name for _code, name in settings.LANGUAGES)}
    return {"alice": alice, "meeting": meeting, "invitation": invitation, "data": data}


def _join_room(client, token):
    assert client.post(f"/j/{token}").status_code == 302
    return client.get(f"/j/{token}/room/")


MAIN_PAGES = {
    "dashboard": lambda client, world: client.get("/o/acme/"),
    "meeting page": lambda client, world: client.get(f"/o/acme/meetings/{world['meeting'].code}/"),
    "schedule form": lambda client, world: client.get("/o/acme/meetings/new/"),
    "members": lambda client, world: client.get("/o/acme/members/"),
    "profile": lambda client, world: client.get("/account/"),
    "usage": lambda client, world: client.get("/o/acme/usage/"),
    "provider accounts": lambda client, world: client.get("/o/acme/providers/"),
    "provider account form": lambda client, world: client.get("/o/acme/providers/new/"),
    "404": lambda client, world: client.get("/o/acme/meetings/no-such-meeting/"),
    "sign-in": lambda client, world: Client(HTTP_ACCEPT_LANGUAGE=client.defaults["HTTP_ACCEPT_LANGUAGE"]).get(
        "/login/"),
    "pre-join": lambda client, world: Client(HTTP_ACCEPT_LANGUAGE=client.defaults["HTTP_ACCEPT_LANGUAGE"]).get(
        f"/j/{world['invitation'].token}"),
    "room": lambda client, world: _join_room(
        Client(HTTP_ACCEPT_LANGUAGE=client.defaults["HTTP_ACCEPT_LANGUAGE"]), world["invitation"].token),
    "withdrawn link": lambda client, world: _withdrawn_link(
        Client(HTTP_ACCEPT_LANGUAGE=client.defaults["HTTP_ACCEPT_LANGUAGE"]), world["invitation"]),
    "invite report": lambda client, world: client.post(
        f"/o/acme/meetings/{world['meeting'].code}/invite/paste/", {"addresses": PASTED, "role": "participant"}),
    "API keys": lambda client, world: client.post(
        "/o/acme/integrations/api-keys/", {"name": "LMS", "scopes": ["read"], "expires_on": "2001-01-01"}),
}
EXPECTED_STATUS = {"404": 404, "withdrawn link": 401}
PASTED = "not-an-address\nguest@example.net\nnew@example.org\nnew@example.org"  # refused: each line says why


def _withdrawn_link(client, invitation):
    invitation_revoke(invitation=invitation)
    return client.get(f"/j/{invitation.token}")


def _is_data(text: str, data: set[str]) -> bool:
    """Whether `text` is made only of the fixtures' data, names, addresses, technical tokens and the
    language's own month and weekday names."""
    if text in data or text in ZONE_NAMES:
        return True
    for known in sorted(data, key=len, reverse=True):
        text = text.replace(known, " ")
    text = ADDRESS.sub(" ", ACRONYM.sub(" ", text))
    return not re.search(r"[^\W\d_]", text)


ZONE_NAMES = {label for _name, label in TIMEZONE_CHOICES} | {name for name, _label in TIMEZONE_CHOICES}


def calendar_words(language: str) -> set[str]:
    """Month and weekday names as Django writes dates in `language` ("Nov" is German too)."""
    with translation.override(language):
        days = [timezone.datetime(2024, 1, day) for day in range(1, 8)]
        months = [timezone.datetime(2024, month, 1) for month in range(1, 13)]
        return ({dateformat.format(day, code) for day in days for code in "Dl"}
                | {dateformat.format(month, code) for month in months for code in "MFNbE"})


def same_word(text: str, language: str) -> bool:
    return text.rstrip(" :").strip() in SAME_IN[language]


@pytest.mark.parametrize("name", MAIN_PAGES)
def test_the_main_pages_have_no_english_left(world, name):
    renders = {}
    for language in ("en", *OTHER_LANGUAGES):
        client = Client(HTTP_ACCEPT_LANGUAGE=language)
        client.force_login(world["alice"].user)
        response = MAIN_PAGES[name](client, world)
        assert response.status_code == EXPECTED_STATUS.get(name, 200), f"{name} in {language}"
        assert page_language(response) == language
        renders[language] = VisibleText.of(response.content.decode())

    untranslated = {
        language: sorted(text for text in renders[language] & renders["en"]
                         if not same_word(text, language)
                         and not _is_data(text, world["data"] | calendar_words(language)))
        for language in OTHER_LANGUAGES}
    assert all(not texts for texts in untranslated.values()), (
        f"The {name} page shows English text in other languages (mark it for translation and translate it, "
        "or, when it is the same word in that language, add it to SAME_IN):\n"
        + "\n".join(f"  {language}: {texts}" for language, texts in untranslated.items() if texts))


def test_the_room_names_roles_in_the_pages_language(world):
    """The socket server sends role codes; the room page's script names them from these strings."""
    page = _join_room(Client(HTTP_ACCEPT_LANGUAGE="de"), world["invitation"].token).content.decode()

    strings = json.loads(re.search(r'<script id="room-strings" type="application/json">(.*?)</script>',
                                   page, re.S).group(1))
    assert strings["roles"]["host"] == "Gastgeber" and strings["roles"]["interpreter"] == "Dolmetscher"
    assert strings["connecting"] == "Verbindung wird hergestellt…"
