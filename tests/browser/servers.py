"""Run the portal as real server processes on the test database, for room tests: one ASGI process
(uvicorn) serving pages and sockets, or the production shape runportal starts with Redis, pages on
gunicorn (WSGI) and room sockets on uvicorn (ASGI)."""

import os
import subprocess
import sys
import threading
import uuid
from pathlib import Path

from django.conf import settings

from portal.management.commands.runportal import socket_command, web_command

from ..processes import database_url_for_processes, free_port

ROOT = Path(__file__).resolve().parents[2]


class PortalServer:
    command = None  # the production command for (host, port); None: one uvicorn for pages and sockets
    ready = "Uvicorn running on"

    def __init__(self, var_dir: Path, *, redis_url: str | None, channels_prefix: str, **extra_env: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ,
               "DATABASE_URL": database_url_for_processes(),
               "PORTAL_VAR_DIR": str(var_dir), "SECRET_KEY": settings.SECRET_KEY,
               "CREDENTIALS_KEYS": ",".join(settings.CREDENTIALS_KEYS), "CHANNELS_PREFIX": channels_prefix,
               "SITE_URL": self.url, "LOG_LEVEL": "WARNING"}
        env.pop("REDIS_URL", None)
        if redis_url:
            env["REDIS_URL"] = redis_url
        self.env = {**env, **extra_env}
        self.channels_prefix = channels_prefix
        self.log: list[str] = []
        self.start()

    def start(self):
        command = self.command("127.0.0.1", self.port) if self.command else [
            sys.executable, "-m", "uvicorn", "portal.asgi:application", "--host", "127.0.0.1",
            "--port", str(self.port), "--lifespan", "off", "--log-level", "info", "--no-access-log",
            "--no-proxy-headers", "--timeout-graceful-shutdown", "5"]
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stderr=subprocess.PIPE,
                                        stdout=subprocess.DEVNULL, text=True)
        for line in self.process.stderr:  # blocks until the server reports it is serving
            self.log.append(line)
            if self.ready in line:
                break
        else:
            raise RuntimeError("the portal server did not start:\n" + "".join(self.log))
        # Keep reading, so a process that logs much never blocks on a full pipe.
        threading.Thread(target=lambda: self.log.extend(self.process.stderr), daemon=True).start()

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            # uvicorn waits for open sockets to finish; a test's work is done, so do not wait forever.
            self.process.kill()
            self.process.wait(timeout=10)

    def kill(self):
        """As a crash: the process dies at once and none of its sockets' disconnect handlers run."""
        self.process.kill()
        self.process.wait(timeout=20)


def start_servers(var_dir: Path, count: int, redis_url: str | None, **extra_env: str) -> list[PortalServer]:
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    return [PortalServer(var_dir, redis_url=redis_url, channels_prefix=prefix, **extra_env) for _ in range(count)]


class PagesServer(PortalServer):
    command, ready = staticmethod(web_command), "Listening at:"


class SocketServer(PortalServer):
    command = staticmethod(socket_command)


def start_production_pair(var_dir: Path, redis_url: str) -> tuple[PortalServer, PortalServer]:
    """Pages on gunicorn and room sockets on uvicorn, joined through Redis, as runportal and
    docker-compose.yml run them: the pages send browsers to the socket server's origin."""
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    sockets = SocketServer(var_dir, redis_url=redis_url, channels_prefix=prefix)
    pages = PagesServer(var_dir, redis_url=redis_url, channels_prefix=prefix,
                        ROOM_SOCKET_PORT=str(sockets.port))
    return pages, sockets
