"""Provider accounts: saving one bumps its key_version whenever signing material changes, and
"check connection" tries each part of an account and says what works."""

from django.db import transaction

from ..models import ProviderAccount
from ..providers import get_provider, signing
from ..providers.base import Check

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


def check_connection(account: ProviderAccount) -> list[Check]:
    """Each part of the account, tried for real by its provider."""
    return get_provider(account.provider, account).check_connection()
