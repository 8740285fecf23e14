"""Walk every URL pattern with hostile values in each parameter and in the query string, signed in
and not: no answer may be a server error, and nothing is written. New routes are covered as they
are added (the same walk as tests/test_tenancy_walk.py)."""

import re
from urllib.parse import quote

import pytest
from django.apps import apps
from django.test import Client

from accounts.models import ApiKey
from meetings.models import Recording

from .factories import InvitationFactory, MeetingFactory, ProviderAccountFactory
from .test_tenancy_walk import ROUTES, webhook_codes

HOSTILE = {
    "nul": "%00",
    "nul-inside": "abc%00def",
    "over-long": "a" * 5000,
    "non-ascii": quote("ünïcødé-漢字-😀"),
    "path-separators": "..%2F..%2Fetc%2Fpasswd",
    "backslashes": "..%5C..%5Cwindows",
    "control": "line%0D%0Abreak",
}
QUERY = "?q=%00&page=%00&next=%00&s=%00&download=%00"


def every_row_count() -> dict:
    return {model.__name__: model.objects.count() for model in apps.get_models()
            if model._meta.app_label in ("accounts", "meetings")}


@pytest.fixture
def own(alice, acme):
    meeting = MeetingFactory(organization=acme, owner=alice.user)
    invitation = InvitationFactory(meeting=meeting)
    return {**webhook_codes(acme),
            "org_slug": acme.slug, "member_code": alice.code, "meeting_code": meeting.code,
            "room_code": meeting.room.code, "occurrence_code": meeting.occurrences.first().code,
            "invitation_code": invitation.code, "token": invitation.token,
            "recording_code": Recording.objects.create(organization=acme, meeting=meeting, status="ready").code,
            "account_code": ProviderAccountFactory(organization=acme).code, "index": "0", "path_event": "joinPeer",
            "uidb64": "MQ", "slug": acme.slug, "code": meeting.code,
            "key_code": ApiKey.objects.create(organization=acme, created_by=alice.user, name="k", prefix="mpk_own00001",
                                              secret_hash="0" * 64, scopes=["read"]).code}


PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")


def parameters(route: str) -> list[str]:
    return PARAMETER.findall(route)


def fill(route: str, values: dict) -> str:
    return "/" + PARAMETER.sub(lambda match: values[match.group(1)], route)


CASES = [(route, name, label) for route, _ in ROUTES for name in parameters(route) for label in HOSTILE]


@pytest.mark.parametrize("route,parameter,label", CASES)
def test_hostile_path_values_never_cause_a_server_error(client, alice, own, route, parameter, label):
    client.force_login(alice.user)
    url = fill(route, {**own, parameter: HOSTILE[label]})
    before = every_row_count()

    for method in ("get", "post", "head"):
        response = getattr(client, method)(url)
        assert response.status_code < 500, f"{method.upper()} {url} answered {response.status_code}"
        anonymous = getattr(Client(), method)(url)
        assert anonymous.status_code < 500, f"anonymous {method.upper()} {url} answered {anonymous.status_code}"

    changed = {name for name, count in every_row_count().items() if count != before[name]}
    assert not changed, f"{url} wrote {changed}"


@pytest.mark.parametrize("route", [route for route, _ in ROUTES])
def test_hostile_query_strings_are_refused_before_any_view(client, alice, own, route):
    client.force_login(alice.user)
    url = fill(route, own) + QUERY

    for method in ("get", "post"):
        response = getattr(client, method)(url)
        assert response.status_code == 400, f"{method.upper()} {url} answered {response.status_code}"
        assert b"NUL" in response.content
