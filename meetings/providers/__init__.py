"""Providers by key. Adding one: a module with a Provider subclass, then an entry here."""

from .base import Provider
from .builtin import BuiltinProvider
from .gcore import GcoreProvider

PROVIDERS: dict[str, type[Provider]] = {BuiltinProvider.key: BuiltinProvider, GcoreProvider.key: GcoreProvider}
DEFAULT_PROVIDER = BuiltinProvider.key


def get_provider(key: str, account=None) -> Provider:
    return PROVIDERS[key](account)


def provider_choices() -> list[tuple[str, str]]:
    return [(key, cls.name) for key, cls in PROVIDERS.items()]
