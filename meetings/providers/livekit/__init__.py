"""LiveKit (self-hosted or Cloud): rooms with the meeting's limits, an access token per join minted
with livekit-api, moderation through RoomService, attendance and recordings from signed webhooks."""

from .provider import LiveKitProvider

__all__ = ["LiveKitProvider"]
