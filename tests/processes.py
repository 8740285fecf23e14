"""Processes the tests start: helper servers (each prints "LISTENING <port>" when ready), and what portal
processes need to find the test database and a free port."""

import secrets
import socket
import subprocess
import sys
from pathlib import Path

import requests
from django.db import connection


def start_listening(script: str, *args: str) -> tuple[subprocess.Popen, int]:
    process = subprocess.Popen([sys.executable, str(Path(__file__).with_name(script)), *args],
                               stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()  # blocks until the server is bound and serving
    if not line.startswith("LISTENING "):
        process.kill()
        raise RuntimeError(f"{script} did not start: {line!r}")
    return process, int(line.split()[1])


class ContractServerProcess:
    """Start and drive a contract server (tests/contract_server.py): its /_control endpoints."""

    script: str  # the server's file name in tests/
    control_timeout = 5  # seconds a control call may take

    def __init__(self):
        self.control_token = secrets.token_urlsafe(16)
        self.process, port = start_listening(self.script, f"--control-token={self.control_token}")
        self.url = f"http://127.0.0.1:{port}"

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)

    def _post(self, path: str, body: dict | None = None) -> dict:
        answer = requests.post(self.url + path, json=body or {}, headers={"X-Control-Token": self.control_token},
                               timeout=self.control_timeout)
        answer.raise_for_status()
        return answer.json()

    def reset(self, **state):
        self._post("/_control/reset", state)

    def set(self, **state):
        self._post("/_control", state)

    def state(self) -> dict:
        return requests.get(f"{self.url}/_control/log", headers={"X-Control-Token": self.control_token},
                            timeout=5).json()

    def requests(self, path: str | None = None, method: str | None = None) -> list[dict]:
        return [r for r in self.state()["requests"]
                if (path is None or r["path"] == path) and (method is None or r.get("method") == method)]

    def busiest_second(self) -> int:
        """The most requests the server received within any one second."""
        times = sorted(entry["at"] for entry in self.state()["requests"])
        return max((sum(1 for t in times if start <= t < start + 1) for start in times), default=0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url_for_processes() -> str:
    """The test database, as a DATABASE_URL for the portal processes a test starts."""
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
