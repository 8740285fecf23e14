"""VideoSDK (seed 003): rooms created through its REST API, an HS256 token per join with the role's
permissions, signed webhooks, and sync of sessions and recordings; the room page runs the pinned
@videosdk.live/js-sdk."""

from .provider import VideoSDKProvider

__all__ = ["VideoSDKProvider"]
