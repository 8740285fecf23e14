"""Outgoing webhooks, end to end against a real HTTP receiver that checks each signature the way the
README documents it: every event type from the action that causes it, subscriptions, tenancy,
retries on the documented schedule, disabling with an email to the admins, and a real worker."""

import json
from datetime import datetime, timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from meetings.models import Occurrence, Recording, WebhookDelivery, WebhookEndpoint
from meetings.services import attendance, scheduling
from meetings.webhooks import services
from meetings.webhooks.models import EVENT_TYPES
from portal import outbox
from portal.models import PendingTask

from ..factories import InvitationFactory, MembershipFactory, RoomFactory, UserFactory
from ..faults import wait_until
from ..webhook_receiver import Receiver, verify
from ..workers import celery_workers


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture
def sent(django_capture_on_commit_callbacks):
    """Run what is queued after commit (tasks run in-process unless a worker is started)."""
    def run(action, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args, **kwargs)
    return run


def endpoint_for(receiver, organization, name, events=EVENT_TYPES) -> WebhookEndpoint:
    endpoint = services.endpoint_create(organization=organization, url=receiver.url(name), events_wanted=events)
    receiver.secrets[name] = endpoint.secret  # what the admin copied when it was shown once
    return endpoint


def schedule(organization, owner, **extra):
    start = timezone.now().replace(microsecond=0) + timedelta(minutes=10)
    return scheduling.meeting_schedule(
        organization=organization, room=RoomFactory(organization=organization, owner=owner), owner=owner,
        title="Course kickoff", start=start, end=start + timedelta(hours=1), timezone_name="Europe/Berlin",
        **extra)


def test_each_event_type_is_emitted_by_the_action_that_causes_it(acme, alice, receiver, sent, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    endpoint_for(receiver, acme, "all")

    meeting = sent(schedule, acme, alice.user, recording_allowed=True)
    sent(scheduling.meeting_update, meeting=meeting, title="Course kickoff (room 2)")
    host = InvitationFactory(meeting=meeting, role="host", email="teacher@acme.test")
    browser = Client()
    sent(browser.post, f"/j/{host.token}/opened")
    sent(browser.post, f"/j/{host.token}")  # joins: the sitting goes live
    code = browser.post(f"/j/{host.token}/recordings/").json()["recording"]
    browser.post(f"/j/{host.token}/recordings/{code}/chunks/0", b"video", content_type="application/octet-stream")
    sent(browser.post, f"/j/{host.token}/recordings/{code}/finish", json.dumps({"chunks": 1, "duration": 2.0}),
         content_type="application/json")
    sent(browser.post, f"/j/{host.token}/leave")
    occurrence = meeting.occurrences.get()
    sent(scheduling.occurrence_end, occurrence=occurrence)
    sent(scheduling.occurrence_reopen, occurrence=occurrence)
    sent(scheduling.meeting_cancel, meeting=meeting)

    assert receiver.types("all") == [
        "meeting.scheduled", "meeting.updated", "invitation.opened", "meeting.started", "participant.joined",
        "recording.ready", "participant.left", "meeting.ended", "meeting.reopened", "meeting.cancelled"]
    deliveries = receiver.of("all")
    assert all(entry["verified"] for entry in deliveries)
    for entry in deliveries:
        event = entry["event"]
        assert set(event) == {"id", "type", "created_at", "organization", "data"}
        assert event["organization"] == "acme" and entry["event_id_header"] == event["id"]
        assert datetime.fromisoformat(event["created_at"]).utcoffset() is not None
        assert event["data"]["meeting"]["code"] == meeting.code
        assert host.token.encode() not in entry["body"] and b"/j/" not in entry["body"]
    by_type = {entry["event"]["type"]: entry["event"]["data"] for entry in deliveries}
    assert by_type["participant.joined"]["participant"]["code"] == host.code
    assert by_type["participant.joined"]["occurrence"]["code"] == occurrence.code
    assert by_type["participant.left"]["reason"] == "left"
    assert by_type["recording.ready"]["recording"]["code"] == Recording.objects.get().code
    assert by_type["meeting.updated"]["meeting"]["title"] == "Course kickoff (room 2)"
    assert by_type["invitation.opened"]["invitation"]["code"] == host.code
    assert by_type["meeting.reopened"]["occurrence"]["code"] == occurrence.code
    assert WebhookDelivery.objects.filter(status="delivered").count() == 10


def test_a_hosted_providers_join_and_leave_and_a_finished_sitting_are_emitted(acme, alice, receiver, sent):
    endpoint_for(receiver, acme, "hosted", ["participant.joined", "participant.left", "meeting.ended"])
    meeting = schedule(acme, alice.user)
    guest = InvitationFactory(meeting=meeting)
    occurrence = meeting.occurrences.get()
    at = occurrence.start + timedelta(minutes=1)

    sent(attendance.record_join, meeting=meeting, peer_id=guest.peer_id, at=at)
    sent(attendance.record_join, meeting=meeting, peer_id=guest.peer_id, at=at)  # a repeat changes nothing
    sent(attendance.record_leave, meeting=meeting, peer_id=guest.peer_id, at=at + timedelta(minutes=5))
    Occurrence.objects.filter(pk=occurrence.pk).update(end=timezone.now() - timedelta(hours=1))
    sent(scheduling.close_finished_occurrences, grace=timedelta(minutes=10))

    assert receiver.types("hosted") == ["participant.joined", "participant.left", "meeting.ended"]
    joined = receiver.of("hosted")[0]["event"]["data"]
    assert joined["source"] == "provider" and joined["participant"]["peer_id"] == guest.peer_id


def test_only_subscribed_events_go_out_and_never_to_another_organization(acme, alice, charlie, receiver, sent):
    endpoint_for(receiver, acme, "acme", ["meeting.scheduled"])
    endpoint_for(receiver, charlie.organization, "globex")

    meeting = sent(schedule, acme, alice.user)
    sent(scheduling.meeting_update, meeting=meeting, title="Renamed")
    sent(scheduling.meeting_cancel, meeting=meeting)

    assert receiver.types("acme") == ["meeting.scheduled"]
    assert receiver.of("globex") == []
    assert WebhookDelivery.objects.filter(organization=charlie.organization).count() == 0


def test_a_change_that_rolls_back_sends_nothing(acme, alice, receiver, sent):
    endpoint_for(receiver, acme, "acme")

    with pytest.raises(ValueError, match="rolled back"):
        def fail_after_scheduling():
            from django.db import transaction

            with transaction.atomic():
                schedule(acme, alice.user)
                raise ValueError("rolled back")
        sent(fail_after_scheduling)

    assert receiver.of("acme") == [] and not WebhookDelivery.objects.exists()


def due_now(delivery) -> None:
    """Time passes until the delivery's next try (nobody sleeps): its outbox row becomes due."""
    PendingTask.objects.filter(task="meetings.webhooks.tasks.deliver_webhook", args=[delivery.pk],
                               done_at__isnull=True).update(due_at=timezone.now() - timedelta(seconds=1))


def test_a_failed_delivery_is_retried_on_the_schedule_until_the_receiver_takes_it(acme, alice, receiver, sent):
    endpoint_for(receiver, acme, "flaky", ["meeting.scheduled"])
    receiver.answers["flaky"] = [500, 503]

    sent(schedule, acme, alice.user)
    delivery = WebhookDelivery.objects.get()
    first = delivery.attempt_log.get()
    retry = PendingTask.objects.get(task="meetings.webhooks.tasks.deliver_webhook", done_at__isnull=True)

    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    assert delivery.next_attempt_at == retry.due_at
    assert delivery.next_attempt_at - (first.started_at + timedelta(milliseconds=first.duration_ms)) == \
        pytest.approx(timedelta(minutes=1), abs=timedelta(seconds=1))
    assert '"ok": false' in first.response_excerpt
    assert outbox.sweep() == 0  # not due before its time

    due_now(delivery)
    sent(outbox.sweep)
    delivery.refresh_from_db()
    second = delivery.attempt_log.get(number=2)
    assert (delivery.status, delivery.attempts, second.status_code) == ("pending", 2, 503)
    assert delivery.next_attempt_at - second.started_at == pytest.approx(timedelta(minutes=5), abs=timedelta(seconds=2))

    due_now(delivery)
    sent(outbox.sweep)
    delivery.refresh_from_db()

    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 3, 200)
    assert [entry["status"] for entry in receiver.of("flaky")] == [500, 503, 200]
    assert len({entry["event"]["id"] for entry in receiver.of("flaky")}) == 1
    assert all(entry["verified"] for entry in receiver.of("flaky"))
    assert WebhookEndpoint.objects.get().failing_since is None


def test_retries_stop_after_about_a_day_and_the_delivery_is_given_up(acme, alice, receiver, sent):
    endpoint_for(receiver, acme, "down", ["meeting.scheduled"])
    receiver.answers["down"] = [500] * 20

    sent(schedule, acme, alice.user)
    delivery = WebhookDelivery.objects.get()
    gaps = []
    while delivery.status == "pending":
        gaps.append(round((delivery.next_attempt_at - timezone.now()).total_seconds() / 60))
        due_now(delivery)
        sent(outbox.sweep)
        delivery.refresh_from_db()

    assert gaps == [1, 5, 30, 120, 360, 720]
    assert delivery.status == "failed" and delivery.attempts == 7 and "Gave up after 7 attempts" in delivery.last_error
    assert sum(gaps) / 60 == pytest.approx(20.6, abs=0.1)  # the last try comes about 20.6 h after the event


def test_an_endpoint_failing_for_a_day_is_disabled_and_its_admins_are_emailed(acme, alice, bob, receiver, sent):
    admin = MembershipFactory(organization=acme, role="admin", user=UserFactory(email="dana@acme.test"))
    endpoint = endpoint_for(receiver, acme, "gone", ["meeting.scheduled", "meeting.updated"])
    receiver.answers["gone"] = [500] * 5
    meeting = sent(schedule, acme, alice.user)
    endpoint.refresh_from_db()
    assert endpoint.enabled and endpoint.failing_since is not None
    # Nothing has been taken for 25 hours by the time the next event fails.
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=timezone.now() - timedelta(hours=25))

    sent(scheduling.meeting_update, meeting=meeting, title="Still failing")

    endpoint.refresh_from_db()
    assert not endpoint.enabled and "every delivery failed for 25 hours" in endpoint.disabled_reason
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"cancelled"}
    assert sorted(message.to[0] for message in mail.outbox) == sorted([alice.user.email, admin.user.email])
    assert all(endpoint.url in message.body and f"/integrations/webhooks/{endpoint.code}/" in message.body
               for message in mail.outbox)

    sent(scheduling.meeting_cancel, meeting=meeting)  # a disabled endpoint is sent nothing
    assert WebhookDelivery.objects.filter(event_type="meeting.cancelled").count() == 0
    assert len(receiver.of("gone")) == 2


def test_the_signing_secret_is_never_logged(acme, alice, receiver, sent, caplog):
    caplog.set_level("DEBUG")
    endpoint = endpoint_for(receiver, acme, "quiet", ["meeting.scheduled", "meeting.updated"])
    receiver.answers["quiet"] = [500]
    meeting = sent(schedule, acme, alice.user)
    sent(scheduling.meeting_update, meeting=meeting, title="Renamed")

    assert len(receiver.of("quiet")) == 2
    assert endpoint.secret not in caplog.text
    assert endpoint.secret not in json.dumps(list(WebhookDelivery.objects.values("body", "last_response")))


def test_a_signature_fails_the_documented_check_when_body_secret_or_time_are_wrong(acme, alice, receiver, sent):
    endpoint_for(receiver, acme, "check", ["meeting.scheduled"])
    sent(schedule, acme, alice.user)
    [entry] = receiver.of("check")
    secret, header, body = receiver.secrets["check"], entry["header"], entry["body"]
    timestamp = int(header.split(",")[0].removeprefix("t="))

    assert verify(secret, header, body)
    assert not verify(secret, header, body + b" ")
    assert not verify("whsec_another", header, body)
    assert not verify(secret, header, body, now=timestamp + 301)  # replayed after the 5-minute window


@pytest.fixture
def worker(transactional_db, tmp_path):
    with celery_workers(1, tmp_path, OUTBOUND_ALLOW_PRIVATE_ADDRESSES="true"):
        yield


def test_a_worker_process_delivers_after_commit_and_retries_from_its_outbox_row(worker, acme, alice, receiver):
    endpoint_for(receiver, acme, "worker", ["meeting.scheduled"])
    receiver.answers["worker"] = [502]

    schedule(acme, alice.user)  # commits: the task goes to the worker through Redis

    delivery = wait_until(lambda: WebhookDelivery.objects.filter(attempts=1).first(), 60, "the first attempt")
    assert delivery.status == "pending" and delivery.last_status_code == 502
    due_now(delivery)
    outbox.sweep()  # what beat does every OUTBOX_SWEEP_SECONDS
    wait_until(lambda: WebhookDelivery.objects.filter(status="delivered").exists(), 60, "the retry")
    assert [entry["status"] for entry in receiver.of("worker")] == [502, 200]
    assert all(entry["verified"] for entry in receiver.of("worker"))
