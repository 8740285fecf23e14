"""LiveKit across processes: a burst of webhooks, each delivered twice at once (LiveKit retries a
delivery it thinks failed), stored and applied by the web process while two real Celery workers
sync the same meeting twice each. LiveKit keeps no REST history, so the workers read the same
stored events the web process applies: every recording is listed once and the sitting ends once."""

import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from celery.result import AsyncResult
from django.db import connection
from django.test import Client
from django.utils import timezone

from meetings.models import Occurrence, OccurrenceUsage, ProviderEvent, Recording
from meetings.providers.livekit.provider import room_name
from meetings.tasks import sync_meeting_task

from ..factories import InvitationFactory, MeetingFactory, ProviderAccountFactory
from ..livekit_api import signed_webhook
from ..workers import celery_workers

KEY = "APIworkers"
SECRET = "workers-secret-" + "k" * 32


def egress(meeting, egress_id, started, *, status="EGRESS_COMPLETE"):
    nanos = str(int(started.timestamp() * 1e9))
    location = f"https://files.example.org/{egress_id}.mp4" if status == "EGRESS_COMPLETE" else ""
    return {"event": "egress_ended", "id": f"EV_{egress_id}", "createdAt": str(int(time.time())),
            "egressInfo": {"egressId": egress_id, "roomName": room_name(meeting), "status": status,
                           "startedAt": nanos, "fileResults": [
                               {"filename": f"{egress_id}.mp4", "location": location, "startedAt": nanos,
                                "duration": str(int(600 * 1e9)), "size": "1000"}]}}


def deliver_twice_at_once(account, events) -> list[int]:
    """Each event posted by two threads (two web requests, each on its own database connection)."""
    statuses, failures = [], []

    def deliver():
        try:
            browser = Client()
            for event in events:
                raw, token = signed_webhook(event, KEY, SECRET)
                statuses.append(browser.post(f"/providers/livekit/{account.code}/events", raw,
                                             content_type="application/webhook+json",
                                             HTTP_AUTHORIZATION=token).status_code)
        except Exception as error:  # reported below, in the test's thread
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures and not any(thread.is_alive() for thread in threads)
    return statuses


@pytest.mark.django_db(transaction=True)
def test_webhooks_and_two_workers_syncing_at_once_list_each_recording_once_and_end_the_sitting_once(
        acme, tmp_path):
    account = ProviderAccountFactory(organization=acme, name="LiveKit", provider="livekit", jwt_secret="",
                                     server_url="https://livekit.example.org", api_key=KEY, api_secret=SECRET)
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(hours=3)
    meeting = MeetingFactory(organization=acme, provider="livekit", provider_account=account, start=start,
                             end=start + timedelta(hours=1))
    InvitationFactory(meeting=meeting, role="host")
    sitting = meeting.occurrences.get()
    finished = {"event": "room_finished", "id": "EV_finished", "createdAt": str(int(sitting.end.timestamp())),
                "room": {"sid": "RM_1", "name": room_name(meeting)}}
    events = [egress(meeting, "EG_1", start + timedelta(minutes=5)),
              egress(meeting, "EG_2", start + timedelta(minutes=30)),
              egress(meeting, "EG_3", start + timedelta(minutes=40), status="EGRESS_FAILED"), finished]

    with celery_workers(2, tmp_path):
        queued = [sync_meeting_task.delay(meeting.pk, everything=True).id for _ in range(4)]
        statuses = deliver_twice_at_once(account, events)
        results = [AsyncResult(task_id).get(timeout=120) for task_id in queued]
        # And once more after the burst, both workers at once: nothing changes.
        again = [AsyncResult(sync_meeting_task.delay(meeting.pk, everything=True).id) for _ in range(2)]
        results += [result.get(timeout=120) for result in again]

    assert statuses == [200] * 8 and all("error" not in result for result in results)
    assert [(r["videos"], r["created"], r["removed"]) for r in results[-2:]] == [(3, 0, 0)] * 2
    recordings = {r.provider_recording_id: r for r in Recording.objects.filter(meeting=meeting)}
    assert Counter(Recording.objects.values_list("provider_recording_id", flat=True)) == {
        "EG_1": 1, "EG_2": 1, "EG_3": 1}
    assert [(k, r.status, r.download_url, r.occurrence_id) for k, r in sorted(recordings.items())] == [
        ("EG_1", "ready", "https://files.example.org/EG_1.mp4", sitting.pk),
        ("EG_2", "ready", "https://files.example.org/EG_2.mp4", sitting.pk),
        ("EG_3", "uploading", "", sitting.pk)]
    # Each delivery kept once and applied once; the room's end ended its sitting.
    assert Counter(ProviderEvent.objects.values_list("kind", flat=True)) == {"recording": 3, "finished": 1}
    assert not ProviderEvent.objects.filter(applied=False).exists()
    assert Occurrence.objects.get(pk=sitting.pk).status == Occurrence.Status.ENDED
    assert OccurrenceUsage.objects.filter(occurrence=sitting).count() == 1
