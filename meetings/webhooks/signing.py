"""The signature every delivery carries (README, "Outgoing webhooks"):

    Portal-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" with the endpoint's secret>

The receiver recomputes v1 over the raw body it received and refuses a `t` more than
REPLAY_WINDOW_SECONDS away from its own clock, so a captured delivery cannot be played again later.
"""

import hashlib
import hmac

HEADER = "Portal-Signature"
REPLAY_WINDOW_SECONDS = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def header_value(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"
