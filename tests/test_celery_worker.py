"""A real Celery worker process, on Redis, sends the emails the web process queues."""

import email
import os
import subprocess
import sys
import uuid
from email import policy

import pytest
from celery.result import AsyncResult
from celery.signals import after_task_publish
from django.db import connection
from django.test import Client

from portal.celery import app as celery_app


@pytest.fixture
def worker(transactional_db, settings, tmp_path):
    """Start `celery worker` against the test database on a queue of its own."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_QUEUE": queue,
        "PORTAL_VAR_DIR": str(tmp_path),
        "SECRET_KEY": settings.SECRET_KEY,
        "CREDENTIALS_KEYS": ",".join(settings.CREDENTIALS_KEYS),
        "SITE_URL": "http://testserver",
    }
    env.pop("EMAIL_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool=solo", "--without-mingle",
         "--without-gossip", "--loglevel=WARNING"], env=env)
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue
    try:
        yield tmp_path / "mail"
    finally:
        celery_app.conf.task_always_eager = True
        celery_app.conf.task_default_queue = settings.CELERY_TASK_DEFAULT_QUEUE
        process.terminate()
        process.wait(timeout=20)


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
    AsyncResult(published_task_ids[0], app=celery_app).get(timeout=60)  # raises if the task failed
    [eml] = list(worker.glob("*.eml"))
    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert message["To"] == "worker.test@acme.test"
    assert message["Subject"] == "You were added to Acme"
    text = message.get_body(("plain",)).get_content()
    link = next(line for line in text.splitlines() if "/password/set/" in line).strip()
    newcomer = Client()
    assert b'name="new_password1"' in newcomer.get(link.removeprefix("http://testserver"), follow=True).content
    assert message.get_body(("html",)) is not None
