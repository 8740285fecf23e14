"""Gcore Meet (seed 004): everything Gcore-specific lives in this package. The rest of the portal
reaches it only through GcoreProvider (providers/base.py's interface) and the registry."""

from .provider import GcoreProvider

__all__ = ["GcoreProvider"]
