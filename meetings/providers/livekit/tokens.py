"""LiveKit access tokens, minted with livekit-api's AccessToken (HS256 with the account's secret, `iss`
= API key, `sub` = identity). A person's identity is their invitation's peer id, so webhooks and
RoomService calls name the same person the portal does; a second connection with the same identity
replaces the first at LiveKit, as a second join replaces the first in the portal."""

import json
from datetime import datetime, timedelta

from django.utils import timezone
from livekit import api as lk

from ...models import MODERATING_ROLES, Kind, Role

ALL_SOURCES = ["camera", "microphone", "screen_share", "screen_share_audio"]
MIN_TTL = timedelta(minutes=1)
# LiveKit reads a token only when a connection starts, and hands a connected client refreshed tokens
# of its own; ours is needed for minutes (page load, connect, the SDK's retries) and anything longer
# only lengthens how long a copy of it stays usable (its roomAdmin cannot be revoked). A reconnect
# after that asks the portal for a fresh one, which carries the person's current role.
LIFETIME = timedelta(minutes=5)


def is_audience(meeting, invitation) -> bool:
    """Webinar viewers (the observers): they watch and listen, publish nothing, and are hidden."""
    return invitation.is_watcher or (meeting.kind == Kind.WEBINAR and invitation.role == Role.VIEWER)


def sources_for(meeting, invitation) -> list[str]:
    if is_audience(meeting, invitation):
        return []
    if invitation.role == Role.INTERPRETER:
        return ["microphone"]
    return list(ALL_SOURCES)


def grants_for(meeting, invitation, room: str) -> lk.VideoGrants:
    """Exactly the role's rights in this one room."""
    audience = is_audience(meeting, invitation)
    sources = sources_for(meeting, invitation)
    return lk.VideoGrants(
        room_join=True, room=room, can_subscribe=True, can_publish=bool(sources), can_publish_sources=sources,
        can_publish_data=not audience, room_admin=True if invitation.is_moderating else None,
        hidden=True if audience else None)


def permission_for(meeting, invitation) -> lk.ParticipantPermission:
    """The same rights as a live participant's permission (RoomService UpdateParticipant)."""
    sources = sources_for(meeting, invitation)
    audience = is_audience(meeting, invitation)
    return lk.ParticipantPermission(
        can_subscribe=True, can_publish=bool(sources), can_publish_data=not audience,
        can_publish_sources=[lk.TrackSource.Value(source.upper()) for source in sources], hidden=audience)


def metadata_for(invitation) -> str:
    return json.dumps({"role": invitation.role, "peer_id": invitation.peer_id}, separators=(",", ":"))


def was_moderating(metadata: str) -> bool:
    """Whether a participant's metadata (ours, from the token or a role change) names a moderating
    role; metadata the portal did not write counts as moderating, to be safe."""
    try:
        return Role(json.loads(metadata)["role"]) in MODERATING_ROLES
    except (ValueError, TypeError, KeyError):
        return True


def mint(account, *, meeting, invitation, room: str, ends) -> tuple[str, datetime]:
    """A token for connecting now, and when it expires: LIFETIME from now, never past `ends` (the end
    of the person's stay) by more than MIN_TTL."""
    now = timezone.now()
    ttl = min(LIFETIME, max(MIN_TTL, ends - now))
    token = (lk.AccessToken(account.api_key, account.api_secret)
             .with_identity(invitation.peer_id)
             .with_name(invitation.display_name)
             .with_metadata(metadata_for(invitation))
             .with_grants(grants_for(meeting, invitation, room))
             .with_ttl(ttl)
             .to_jwt())
    return token, now + ttl


def verify_roundtrip(account) -> None:
    """Sign a token with the account's key and secret and read it back as LiveKit would."""
    token = (lk.AccessToken(account.api_key, account.api_secret).with_identity("portal-check")
             .with_grants(lk.VideoGrants(room_join=True, room="portal-check")).with_ttl(MIN_TTL).to_jwt())
    claims = lk.TokenVerifier(account.api_key, account.api_secret).verify(token)
    if claims.identity != "portal-check":
        raise ValueError("the token did not read back")
