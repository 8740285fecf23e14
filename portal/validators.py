"""Validators for values people type that end up in addresses, headers, emails or the database."""

import ipaddress
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# Names that never reach the public internet (RFC 6761, RFC 6762, RFC 8375 and common private zones).
_PRIVATE_SUFFIXES = ("localhost", "local", "internal", "intranet", "lan", "home", "corp", "private",
                     "home.arpa", "localdomain", "test", "invalid", "example", "onion")


def public_hostname_problem(value: str, *, private_names_allowed: bool = False) -> str | None:
    """Why `value` is not a bare public DNS host name, or None when it is one. With
    private_names_allowed, a well-formed name in a private zone (an email domain like corp.test) passes."""
    if not isinstance(value, str) or not value:
        return _("Give a host name, like meet.example.com.")
    if not value.isascii():
        return _("Use the host name's ASCII (xn--) form.")
    if any(mark in value for mark in ("://", "@", ":", "/", "?", "#", "\\", " ")) or value != value.strip():
        return _("Give the bare host name only: no scheme, user, port or path (like meet.example.com).")
    name = value.lower().rstrip(".")
    if len(name) > 253:
        return _("A host name has at most 253 characters.")
    try:
        ipaddress.ip_address(name.strip("[]"))
        return _("Give a host name, not an IP address.")
    except ValueError:
        pass
    labels = name.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        return _("That is not a valid public host name (like meet.example.com).")
    if labels[-1].isdigit():
        return _("Give a host name, not an IP address.")
    if not private_names_allowed and any(name == suffix or name.endswith("." + suffix) for suffix in _PRIVATE_SUFFIXES):
        return _("That name is private to a network; give a public host name.")
    return None


def validate_public_hostname(value: str) -> None:
    if problem := public_hostname_problem(value):
        raise ValidationError(problem, code="hostname")


def validate_single_line(value: str) -> None:
    """Titles and names go into email headers, calendar lines and page headings: one line, no controls."""
    if isinstance(value, str) and any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValidationError(_("Use a single line without control characters."), code="single_line")


def validate_no_nul(value: str) -> None:
    if isinstance(value, str) and "\x00" in value:
        raise ValidationError(_("Remove the NUL character."), code="nul")
