"""Credentials are encrypted at rest with a rotatable key."""

from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from accounts.models import IdentityProvider

from .factories import IdentityProviderFactory


def stored_ciphertext(idp):
    with connection.cursor() as cursor:
        cursor.execute("SELECT client_secret FROM accounts_identityprovider WHERE id = %s", [idp.pk])
        return cursor.fetchone()[0]


def test_client_secret_is_never_stored_in_plaintext(acme):
    idp = IdentityProviderFactory(organization=acme, issuer="https://idp.example", client_secret="plain-secret-123")

    raw = stored_ciphertext(idp)

    assert "plain-secret-123" not in raw
    assert IdentityProvider.objects.get(pk=idp.pk).client_secret == "plain-secret-123"


def test_old_ciphertexts_decrypt_after_a_new_key_is_added_and_rotation_retires_the_old_key(acme, settings):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.CREDENTIALS_KEYS = [old_key]
    idp = IdentityProviderFactory(organization=acme, issuer="https://idp.example", client_secret="rotating")

    settings.CREDENTIALS_KEYS = [new_key, old_key]
    assert IdentityProvider.objects.get(pk=idp.pk).client_secret == "rotating"
    call_command("rotate_credentials", stdout=open("/dev/null", "w"))

    settings.CREDENTIALS_KEYS = [new_key]
    assert IdentityProvider.objects.get(pk=idp.pk).client_secret == "rotating"
    assert Fernet(new_key.encode()).decrypt(stored_ciphertext(idp).encode()) == b"rotating"
