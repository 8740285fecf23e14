"""Gcore's join and leave events (apiEvent): authenticated, both spellings, harmless when repeated."""

import json

import pytest
from django.test import Client
from django.utils import timezone

from meetings.models import JoinSession, Presence, ProviderEvent
from meetings.providers.gcore import room_id
from meetings.services import attendance, joining
from meetings.services.provider_access import EVENT_KINDS, apply_event

from ..factories import GcoreMeetingFactory, InvitationFactory, ProviderAccountFactory

HEADER = "Bearer event-secret"


@pytest.fixture
def account(acme):
    return ProviderAccountFactory(organization=acme, webhook_secret=HEADER)


@pytest.fixture
def session(account):
    meeting = GcoreMeetingFactory(organization=account.organization, provider_account=account)
    invitation = InvitationFactory(meeting=meeting, display_name="Eve")
    return joining.join(joining.check(joining.find_link(invitation.token), timezone.now()), timezone.now())[0]


def send(account, body, *, path="", header=HEADER, capture=None):
    raw = body if isinstance(body, str) else json.dumps(body)
    url = f"/providers/gcore/{account.code}/events" + (f"/{path}" if path else "")
    if capture is None:
        return Client().post(url, raw, content_type="application/json", HTTP_AUTHORIZATION=header)
    with capture(execute=True):
        return Client().post(url, raw, content_type="application/json", HTTP_AUTHORIZATION=header)


def body(session, event):
    return {"event": event, "roomId": room_id(session.occurrence.meeting), "peerId": session.invitation.peer_id,
            "displayName": "Eve"}


def test_joins_and_leaves_in_either_spelling_move_the_persons_attendance(account, session,
                                                                         django_capture_on_commit_callbacks):
    send(account, body(session, "connected"), capture=django_capture_on_commit_callbacks)
    assert JoinSession.objects.get(pk=session.pk).connected

    left = body(session, "x")
    del left["event"]
    response = send(account, left, path="closePeer", capture=django_capture_on_commit_callbacks)

    assert response.status_code == 200
    stay = JoinSession.objects.get(pk=session.pk)
    assert not stay.connected and stay.disconnected_at is not None and stay.ended_at is None
    send(account, body(session, "joinPeer"), capture=django_capture_on_commit_callbacks)
    assert JoinSession.objects.get(pk=session.pk).connected


def test_a_repeated_delivery_is_recorded_once_and_changes_nothing_more(account, session,
                                                                      django_capture_on_commit_callbacks):
    send(account, body(session, "connected"), capture=django_capture_on_commit_callbacks)
    send(account, body(session, "disconnected"), capture=django_capture_on_commit_callbacks)
    first_leave = JoinSession.objects.get(pk=session.pk).disconnected_at

    again = send(account, body(session, "disconnected"), capture=django_capture_on_commit_callbacks)

    assert again.json()["result"] == "duplicate"
    assert ProviderEvent.objects.filter(kind="left").count() == 1
    assert JoinSession.objects.get(pk=session.pk).disconnected_at == first_leave


def test_a_leave_before_any_join_is_harmless(account, session, django_capture_on_commit_callbacks):
    send(account, body(session, "disconnected"), capture=django_capture_on_commit_callbacks)

    stay = JoinSession.objects.get(pk=session.pk)
    assert (stay.connected, stay.disconnected_at, stay.ended_at) == (False, None, None)
    assert not Presence.objects.exists()
    send(account, body(session, "connected"), capture=django_capture_on_commit_callbacks)
    assert [row.name for row in attendance.attendance(session.occurrence.meeting)] == ["Eve"]


def test_events_become_the_persons_stays_in_the_attendance_report(account, session,
                                                                  django_capture_on_commit_callbacks):
    for event in ("connected", "connected", "disconnected", "joinPeer", "closePeer"):
        ProviderEvent.objects.create(account=account, dedupe_key=event + str(ProviderEvent.objects.count()),
                                     kind=EVENT_KINDS[event], room_id=room_id(session.occurrence.meeting),
                                     peer_id=session.invitation.peer_id, payload={})
    for event in ProviderEvent.objects.order_by("pk"):
        apply_event(event)

    stays = Presence.objects.filter(invitation=session.invitation, source="events")
    assert stays.count() == 2 and not stays.filter(left_at__isnull=True).exists()
    [row] = attendance.attendance(session.occurrence.meeting)
    assert (row.name, row.sessions) == ("Eve", 1)  # two stays moments apart are one session


@pytest.mark.parametrize("header, payload, status", [
    ("Bearer wrong", None, 401),
    ("", None, 401),
    (HEADER, "not json", 400),
    (HEADER, {"event": "wave", "roomId": "serv0", "peerId": "p"}, 400),
    (HEADER, {"event": "connected", "peerId": "p"}, 400),
    (HEADER, {"event": "connected", "roomId": "serv0" + "0" * 32, "peerId": "p"}, 404),
])
def test_unauthenticated_malformed_or_foreign_events_get_4xx_and_write_nothing(account, session, header,
                                                                               payload, status):
    response = send(account, payload if payload is not None else body(session, "connected"), header=header)

    assert response.status_code == status
    assert not ProviderEvent.objects.exists()
    assert not JoinSession.objects.get(pk=session.pk).connected
