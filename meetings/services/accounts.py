"""Provider accounts: saving one bumps its key_version whenever signing material changes, and
"check connection" tries each part of an account and says what works."""

from dataclasses import dataclass

import jwt
from django.db import transaction
from django.utils import timezone

from ..models import ProviderAccount
from ..providers import signing
from ..providers.base import ProviderError
from ..providers.gcore_server import ServerClient
from ..providers.gcore_streaming import StreamingClient

SIGNING_FIELDS = ("jwt_algorithm", "jwt_secret", "jwt_private_key")


def provider_account_save(account: ProviderAccount, *, previous: ProviderAccount | None) -> ProviderAccount:
    with transaction.atomic():
        if previous is not None and any(getattr(previous, f) != getattr(account, f) for f in SIGNING_FIELDS):
            account.key_version = previous.key_version + 1
        if account.is_default:
            ProviderAccount.objects.of(account.organization).filter(provider=account.provider).exclude(
                pk=account.pk).update(is_default=False)
        account.save()
    signing.forget(account.pk)
    return account


def generate_rsa_pair(account: ProviderAccount) -> ProviderAccount:
    """A new 2048-bit key pair; the public half is shown to register with the provider."""
    previous = ProviderAccount.objects.get(pk=account.pk)
    account.jwt_private_key, account.jwt_public_key = signing.new_rsa_pair()
    account.jwt_algorithm = ProviderAccount.Algorithm.RS256
    return provider_account_save(account, previous=previous)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def check_connection(account: ProviderAccount) -> list[Check]:
    """Each part of the account, tried for real where the provider can answer."""
    return [_check_signing(account), _check_streaming(account), _check_server(account), *_check_callbacks(account)]


def _check_signing(account) -> Check:
    name = f"Join tokens ({account.jwt_algorithm})"
    if not (account.jwt_private_key if account.jwt_algorithm == "RS256" else account.jwt_secret):
        return Check(name, False, "No signing key is stored: nobody can join. Add a secret or generate a key pair.")
    try:
        now = int(timezone.now().timestamp())
        token = signing.mint(account, {"roomId": "serv0check", "iat": now, "exp": now + 60})
        if account.jwt_algorithm == "RS256":
            key = signing.signing_key(account).public_key()
            jwt.decode(token, key, algorithms=["RS256"])
            size = signing.signing_key(account).key_size
            if size < 2048:
                return Check(name, False, f"The RSA key has {size} bits; the provider needs 2048 or more.")
            return Check(name, True, f"Signed and verified a token with the {size}-bit key. The provider must "
                                     "have its public key (shown below).")
        jwt.decode(token, account.jwt_secret, algorithms=["HS256"])
    except (ValueError, TypeError, jwt.PyJWTError) as error:
        return Check(name, False, f"The key cannot sign: {error}")
    return Check(name, True, "Signed and verified a token with the shared secret.")


def _check_streaming(account) -> Check:
    name = "Streaming API (recordings and statistics)"
    if not account.api_token:
        return Check(name, False, "No API token: recordings and attendance statistics cannot be synced.")
    try:
        StreamingClient(account, attempts=1).recent_videos()
    except ProviderError as error:
        return Check(name, False, str(error))
    return Check(name, True, "The API token was accepted.")


def _check_server(account) -> Check:
    name = f"Meet server for {account.get_default_region_display()}"
    if not account.api_token:
        return Check(name, False, "No API token: the portal cannot remove people or close rooms.")
    try:
        return Check(name, True, ServerClient(account).reachable(f"{account.default_region}portalcheck"))
    except ProviderError as error:
        return Check(name, False, str(error))


def _check_callbacks(account) -> list[Check]:
    return [
        Check("Access check secret", bool(account.access_secret),
              "Set." if account.access_secret else "Not set: the provider's access checks are refused, so nobody "
                                                    "can connect."),
        Check("Event webhook secret", bool(account.webhook_secret),
              "Set." if account.webhook_secret else "Not set: join and leave events are refused; attendance "
                                                     "comes only from statistics after the meeting."),
    ]
