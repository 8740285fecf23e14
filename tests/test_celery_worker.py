"""A real Celery worker process, on Redis, sends the emails the web process queues."""

import email
from email import policy

import pytest
from celery.signals import after_task_publish
from django.test import Client

from portal.models import PendingTask

from .faults import wait_until
from .workers import celery_workers


@pytest.fixture
def worker(transactional_db, tmp_path):
    with celery_workers(1, tmp_path):
        yield tmp_path / "mail"


@pytest.fixture
def published_task_ids():
    ids = []

    def remember(sender=None, headers=None, **kwargs):
        ids.append(headers["id"])

    after_task_publish.connect(remember, weak=False)
    yield ids
    after_task_publish.disconnect(remember)


def test_worker_process_emails_a_new_member_a_working_set_password_link(worker, published_task_ids, alice):
    admin = Client()
    admin.force_login(alice.user)

    admin.post("/o/acme/members/", {"email": "worker.test@acme.test", "role": "member"})

    assert len(published_task_ids) == 1
    done = wait_until(lambda: PendingTask.objects.filter(done_at__isnull=False).first(), 60, "the email task")
    assert done.task == "accounts.tasks.send_member_added_email" and done.attempts == 0
    [eml] = list(worker.glob("*.eml"))
    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert message["To"] == "worker.test@acme.test"
    assert message["Subject"] == "You were added to Acme"
    text = message.get_body(("plain",)).get_content()
    link = next(line for line in text.splitlines() if "/password/set/" in line).strip()
    newcomer = Client()
    assert b'name="new_password1"' in newcomer.get(link.removeprefix("http://testserver"), follow=True).content
    assert message.get_body(("html",)) is not None
