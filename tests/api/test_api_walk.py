"""Walk every /api/v1/ route with a key of every scope: another organization's codes answer 404 to
every method, and hostile codes, hostile JSON bodies and malformed JSON never cause a server error
or write anything. New API routes are covered as they are added."""

import json
import re

import pytest
from django.apps import apps
from django.urls import get_resolver

from meetings.models import Recording

from ..factories import InvitationFactory, MeetingFactory, MembershipFactory
from ..test_hostile_input_walk import HOSTILE
from ..test_tenancy_walk import API_PREFIX, walk

pytestmark = pytest.mark.django_db
API_ROUTES = [(route, entry.name) for route, entry in walk(get_resolver().url_patterns) if route.startswith(API_PREFIX)]
WITH_CODE = [(route, name) for route, name in API_ROUTES if "<str:code>" in route]
METHODS = ("get", "post", "patch", "delete")
KINDS = ("room", "meeting", "occurrence", "invitation", "recording", "member")
MEETING_ROUTES = {"api_open_link", "api_attendance", "api_occurrences", "api_invitations", "api_recordings"}


def kind_of(name: str) -> str:
    """The kind of object a route's <code> names."""
    if name in MEETING_ROUTES:
        return "meeting"
    kind = name.removeprefix("api_").split("_")[0]
    assert kind in KINDS, f"add the kind of object {name} names to tests/api/test_api_walk.py"
    return kind


def codes_of(organization, owner) -> dict:
    meeting = MeetingFactory(organization=organization, owner=owner, kind="webinar", max_watchers=10)
    return {"room": meeting.room.code, "meeting": meeting.code, "occurrence": meeting.occurrences.first().code,
            "invitation": InvitationFactory(meeting=meeting).code,
            "recording": Recording.objects.create(organization=organization, meeting=meeting, status="ready").code,
            "member": MembershipFactory(organization=organization, role="host").code}


def every_row_count() -> dict:
    return {model.__name__: model.objects.count() for model in apps.get_models()
            if model._meta.app_label in ("accounts", "meetings", "portal")}


@pytest.mark.parametrize("route,name", WITH_CODE)
def test_another_organizations_codes_answer_404_to_every_method(api, charlie, route, name):
    foreign = codes_of(charlie.organization, charlie.user)
    url = "/" + route.replace("<str:code>", foreign[kind_of(name)])
    before = every_row_count()

    for method in METHODS:
        response = getattr(api, method)(url, {}, format="json")
        assert response.status_code in (404, 405), f"{method.upper()} {url} answered {response.status_code}"
        if response.status_code == 404:
            assert response.json()["error"]["code"] == "not_found"
    assert every_row_count() == before


@pytest.mark.parametrize("route,name", [(r, n) for r, n in API_ROUTES if "<" not in r and n.startswith("api_")
                                        and n not in ("api_schema", "api_docs")])
def test_lists_show_nothing_of_another_organization(api, alice, charlie, route, name):
    foreign = codes_of(charlie.organization, charlie.user)
    codes_of(alice.organization, alice.user)
    body = api.get("/" + route).content.decode()

    assert not [code for code in foreign.values() if code in body]


@pytest.mark.parametrize("route,name", WITH_CODE)
@pytest.mark.parametrize("label", list(HOSTILE))
def test_hostile_codes_never_cause_a_server_error(api, route, name, label):
    url = "/" + route.replace("<str:code>", HOSTILE[label])
    before = every_row_count()

    for method in METHODS:
        assert getattr(api, method)(url, {}, format="json").status_code < 500
    assert every_row_count() == before


HOSTILE_BODIES = {
    "malformed": b'{"title": ',
    "nul": b'{"title": "a\\u0000b", "email": "a\\u0000@x.net", "name": "\\u0000", "role": "\\u0000"}',
    "over-long": json.dumps({"title": "t" * 5000, "name": "n" * 5000, "email": "e" * 5000 + "@x.net"}).encode(),
    "non-ascii": '{"title": "ünï 漢字 😀", "name": "😀", "email": "ü@漢字.net", "role": "ü"}'.encode(),
    "wrong-types": b'{"title": [], "start": {}, "end": 5, "invitations": "x", "capacity": "many", "role": 1}',
    "deep": b"[" * 5000 + b"]" * 5000,
}


@pytest.mark.parametrize("route,name", API_ROUTES)
@pytest.mark.parametrize("label", list(HOSTILE_BODIES))
def test_hostile_bodies_get_a_4xx_and_write_nothing(api, alice, route, name, label):
    url = "/" + route.replace("<str:code>", codes_of(alice.organization, alice.user)[kind_of(name)]) \
        if "<str:code>" in route else "/" + route
    before = every_row_count()

    for method in ("post", "patch"):
        response = getattr(api, method)(url, HOSTILE_BODIES[label], content_type="application/json")
        assert response.status_code < 500, f"{method.upper()} {url} answered {response.status_code}"
        if label != "non-ascii":  # non-ASCII names are valid: a room may be called 😀
            assert response.status_code >= 400 or response.status_code == 405, f"{method.upper()} {url} accepted it"
    if label != "non-ascii":
        assert every_row_count() == before


def test_every_api_route_is_walked():
    assert {name for _, name in API_ROUTES} >= {"api_meetings", "api_meeting", "api_invitations", "api_members"}
    assert all(kind_of(name) for _, name in WITH_CODE)


def test_routes_have_no_other_parameters():
    assert not [route for route, _ in API_ROUTES if re.sub(r"<str:code>", "", route).count("<")]
