"""Parts of the machine a test can break: a Redis of its own, a door to PostgreSQL it can close or cut,
and Celery workers and beat it can kill and start again. The shared PostgreSQL and Redis are never
stopped."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import redis
from celery import Celery
from django.conf import settings
from django.db import connection

from portal.celery import app as default_app

from .processes import database_url_for_processes, free_port

ROOT = Path(__file__).resolve().parents[1]
LOG_LEVEL = os.environ.get("TEST_WORKER_LOGLEVEL", "WARNING")  # INFO shows what workers and beat did


class OwnRedis:
    """A redis-server on a port of its own, keeping nothing on disk (like docker-compose's)."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None
        self.start()

    def start(self):
        self.process = subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no"], stdout=subprocess.PIPE, text=True)
        for line in self.process.stdout:  # blocks until it accepts connections
            if "Ready to accept connections" in line:
                break
        threading.Thread(target=self.process.stdout.read, daemon=True).start()

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


class DatabaseDoor:
    """A TCP proxy between the portal's processes and PostgreSQL: `close()` refuses new connections
    and cuts the open ones (the database is unreachable), `cut()` only cuts the open ones."""

    def __init__(self):
        db = connection.settings_dict
        self.target = (db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"postgres://{db['USER']}@127.0.0.1:{self.port}/{db['NAME']}"
        self.open, self.pairs, self.lock = True, [], threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open:
                client.close()
                continue
            try:
                server = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.pairs.append((client, server))
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for pair in pairs:
            for end in pair:
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                end.close()

    def close(self):
        self.open = False
        self.cut()

    def reopen(self):
        self.open = True

    def stop(self):
        self.close()
        self.listener.close()


class Mailbox:
    """What the workers' mail backend (tests/faults_mail.py) reports, read from the shared Redis: a
    test waits on it (BLPOP with a deadline) instead of polling."""

    def __init__(self, var_dir: Path):
        self.key = f"test-mail-{uuid.uuid4().hex[:8]}"
        self.redis = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=None)  # BLPOP waits longer
        self.directory = Path(var_dir) / "mail"
        self.sent: list[str] = []  # recipients reported sent so far, in order

    def env(self, delay: float) -> dict:
        return {"EMAIL_BACKEND": "tests.faults_mail.ReportingEmlBackend", "TEST_MAIL_KEY": self.key,
                "TEST_MAIL_REDIS": settings.REDIS_URL, "TEST_MAIL_DELAY": str(delay)}

    def next_event(self, timeout: float) -> tuple[str, int, str]:
        """("sending" or "sent", worker pid, recipient), or AssertionError when none comes in time."""
        popped = self.redis.blpop([self.key], timeout=timeout)
        assert popped is not None, f"no mail event within {timeout} s"
        kind, pid, recipient = popped[1].decode().split(" ", 2)
        if kind == "sent":
            self.sent.append(recipient)
        return kind, int(pid), recipient

    def recipients(self) -> list[str]:
        """Every message written, by its To: address (one per file)."""
        found = []
        for path in self.directory.glob("*.eml"):
            for line in path.read_text().splitlines():
                if line.startswith("To: "):
                    found.append(line[4:].strip())
                    break
        return found


class Workers:
    """Celery worker processes (and optionally beat) on a queue of their own, which a test can kill
    with SIGKILL and start again under the same name."""

    def __init__(self, var_dir: Path, *, redis_url: str, database_url: str | None = None, **extra_env):
        self.queue = f"test-{uuid.uuid4().hex[:8]}"
        self.env = {
            **os.environ, "REDIS_URL": redis_url, "CELERY_QUEUE": self.queue, "PORTAL_VAR_DIR": str(var_dir),
            "DATABASE_URL": database_url or database_url_for_processes(),
            "SECRET_KEY": settings.SECRET_KEY, "CREDENTIALS_KEYS": ",".join(settings.CREDENTIALS_KEYS),
            "SITE_URL": "http://testserver", **extra_env}
        self.env.pop("EMAIL_URL", None)
        self.processes: dict[str, subprocess.Popen] = {}

    def start(self, name: str):
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool=solo", "--without-mingle",
             "--without-gossip", f"--loglevel={LOG_LEVEL}", "-n", f"{self.queue}-{name}@%h"], env=self.env, cwd=ROOT)

    def start_beat(self, var_dir: Path):
        self.processes["beat"] = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "portal", "beat", f"--loglevel={LOG_LEVEL}",
             "--schedule", str(Path(var_dir) / "beat-schedule")], env=self.env, cwd=ROOT)

    def kill(self, pid: int) -> str:
        """SIGKILL the worker process `pid` (as the OOM killer would); returns its name."""
        name = next(name for name, process in self.processes.items() if process.pid == pid)
        os.kill(pid, signal.SIGKILL)
        self.processes[name].wait(timeout=10)
        return name

    def stop(self):
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def wait_until(condition, timeout: float, what: str = "the condition"):
    """Check `condition` every 50 ms until it returns something true; that value, or AssertionError
    after `timeout` seconds."""
    deadline, tick = time.monotonic() + timeout, threading.Event()
    while not (value := condition()):
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout} s"
        tick.wait(0.05)
    return value


@contextmanager
def sending_to(workers: "Workers"):
    """Tasks this process sends (after commit) go to the workers' broker and queue."""
    sender = Celery("portal")
    sender.config_from_object("django.conf:settings", namespace="CELERY")
    sender.conf.update(broker_url=workers.env["REDIS_URL"], result_backend=workers.env["REDIS_URL"],
                       task_default_queue=workers.queue, task_always_eager=False)
    sender.set_current()
    try:
        yield sender
    finally:
        default_app.set_current()
        sender.close()
