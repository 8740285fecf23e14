"""Start and drive the VideoSDK contract server (tests/videosdk_api_server.py)."""

from .processes import ContractServerProcess


class VideoSDKApi(ContractServerProcess):
    script = "videosdk_api_server.py"
    control_timeout = 15  # a delivery waits for the portal's answer

    def __init__(self):
        super().__init__()
        self.tls_port = self.state()["tls_port"]
        self.signaling_host = f"127.0.0.1:{self.tls_port}"  # the browser SDK's side, on HTTPS

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
