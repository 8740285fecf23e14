"""Start and drive the Gcore Streaming API contract server (tests/gcore_api_server.py)."""

import secrets

import requests

from .processes import start_listening


class GcoreApi:
    def __init__(self):
        self.control_token = secrets.token_urlsafe(16)
        self.process, port = start_listening("gcore_api_server.py", f"--control-token={self.control_token}")
        self.url = f"http://127.0.0.1:{port}"

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)

    def set(self, **state):
        requests.post(f"{self.url}/_control", json=state, headers={"X-Control-Token": self.control_token},
                      timeout=5).raise_for_status()

    def reset(self, api_token):
        self.set(api_token=api_token, videos=[], peers={}, legacy_only=False, fail_next=0, throttle_next=0, rooms={},
                 retry_after=None, log=[], recent=[])

    def log(self):
        return requests.get(f"{self.url}/_control/log", timeout=5).json()

    def busiest_second(self) -> int:
        """The most requests the server received within any one second."""
        times = sorted(entry["at"] for entry in self.log())
        return max((sum(1 for t in times if start <= t < start + 1) for start in times), default=0)
