"""SignalWire Video (seeds 000, 001, 002): rooms created on demand, a room token per join, Fabric
guest and subscriber tokens, Relay JWTs refreshed server-side, and sync by polling its REST API."""

from .provider import SignalWireProvider

__all__ = ["SignalWireProvider"]
