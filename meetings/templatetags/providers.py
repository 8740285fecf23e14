"""{{ room.provider|provider_name }}: a provider's name in words, never its registry key."""

from django import template

from ..providers import provider_label

register = template.Library()


@register.filter
def provider_name(key: str) -> str:
    return provider_label(key)
