"""Start and drive the VideoSDK contract server (tests/videosdk_api_server.py)."""

import secrets

import requests

from .processes import start_listening


class VideoSDKApi:
    def __init__(self):
        self.control_token = secrets.token_urlsafe(16)
        self.process, port = start_listening("videosdk_api_server.py", f"--control-token={self.control_token}")
        self.url = f"http://127.0.0.1:{port}"
        self.tls_port = self.state()["tls_port"]
        self.signaling_host = f"127.0.0.1:{self.tls_port}"  # the browser SDK's side, on HTTPS

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)

    def _post(self, path, body=None) -> dict:
        answer = requests.post(self.url + path, json=body or {}, headers={"X-Control-Token": self.control_token},
                               timeout=15)
        answer.raise_for_status()
        return answer.json()

    def reset(self, **state):
        self._post("/_control/reset", state)

    def set(self, **state):
        self._post("/_control", state)

    def add_session(self, session: dict):
        self._post("/_control/session", session)

    def add_recording(self, recording: dict):
        self._post("/_control/recording", recording)

    def rotate_key(self):
        self._post("/_control/rotate-key")

    def deliver(self, url: str, event=None, *, raw: str | None = None, signing: str = "raw") -> dict:
        """Post a webhook to `url` signed as VideoSDK signs them; the portal's answer."""
        body = {"url": url, "signing": signing, **({"raw": raw} if raw is not None else {"event": event})}
        return self._post("/_control/deliver", body)

    def state(self) -> dict:
        return requests.get(f"{self.url}/_control/log", headers={"X-Control-Token": self.control_token},
                            timeout=5).json()

    def requests(self, path: str | None = None, method: str | None = None) -> list[dict]:
        return [r for r in self.state()["requests"]
                if (path is None or r["path"] == path) and (method is None or r["method"] == method)]

    def busiest_second(self) -> int:
        times = sorted(entry["at"] for entry in self.state()["requests"])
        return max((sum(1 for t in times if start <= t < start + 1) for start in times), default=0)
