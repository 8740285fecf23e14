"""VideoSDK's tokens (seed 003 and its v2 authentication page): HS256 JWTs signed with the account's
API secret, carrying the API key as `apikey` and a list of `permissions`:

- allow_join: joins directly; ask_join: waits until someone with allow_mod admits them (never together
  with the others); allow_mod: moderates (admits, mutes, removes, records).
- version 2 scopes a token with `roomId`, `participantId` and `roles`: "rtc" to join a room, "crawler"
  for the portal's own REST calls.

Every token has an `exp` and a fresh `jti`. VideoSDK's browser SDK cannot take a new token in a
live meeting (a reconnect sends the one it joined with), so a join token lasts for the person's
whole window, never beyond it.
"""

import uuid
from datetime import datetime, timedelta

import jwt
from django.utils import timezone

ALLOW_JOIN, ASK_JOIN, ALLOW_MOD = "allow_join", "ask_join", "allow_mod"
API_TOKEN_LIFETIME = timedelta(minutes=10)


def _sign(account, claims: dict) -> str:
    return jwt.encode(claims, account.api_secret, algorithm="HS256", headers={"typ": "JWT"})


def permissions_for(meeting, invitation) -> list[str]:
    """Moderators join and moderate; with the meeting's waiting room on, everyone else asks to join."""
    if invitation.is_moderating:
        return [ALLOW_JOIN, ALLOW_MOD]
    return [ASK_JOIN] if meeting.waiting_room else [ALLOW_JOIN]


def join_token(account, *, room_id: str, participant_id: str, permissions: list[str], expires_at: datetime,
               now: datetime | None = None) -> str:
    now = now or timezone.now()
    return _sign(account, {
        "apikey": account.api_key, "permissions": permissions, "version": 2, "roomId": room_id,
        "participantId": participant_id, "roles": ["rtc"], "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()), "jti": str(uuid.uuid4()),
    })


def api_token(account, *, now: datetime | None = None) -> str:
    """A short-lived token for one REST call (the server SDKs' management token)."""
    now = now or timezone.now()
    return _sign(account, {
        "apikey": account.api_key, "permissions": [ALLOW_JOIN, ALLOW_MOD], "version": 2, "roles": ["crawler"],
        "iat": int(now.timestamp()), "exp": int((now + API_TOKEN_LIFETIME).timestamp()), "jti": str(uuid.uuid4()),
    })
