"""Self-hosted Jitsi Meet: a signed JWT per join (HS256 with the app secret, or RS256 with a key id),
and a room page on the IFrame API loaded in a frame served by the operator's JITSI_FRAME_ORIGIN, another
site than the portal (frame.py)."""

from .provider import JitsiProvider

__all__ = ["JitsiProvider"]
