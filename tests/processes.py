"""Processes the tests start: helper servers (each prints "LISTENING <port>" when ready), and what portal
processes need to find the test database and a free port."""

import socket
import subprocess
import sys
from pathlib import Path

from django.db import connection


def start_listening(script: str, *args: str) -> tuple[subprocess.Popen, int]:
    process = subprocess.Popen([sys.executable, str(Path(__file__).with_name(script)), *args],
                               stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()  # blocks until the server is bound and serving
    if not line.startswith("LISTENING "):
        process.kill()
        raise RuntimeError(f"{script} did not start: {line!r}")
    return process, int(line.split()[1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url_for_processes() -> str:
    """The test database, as a DATABASE_URL for the portal processes a test starts."""
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
