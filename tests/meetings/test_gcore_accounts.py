"""GcoreProvider.account_problems: what a Gcore account's values must hold, by the seed's signing rules
(RS256 keys of 2048 bits or more, HS256 secrets of 32 bytes or more) and its join modes."""

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from meetings.providers import get_provider
from meetings.providers.signing import new_rsa_pair

SECRET = "s" * 32


def problems(**values):
    return get_provider("gcore").account_problems(values)


def pem(key) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def test_a_well_formed_account_in_either_mode_has_no_problems():
    private, _ = new_rsa_pair()

    assert problems(join_mode="jwt", jwt_algorithm="HS256", jwt_secret=SECRET) == {}
    assert problems(join_mode="jwt", jwt_algorithm="RS256", jwt_private_key=private) == {}
    assert problems(join_mode="access_check", jwt_algorithm="HS256", jwt_secret="") == {}


def test_the_join_mode_must_be_one_gcore_offers():
    assert get_provider("gcore").join_modes == ("jwt", "access_check")
    assert problems(join_mode="fabric", jwt_secret=SECRET) == {
        "join_mode": "Gcore accounts join people with one of: jwt, access_check."}


def test_an_rsa_key_under_2048_bits_is_refused_naming_its_size():
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 (the key refused)

    found = problems(join_mode="jwt", jwt_algorithm="RS256", jwt_private_key=pem(small))

    assert found == {"jwt_private_key": "The RSA private key has 1024 bits; Gcore needs 2048 bits or more."}


@pytest.mark.parametrize("key, message", [
    ("not a key", "This is not an unencrypted RSA private key in PEM form."),
    (pem(ec.generate_private_key(ec.SECP256R1())), "RS256 needs an RSA private key."),
])
def test_a_private_key_that_is_no_rsa_key_is_refused(key, message):
    assert problems(join_mode="jwt", jwt_algorithm="RS256", jwt_private_key=key) == {"jwt_private_key": message}


@pytest.mark.parametrize("secret, size", [("s" * 31, 31), ("é" * 15, 30)])
def test_an_hs256_secret_under_32_bytes_is_refused(secret, size):
    assert problems(join_mode="jwt", jwt_algorithm="HS256", jwt_secret=secret) == {
        "jwt_secret": f"The HS256 secret has {size} bytes; it needs 32 or more."}
    # Counted in bytes: 16 two-byte characters are enough.
    assert problems(join_mode="jwt", jwt_algorithm="HS256", jwt_secret="é" * 16) == {}


def test_a_jwt_mode_account_needs_signing_material():
    assert problems(join_mode="jwt", jwt_algorithm="HS256", jwt_secret="") == {
        "jwt_secret": "People join with a signed token: enter the HS256 secret shared with Gcore."}
    assert problems(join_mode="jwt", jwt_algorithm="RS256", jwt_secret=SECRET, jwt_private_key="") == {
        "jwt_private_key": "People join with a signed token: generate or paste an RSA private key."}
    assert problems(join_mode="jwt", jwt_algorithm="ES256", jwt_secret=SECRET) == {
        "jwt_algorithm": "Gcore signs with HS256 or RS256."}
