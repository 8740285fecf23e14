"""Check connection for a Gcore account: sign a token, call the Streaming API, probe the region's Meet
server, and say which callback secrets are missing."""

import jwt
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import signing
from ..base import Check, ProviderError
from .server import ServerClient
from .streaming import StreamingClient


def check_connection(account) -> list[Check]:
    """Each part of a Gcore account, tried for real where Gcore can answer."""
    return [_check_signing(account), _check_streaming(account), _check_server(account), *_check_callbacks(account)]


def _check_signing(account) -> Check:
    if account.join_mode == "access_check":
        return Check(_("Join tokens"), True, _("Not used: people join with an access token that Gcore checks with "
                                               "the portal's access check."))
    name = _("Join tokens (%(algorithm)s)") % {"algorithm": account.jwt_algorithm}
    if not (account.jwt_private_key if account.jwt_algorithm == "RS256" else account.jwt_secret):
        return Check(name, False, _("No signing key is stored: nobody can join. Add a secret or generate a key "
                                    "pair."))
    try:
        now = int(timezone.now().timestamp())
        token = signing.mint(account, {"roomId": "serv0check", "iat": now, "exp": now + 60})
        if account.jwt_algorithm == "RS256":
            key = signing.signing_key(account).public_key()
            jwt.decode(token, key, algorithms=["RS256"])
            size = signing.signing_key(account).key_size
            if size < 2048:
                return Check(name, False, _("The RSA key has %(bits)d bits; the provider needs 2048 or more.") % {
                    "bits": size})
            return Check(name, True, _("Signed and verified a token with the %(bits)d-bit key. The provider must "
                                       "have its public key (shown below).") % {"bits": size})
        jwt.decode(token, account.jwt_secret, algorithms=["HS256"])
    except (ValueError, TypeError, jwt.PyJWTError) as error:
        return Check(name, False, _("The key cannot sign: %(error)s") % {"error": error})
    return Check(name, True, _("Signed and verified a token with the shared secret."))


def _check_streaming(account) -> Check:
    name = _("Streaming API (recordings and statistics)")
    if not account.api_token:
        return Check(name, False, _("No API token: recordings and attendance statistics cannot be synced."))
    try:
        StreamingClient(account, attempts=1).recent_videos()
    except ProviderError as error:
        return Check(name, False, str(error))
    return Check(name, True, _("The API token was accepted."))


def _check_server(account) -> Check:
    name = _("Meet server for %(region)s") % {"region": account.get_default_region_display()}
    if not account.api_token:
        return Check(name, False, _("No API token: the portal cannot remove people or close rooms."))
    try:
        return Check(name, True, ServerClient(account).reachable(f"{account.default_region}portalcheck"))
    except ProviderError as error:
        return Check(name, False, str(error))


def _check_callbacks(account) -> list[Check]:
    if account.join_mode != "access_check":
        access = Check(_("Access check"), True, _("Not used: rights travel in the signed token (JWT mode)."))
    else:
        access = Check(_("Access check secret"), bool(account.access_secret),
                       _("Set.") if account.access_secret else _("Not set: the provider's access checks are "
                                                                 "refused, so nobody can connect."))
    return [
        access,
        Check(_("Event webhook secret"), bool(account.webhook_secret),
              _("Set.") if account.webhook_secret else _("Not set: join and leave events are refused; attendance "
                                                         "comes only from statistics after the meeting.")),
    ]
