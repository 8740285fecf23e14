"""Real Celery worker processes for tests where crossing a process boundary matters."""

import os
import subprocess
import sys
import uuid
from contextlib import contextmanager

from django.conf import settings

from portal.celery import app as celery_app

from .processes import database_url_for_processes


@contextmanager
def celery_workers(count: int, var_dir, **extra_env):
    """Start `count` workers against the test database, on a queue of their own, and send this
    process's tasks there instead of running them eagerly."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_processes(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_QUEUE": queue,
        "PORTAL_VAR_DIR": str(var_dir),
        "SECRET_KEY": settings.SECRET_KEY,
        "CREDENTIALS_KEYS": ",".join(settings.CREDENTIALS_KEYS),
        "SITE_URL": "http://testserver",
        **extra_env,
    }
    env.pop("EMAIL_URL", None)
    processes = [subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool=solo", "--without-mingle",
         "--without-gossip", "--loglevel=WARNING", "-n", f"{queue}-{number}@%h"], env=env)
        for number in range(count)]
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = True
        celery_app.conf.task_default_queue = settings.CELERY_TASK_DEFAULT_QUEUE
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)
