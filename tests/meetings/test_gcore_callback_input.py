"""Gcore's callbacks (access check and events) answer any header or body they cannot use with a 4xx
and a JSON reason, and write nothing."""

import json

import pytest
from django.test import Client
from django.utils import timezone

from meetings import links
from meetings.models import JoinSession, ProviderEvent
from meetings.providers.gcore.provider import room_id
from meetings.services import joining

from ..factories import GcoreMeetingFactory, InvitationFactory, ProviderAccountFactory

ACCESS_HEADER = "Basic Z2NvcmVfbWVldDpzZWNyZXQ="
EVENT_HEADER = "Bearer event-secret"


@pytest.fixture
def account(acme):
    return ProviderAccountFactory(organization=acme, access_secret=ACCESS_HEADER, webhook_secret=EVENT_HEADER,
                                  join_mode="access_check")


@pytest.fixture
def session(account):
    meeting = GcoreMeetingFactory(organization=account.organization, provider_account=account)
    invitation = InvitationFactory(meeting=meeting, display_name="Eve")
    return joining.join(joining.check(joining.find_link(invitation.token), timezone.now()), timezone.now())[0]


def access_body(session, **fields):
    return {"accessToken": links.access_token(session), "roomId": room_id(session.occurrence.meeting),
            "peerId": session.invitation.peer_id, **fields}


def event_body(session, **fields):
    return {"event": "connected", "roomId": room_id(session.occurrence.meeting),
            "peerId": session.invitation.peer_id, "displayName": "Eve", **fields}


def post(account, endpoint, body, header):
    raw = body if isinstance(body, str | bytes) else json.dumps(body)
    return Client().post(f"/providers/gcore/{account.code}/{endpoint}", raw, content_type="application/json",
                         HTTP_AUTHORIZATION=header)


def assert_refused_and_nothing_written(response, session, status, reason):
    assert response.status_code == status
    assert reason in response.json()["error"]
    assert not ProviderEvent.objects.exists()
    stay = JoinSession.objects.get(pk=session.pk)
    assert not stay.connected and not stay.provider_admitted


@pytest.mark.parametrize("endpoint, header, status", [
    ("access", "Basic Z2NvcmVfbWVldDpzZWNyZXQ=é", 403),
    ("access", "Bäsic ✓", 403),
    ("events", "Bearer évent-secret", 401),
])
def test_a_non_ascii_authorization_header_is_refused(account, session, endpoint, header, status):
    body = access_body(session) if endpoint == "access" else event_body(session)

    response = post(account, endpoint, body, header)

    assert_refused_and_nothing_written(response, session, status, "unauthorized caller")


NESTED = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("change, reason", [
    ({"peerId": "p" * 101}, "peerId is longer than 100 characters"),
    ({"roomId": "serv0" + "0" * 96}, "roomId is longer than 100 characters"),
    ({"peerId": "peer\x00"}, "NUL"),
    ({"roomId": "serv0\x00"}, "NUL"),
    ({"displayName": "Eve\x00"}, "NUL"),
    ({"accessToken": "token\x00"}, "NUL"),
    ({"extra": {"nested": ["deeper\x00"]}}, "NUL"),
    ({"extra\x00": 1}, "NUL"),
    ({"deep": json.loads("[" * 50 + "]" * 50)}, "nested too deeply"),
    ({"peerId": ["not", "text"]}, "peerId is required"),
])
@pytest.mark.parametrize("endpoint", ["access", "events"])
def test_fields_the_portal_cannot_store_are_refused(account, session, endpoint, change, reason):
    body = access_body(session, **change) if endpoint == "access" else event_body(session, **change)

    response = post(account, endpoint, body, ACCESS_HEADER if endpoint == "access" else EVENT_HEADER)

    assert_refused_and_nothing_written(response, session, 400, reason)


@pytest.mark.parametrize("field, raw_value, reason", [
    (None, NESTED, "nested too deeply"),
    (None, "[]", "not a JSON object"),
    ("peerId", NESTED, "nested too deeply"),
    ("displayName", '"\\ud800"', "not valid Unicode"),
    ("displayName", "NaN", "not finite"),
    ("displayName", "1e999", "not finite"),
])
@pytest.mark.parametrize("endpoint", ["access", "events"])
def test_bodies_that_are_no_plain_json_object_are_refused(account, session, endpoint, field, raw_value, reason):
    raw = raw_value
    if field:  # a valid body with this one field written as it is
        base = access_body(session) if endpoint == "access" else event_body(session)
        base.pop(field, None)
        raw = json.dumps(base)[:-1] + f', "{field}": {raw_value}}}'

    response = post(account, endpoint, raw, ACCESS_HEADER if endpoint == "access" else EVENT_HEADER)

    assert_refused_and_nothing_written(response, session, 400, reason)


def test_a_non_ascii_access_token_is_an_invalid_token(account, session):
    response = post(account, "access", access_body(session, accessToken="tökén"), ACCESS_HEADER)

    assert (response.status_code, response.json()) == (403, {"result": "invalid access token"})
    assert not JoinSession.objects.get(pk=session.pk).provider_admitted


@pytest.mark.parametrize("event", [["connected"], {"name": "connected"}, 1])
def test_an_event_name_that_is_no_text_is_refused(account, session, event):
    response = post(account, "events", event_body(session, event=event), EVENT_HEADER)

    assert_refused_and_nothing_written(response, session, 400, "event must be one of")


def test_a_body_over_the_request_limit_gets_413(account, session, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = post(account, "events", event_body(session, displayName="E" * 2000), EVENT_HEADER)

    assert_refused_and_nothing_written(response, session, 413, "too large")
