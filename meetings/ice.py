"""The ICE servers a room page gets: configured STUN/TURN servers, plus short-lived TURN REST credentials
when a shared secret is set (the scheme coturn's use-auth-secret understands)."""

import base64
import hashlib
import hmac
import time

from django.conf import settings


def ice_servers_for(peer: str) -> list[dict]:
    servers = list(settings.ICE_SERVERS)
    if settings.TURN_SHARED_SECRET and settings.TURN_URLS:
        username = f"{int(time.time()) + settings.TURN_CREDENTIAL_SECONDS}:{peer}"
        digest = hmac.new(settings.TURN_SHARED_SECRET.encode(), username.encode(), hashlib.sha1).digest()
        servers.append({"urls": settings.TURN_URLS, "username": username,
                        "credential": base64.b64encode(digest).decode()})
    return servers
