"""What the portal may read from SignalWire's tokens without verifying them (it has no key)."""

import base64
import json
import re

HOST = re.compile(r"^(wss?://)?[A-Za-z0-9.-]+(:\d{1,5})?(/[A-Za-z0-9._/-]*)?$")


def channel_host(token: str) -> str:
    """The `ch` header of a SignalWire JWT: the host its SDK connects to (the room page's CSP allows
    exactly it). Empty when the token has none, or anything that is not a plain host."""
    try:
        header = token.split(".")[0]
        decoded = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    except (ValueError, IndexError):
        return ""
    host = decoded.get("ch") if isinstance(decoded, dict) else None
    return host if isinstance(host, str) and HOST.match(host) else ""
