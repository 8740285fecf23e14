"""Idempotent retries through a real server: twins of one create that arrive together (a client's
timeout retry racing the original) make one meeting, and every twin answers it."""

import threading
from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from accounts.api_keys import api_key_create
from meetings.models import Meeting

pytestmark = pytest.mark.django_db(transaction=True)
TWINS = 6


def test_twins_arriving_together_make_one_meeting(live_server, alice):
    _, key = api_key_create(organization=alice.organization, created_by=alice.user, name="lms", scopes=["write"])
    start = (timezone.now() + timedelta(days=1)).replace(microsecond=0)
    body = {"title": "Twins", "start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()}
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": "lms-course-42-session-1"}
    barrier, answers = threading.Barrier(TWINS), []

    def send():
        barrier.wait(timeout=30)
        answers.append(requests.post(f"{live_server.url}/api/v1/meetings", json=body, headers=headers, timeout=30))

    threads = [threading.Thread(target=send) for _ in range(TWINS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert [answer.status_code for answer in answers] == [201] * TWINS
    assert len({answer.json()["code"] for answer in answers}) == 1
    assert Meeting.objects.count() == 1
    assert sum(answer.headers.get("Idempotent-Replayed") == "true" for answer in answers) == TWINS - 1
