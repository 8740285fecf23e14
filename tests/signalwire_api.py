"""Start and drive the SignalWire contract server (tests/signalwire_api_server.py)."""

import secrets

import requests

from .processes import start_listening


class SignalWireApi:
    def __init__(self):
        self.control_token = secrets.token_urlsafe(16)
        self.process, port = start_listening("signalwire_api_server.py", f"--control-token={self.control_token}")
        self.url = f"http://127.0.0.1:{port}"

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)

    def _post(self, path, body):
        requests.post(self.url + path, json=body, headers={"X-Control-Token": self.control_token},
                      timeout=5).raise_for_status()

    def reset(self, **state):
        self._post("/_control/reset", state)

    def set(self, **state):
        self._post("/_control", state)

    def state(self) -> dict:
        return requests.get(f"{self.url}/_control/log", headers={"X-Control-Token": self.control_token},
                            timeout=5).json()

    def requests(self, path: str | None = None, method: str | None = None) -> list[dict]:
        return [r for r in self.state()["requests"]
                if (path is None or r["path"] == path) and (method is None or r["method"] == method)]

    def busiest_second(self) -> int:
        times = sorted(entry["at"] for entry in self.state()["requests"])
        return max((sum(1 for t in times if start <= t < start + 1) for start in times), default=0)
