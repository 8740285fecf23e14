"""Signing keys for provider tokens, loaded once per process.

Parsing a PEM costs about a hundred times an RS256 signature, and minting is on the join path, so
loaded keys are kept per process under (account, key_version). Changing an account's key raises its
key_version, which every process sees on its next read, so no process signs with a stale key.
"""

import threading

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.utils.translation import gettext as _

MIN_RSA_BITS = 2048
_keys: dict[tuple[int, int], object] = {}
_lock = threading.Lock()


def signing_key(account):
    cache_key = (account.pk, account.key_version)
    key = _keys.get(cache_key)
    if key is None:
        if account.jwt_algorithm == "RS256":
            key = serialization.load_pem_private_key(account.jwt_private_key.encode(), password=None)
        else:
            key = account.jwt_secret
        with _lock:
            for stale in [k for k in _keys if k[0] == account.pk]:
                del _keys[stale]
            _keys[cache_key] = key
    return key


def forget(account_id: int) -> None:
    with _lock:
        for stale in [k for k in _keys if k[0] == account_id]:
            del _keys[stale]


def mint(account, claims: dict) -> str:
    return jwt.encode(claims, signing_key(account), algorithm=account.jwt_algorithm, headers={"typ": "JWT"})


def new_rsa_pair() -> tuple[str, str]:
    """(private PEM, public PEM) of a new 2048-bit RSA key."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()).decode()
    public_pem = private.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private_pem, public_pem


def rsa_private_key_problem(pem: str, *, needed_by: str) -> str:
    """Why a pasted PEM cannot sign RS256 tokens for `needed_by` (empty when it can)."""
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError, UnicodeEncodeError):
        return _("This is not an unencrypted RSA private key in PEM form.")
    if not isinstance(key, rsa.RSAPrivateKey):
        return _("RS256 needs an RSA private key.")
    if key.key_size < MIN_RSA_BITS:
        return _("The RSA private key has %(bits)d bits; %(provider)s needs %(minimum)d bits or more.") % {
            "bits": key.key_size, "provider": needed_by, "minimum": MIN_RSA_BITS}
    return ""
