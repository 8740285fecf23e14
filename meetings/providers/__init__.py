"""Providers by key. Adding one: a package with a Provider subclass (see the README's checklist), then
an entry here. Nothing outside meetings/providers imports a provider's package: it asks this registry."""

from .base import Provider
from .builtin import BuiltinProvider
from .gcore import GcoreProvider
from .jitsi import JitsiProvider
from .livekit import LiveKitProvider
from .signalwire import SignalWireProvider
from .videosdk import VideoSDKProvider

PROVIDERS: dict[str, type[Provider]] = {cls.key: cls for cls in (
    BuiltinProvider,
    GcoreProvider,
    SignalWireProvider,
    VideoSDKProvider,
    JitsiProvider,
    LiveKitProvider,
)}
DEFAULT_PROVIDER = BuiltinProvider.key


def get_provider(key: str, account=None) -> Provider:
    return PROVIDERS[key](account)


def provider_label(key: str) -> str:
    """A provider's name in words (in the active language), never its registry key; an unknown key as is."""
    provider = PROVIDERS.get(key)
    return str(provider.name) if provider else key


def provider_choices() -> list[tuple[str, str]]:
    return [(key, cls.name) for key, cls in PROVIDERS.items()]


def provider_urlpatterns() -> list:
    """Every provider package's own endpoints (callbacks the provider's servers make)."""
    import importlib

    patterns = []
    for cls in PROVIDERS.values():
        if cls.urls_module:
            patterns += importlib.import_module(cls.urls_module).urlpatterns
    return patterns
