"""The generic callback view (meetings/views/callbacks.py): the provider's parse_event authenticates
and reads the request; the view keeps each event once by its dedupe key and applies it after commit.
A stand-in provider with event ids shows the dedupe; Gcore's URLs go through the same view."""

import json

import pytest
from django.test import Client, RequestFactory
from django.urls import resolve
from django.utils import timezone

from meetings.models import JoinSession, ProviderEvent
from meetings.providers import PROVIDERS
from meetings.providers.base import CallbackRefused, ParsedEvent, Provider
from meetings.providers.gcore.provider import room_id
from meetings.services import joining
from meetings.views.callbacks import provider_callback

from ..factories import GcoreMeetingFactory, InvitationFactory, ProviderAccountFactory

HEADER = "Bearer event-secret"


class IdProvider(Provider):
    """Sends {"events": [{"id", "type", "room", "peer"}]}, authenticated by the webhook secret; its
    rooms are the Gcore meeting's room ids, so events reach a real join session."""

    key = "with-ids"

    def parse_event(self, request):
        if request.headers.get("Authorization") != self.account.webhook_secret:
            raise CallbackRefused("unauthorized caller", 401)
        try:
            body = json.loads(request.body)
        except ValueError:
            raise CallbackRefused("the body is not JSON") from None
        return [ParsedEvent(dedupe_key=item["id"], kind=item["type"], room_id=item["room"], peer_id=item["peer"],
                            payload=item) for item in body["events"]]

    def meeting_for_room(self, room):
        return self._meeting


@pytest.fixture
def session(acme):
    account = ProviderAccountFactory(organization=acme, webhook_secret=HEADER)
    meeting = GcoreMeetingFactory(organization=acme, provider_account=account)
    invitation = InvitationFactory(meeting=meeting, display_name="Eve")
    return joining.join(joining.check(joining.find_link(invitation.token), timezone.now()), timezone.now())[0]


@pytest.fixture
def account(session, monkeypatch):
    monkeypatch.setitem(PROVIDERS, IdProvider.key, IdProvider)
    monkeypatch.setattr(IdProvider, "_meeting", session.occurrence.meeting, raising=False)
    return ProviderAccountFactory(organization=session.organization, provider=IdProvider.key, webhook_secret=HEADER)


def deliver(account, events, *, header=HEADER, key=IdProvider.key, code=None):
    request = RequestFactory().post("/callback", json.dumps({"events": events}), content_type="application/json",
                                    HTTP_AUTHORIZATION=header)
    return provider_callback(request, provider_key=key, account_code=code or account.code)


def event(session, event_id, kind):
    return {"id": event_id, "type": kind, "room": room_id(session.occurrence.meeting),
            "peer": session.invitation.peer_id}


def test_a_repeat_with_the_same_event_id_is_stored_once_and_answered_200(account, session,
                                                                         django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = deliver(account, [event(session, "EV_1", "joined")])
    with django_capture_on_commit_callbacks(execute=True) as applied:
        again = deliver(account, [event(session, "EV_1", "joined")])

    assert (first.status_code, json.loads(first.content)) == (200, {"result": "recorded"})
    assert (again.status_code, json.loads(again.content)) == (200, {"result": "already recorded"})
    assert list(ProviderEvent.objects.values_list("dedupe_key", "kind", "account", "applied")) == [
        ("EV_1", "joined", account.pk, True)]
    assert applied == []  # nothing new to apply
    assert JoinSession.objects.get(pk=session.pk).connected


def test_the_same_event_id_at_two_accounts_is_kept_by_each(account, session, django_capture_on_commit_callbacks):
    other = ProviderAccountFactory(organization=session.organization, provider=IdProvider.key, webhook_secret=HEADER,
                                   name="Second project")
    with django_capture_on_commit_callbacks(execute=True):
        deliver(account, [event(session, "EV_9", "joined")])
        second = deliver(other, [event(session, "EV_9", "joined")])

    assert json.loads(second.content) == {"result": "recorded"}
    assert sorted(ProviderEvent.objects.values_list("account", flat=True)) == sorted([account.pk, other.pk])


def test_every_new_event_of_a_request_is_kept_and_applied_in_order(account, session,
                                                                  django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        deliver(account, [event(session, "EV_1", "joined"), event(session, "EV_1", "joined"),
                          event(session, "EV_2", "left")])

    assert list(ProviderEvent.objects.order_by("pk").values_list("dedupe_key", "applied")) == [
        ("EV_1", True), ("EV_2", True)]
    stay = JoinSession.objects.get(pk=session.pk)
    assert not stay.connected and stay.disconnected_at is not None


def test_nothing_is_applied_before_the_events_commit(account, session, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as pending:
        deliver(account, [event(session, "EV_1", "joined")])

    assert not JoinSession.objects.get(pk=session.pk).connected and len(pending) == 1
    pending[0]()
    assert JoinSession.objects.get(pk=session.pk).connected


def test_an_event_id_longer_than_the_column_is_kept_by_its_digest(account, session):
    long_id = "EV_" + "x" * 100

    deliver(account, [event(session, long_id, "joined")])
    deliver(account, [event(session, long_id, "joined")])

    [stored] = ProviderEvent.objects.all()
    assert len(stored.dedupe_key) == 64 and stored.payload["id"] == long_id


def answer(response):
    return response.status_code, json.loads(response.content)


def test_refusals_answer_4xx_with_a_reason_and_write_nothing(account, session):
    other = ProviderAccountFactory(organization=session.organization, provider=IdProvider.key, enabled=False)

    assert answer(deliver(account, [event(session, "EV_1", "joined")], header="Bearer wrong")) == (
        401, {"error": "unauthorized caller"})
    assert answer(deliver(account, [], key="no-such-provider")) == (404, {"error": "unknown provider"})
    assert answer(deliver(account, [], code="unknown")) == (404, {"error": "unknown account"})
    assert answer(deliver(other, [event(session, "EV_1", "joined")])) == (404, {"error": "unknown account"})
    gcore_account = session.occurrence.meeting.provider_account  # right code, another provider
    assert answer(deliver(account, [], code=gcore_account.code))[0] == 404
    builtin = ProviderAccountFactory(organization=session.organization, provider="builtin")
    assert answer(deliver(builtin, [], key="builtin")) == (404, {"error": "this provider sends no events"})
    assert not ProviderEvent.objects.exists()
    assert not JoinSession.objects.get(pk=session.pk).connected


@pytest.mark.parametrize("change", [{"peer": "p" * 101}, {"peer": "peer\x00"}, {"nested": "\x00"}])
def test_an_event_the_database_cannot_hold_is_refused_and_nothing_is_kept(account, session, change):
    response = deliver(account, [event(session, "EV_0", "joined"), {**event(session, "EV_1", "joined"), **change}])

    assert answer(response) == (400, {"error": "the event cannot be stored"})
    assert not ProviderEvent.objects.exists()


def test_only_posts_are_taken(account):
    request = RequestFactory().get("/callback")

    assert provider_callback(request, provider_key=IdProvider.key, account_code=account.code).status_code == 405


def test_gcores_event_urls_are_served_by_the_generic_view(session, django_capture_on_commit_callbacks):
    account = session.occurrence.meeting.provider_account
    for path in (f"/providers/gcore/{account.code}/events", f"/providers/gcore/{account.code}/events/joinPeer"):
        match = resolve(path)
        assert match.func is provider_callback and match.kwargs["provider_key"] == "gcore"

    body = {"roomId": room_id(session.occurrence.meeting), "peerId": session.invitation.peer_id, "displayName": "Eve"}
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(f"/providers/gcore/{account.code}/events/joinPeer", json.dumps(body),
                                 content_type="application/json", HTTP_AUTHORIZATION=HEADER)

    assert response.json() == {"result": "recorded"}
    [stored] = ProviderEvent.objects.all()
    assert (stored.kind, stored.peer_id, stored.payload, len(stored.dedupe_key)) == (
        "joined", session.invitation.peer_id, body, 32)  # Gcore sends no id: a fresh uuid
    assert JoinSession.objects.get(pk=session.pk).connected
