"""Gcore's join and leave events (apiEvent): authenticated, both spellings, harmless when repeated."""

import json
import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from meetings import tasks
from meetings.models import JoinSession, Presence, ProviderEvent
from meetings.providers.gcore.callbacks import EVENT_KINDS
from meetings.providers.gcore.provider import room_id
from meetings.services import attendance, joining
from meetings.services.provider_access import apply_event

from ..factories import GcoreMeetingFactory, InvitationFactory, ProviderAccountFactory

HEADER = "Bearer event-secret"


@pytest.fixture
def account(acme):
    return ProviderAccountFactory(organization=acme, webhook_secret=HEADER)


@pytest.fixture
def session(account, alice):
    meeting = GcoreMeetingFactory(organization=account.organization, provider_account=account, owner=alice.user)
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


def test_a_repeated_delivery_is_kept_and_changes_nothing_more(account, session, django_capture_on_commit_callbacks):
    send(account, body(session, "connected"), capture=django_capture_on_commit_callbacks)
    send(account, body(session, "connected"), capture=django_capture_on_commit_callbacks)
    assert Presence.objects.filter(left_at__isnull=True).count() == 1
    send(account, body(session, "disconnected"), capture=django_capture_on_commit_callbacks)
    first_leave = JoinSession.objects.get(pk=session.pk).disconnected_at

    again = send(account, body(session, "disconnected"), capture=django_capture_on_commit_callbacks)

    assert again.json()["result"] == "recorded"
    assert ProviderEvent.objects.filter(kind="left").count() == 2
    assert JoinSession.objects.get(pk=session.pk).disconnected_at == first_leave
    assert [(stay.left_at is None) for stay in Presence.objects.all()] == [False]


def host_sees(meeting) -> tuple[str, str]:
    """Eve's row in the attendance table of the host's meeting page, and her state among the invitees."""
    host = Client()
    host.force_login(meeting.owner)
    page = host.get(f"/o/acme/meetings/{meeting.code}/").content.decode()
    attendance = page.split('id="attendance-table"')[1].split("</table>")[0]
    invitees = page.split('id="invitees"')[1].split("</table>")[0]
    row = next(r for r in attendance.split("<tr>") if "Eve" in r)
    state = next(r for r in invitees.split("<tr ") if "Eve" in r).split('<span class="state">')[1].split("<")[0]
    return row, state


@pytest.mark.parametrize("event_in_body", [None, "connected"])
def test_a_close_peer_right_after_a_join_peer_with_the_same_body_closes_the_stay(
        account, session, django_capture_on_commit_callbacks, event_in_body):
    same = body(session, event_in_body)
    if event_in_body is None:
        del same["event"]

    joined = send(account, same, path="joinPeer", capture=django_capture_on_commit_callbacks)
    left = send(account, same, path="closePeer", capture=django_capture_on_commit_callbacks)

    assert (joined.json(), left.json()) == ({"result": "recorded"}, {"result": "recorded"})
    stay = JoinSession.objects.get(pk=session.pk)
    assert not stay.connected and stay.disconnected_at is not None
    assert [(stay.left_at is None) for stay in Presence.objects.all()] == [False]
    row, state = host_sees(session.occurrence.meeting)
    assert "Still in the room" not in row and state == "In the room · connection lost"


def test_a_quick_reconnect_leaves_the_person_in_the_room(account, session, django_capture_on_commit_callbacks):
    for event in ("connected", "disconnected", "connected"):
        send(account, body(session, event), capture=django_capture_on_commit_callbacks)

    stay = JoinSession.objects.get(pk=session.pk)
    assert stay.connected and stay.disconnected_at is None
    assert [(stay.left_at is None) for stay in Presence.objects.order_by("joined_at")] == [False, True]
    row, state = host_sees(session.occurrence.meeting)
    assert '<span class="state">Still in the room</span>' in row and state == "In the room"


def test_events_applied_out_of_order_end_as_they_arrived(account, session, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        send(account, body(session, "connected"))
        send(account, body(session, "disconnected"))

    for apply_later_first in reversed(callbacks):
        apply_later_first()

    stay = JoinSession.objects.get(pk=session.pk)
    assert not stay.connected and stay.disconnected_at is not None
    assert [(stay.left_at is None) for stay in Presence.objects.all()] == [False]
    assert ProviderEvent.objects.filter(applied=False).count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_leave_that_commits_after_a_later_join_was_applied_does_not_take_the_person_out(account, session):
    send(account, body(session, "connected"))
    stored, go_on = threading.Event(), threading.Event()

    def slow_delivery():
        # The leave's request stored its event first, but commits only after the next join was applied.
        try:
            with transaction.atomic():
                leave = ProviderEvent.objects.create(
                    account=account, dedupe_key="slow", kind=EVENT_KINDS["disconnected"],
                    room_id=room_id(session.occurrence.meeting), peer_id=session.invitation.peer_id, payload={})
                stored.set()
                go_on.wait(timeout=30)
            apply_event(leave)
        finally:
            connection.close()

    delivery = threading.Thread(target=slow_delivery)
    delivery.start()
    assert stored.wait(timeout=30)
    send(account, body(session, "connected"))
    go_on.set()
    delivery.join()

    assert JoinSession.objects.get(pk=session.pk).connected
    assert [(stay.left_at is None) for stay in Presence.objects.all()] == [True]
    assert not ProviderEvent.objects.filter(applied=False).exists()


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


def test_joins_a_lost_message_left_pending_are_applied_by_the_sweep(account, session):
    # Outside the capture, nothing runs after commit: as if the worker's message was lost.
    send(account, body(session, "connected"))
    assert not JoinSession.objects.get(pk=session.pk).connected

    ProviderEvent.objects.update(received_at=timezone.now() - timedelta(minutes=1))
    tasks.apply_provider_events()

    assert JoinSession.objects.get(pk=session.pk).connected
    assert [(stay.left_at is None) for stay in Presence.objects.all()] == [True]
    assert not ProviderEvent.objects.filter(applied=False).exists()


def test_an_account_disabled_while_events_arrive_is_refused_at_once(account, session):
    assert send(account, body(session, "connected")).status_code == 200

    account.enabled = False
    account.save()

    assert send(account, body(session, "disconnected")).status_code == 404
    assert ProviderEvent.objects.count() == 1
