"""API keys: made by an organization's admins, shown once, kept as a SHA-256.

A key reads `mpk_<prefix>_<secret>`. The prefix finds the row (and is shown in lists to tell keys
apart); the whole key's hash is compared in constant time. The secret has 256 bits, so a plain
SHA-256 is enough: nothing to guess, and no slow hash on every API call."""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.validators import validate_single_line

from .models import ApiKey, Membership

KEY_START = "mpk_"
PREFIX_LENGTH = len(KEY_START) + 8  # then "_" and the secret (which may itself contain "_")
LAST_USED_PRECISION = timedelta(minutes=1)  # at most one write per key per minute for last_used_at


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def api_key_create(*, organization, created_by, name: str, scopes, expires_at=None) -> tuple[ApiKey, str]:
    """A new key and its full text, which is never shown again."""
    membership = Membership.objects.filter(organization=organization, user=created_by).first()
    if membership is None or not membership.has_role(Membership.Role.ADMIN):
        raise ValidationError(_("Only the organization's admins make API keys."))
    name = name.strip()
    if not name or len(name) > ApiKey._meta.get_field("name").max_length:
        raise ValidationError({"name": _("Give the key a name of at most 100 characters.")})
    validate_single_line(name)
    scopes = sorted(set(scopes))
    if not scopes or not set(scopes) <= set(ApiKey.Scope.values):
        raise ValidationError({"scopes": _("Choose one or more of: %(scopes)s.") % {
            "scopes": ", ".join(ApiKey.Scope.values)}})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": _("The expiry must be in the future.")})
    prefix = KEY_START + secrets.token_hex(4)
    raw = f"{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(organization=organization, created_by=created_by, name=name, prefix=prefix,
                                secret_hash=_hash(raw), scopes=scopes, expires_at=expires_at)
    return key, raw


def api_key_for(raw: str) -> ApiKey | None:
    """The active key this text is, or None."""
    prefix, separator, secret = raw[:PREFIX_LENGTH], raw[PREFIX_LENGTH:PREFIX_LENGTH + 1], raw[PREFIX_LENGTH + 1:]
    if not prefix.startswith(KEY_START) or separator != "_" or not secret or len(raw) > 200:
        return None
    key = ApiKey.objects.select_related("organization", "created_by").filter(prefix=prefix).first()
    if key is None or not hmac.compare_digest(key.secret_hash, _hash(raw)) or not key.is_active:
        return None
    return key


def touch(key: ApiKey) -> None:
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_PRECISION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)


def api_key_revoke(*, key: ApiKey) -> None:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
