"""{{ room.provider|provider_name }}: a provider's name in words, never its registry key."""

from django import template

from ..providers import PROVIDERS

register = template.Library()


@register.filter
def provider_name(key: str) -> str:
    provider = PROVIDERS.get(key)
    return provider.name if provider else key
