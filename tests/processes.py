"""Helper servers the tests run as processes of their own: each prints "LISTENING <port>" when ready."""

import subprocess
import sys
from pathlib import Path


def start_listening(script: str, *args: str) -> tuple[subprocess.Popen, int]:
    process = subprocess.Popen([sys.executable, str(Path(__file__).with_name(script)), *args],
                               stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()  # blocks until the server is bound and serving
    if not line.startswith("LISTENING "):
        process.kill()
        raise RuntimeError(f"{script} did not start: {line!r}")
    return process, int(line.split()[1])
