"""Secret URL tokens: join links, open viewer links and calendar feeds.

A token is 32 bytes, URL-safe (43 characters), derived as HMAC-SHA256 of what it opens with a key
drawn from SECRET_KEY. Only its SHA-256 is stored, so a copy of the database opens nothing; the
server can still put the same link in every update and reminder email, which a calendar update
needs because it replaces the entry's description. A new generation revokes the previous token.
"""

import hashlib
import hmac
import re
import secrets
from base64 import urlsafe_b64encode

from django.utils.crypto import salted_hmac

TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$")


def derive_token(purpose: str) -> str:
    digest = salted_hmac("meetings.links", purpose, algorithm="sha256").digest()
    return urlsafe_b64encode(digest).rstrip(b"=").decode()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def is_well_formed(token: str) -> bool:
    return bool(TOKEN_PATTERN.match(token))


def hashes_match(token: str, stored_hash: str) -> bool:
    return hmac.compare_digest(token_hash(token), stored_hash)


def invitation_token(invitation, generation: int | None = None) -> str:
    generation = invitation.link_generation if generation is None else generation
    return derive_token(f"invitation:{invitation.code}:{generation}")


def open_link_token(meeting, generation: int) -> str:
    return derive_token(f"open:{meeting.code}:{generation}")


def calendar_feed_token(feed) -> str:
    return derive_token(f"calendar:{feed.user_id}:{feed.generation}")


def access_token(session) -> str:
    """The token a hosted provider presents to the access check for one join session."""
    return derive_token(f"access:{session.code}")


def new_session_key() -> str:
    """The secret a browser holds for its join session (random, never derived)."""
    return secrets.token_urlsafe(32)
