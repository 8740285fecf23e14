"""Start and drive the Gcore Streaming API contract server (tests/gcore_api_server.py)."""

from .processes import ContractServerProcess


class GcoreApi(ContractServerProcess):
    script = "gcore_api_server.py"

    def reset(self, api_token):
        super().reset(api_token=api_token)

    def log(self) -> list[dict]:
        return self.state()["requests"]
