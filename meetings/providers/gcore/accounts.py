"""What a Gcore account's settings must hold (GcoreProvider.account_problems), by the seed's
"JWT Digital Signature Algorithm" section: an RS256 key of 2048 bits or more, an HS256 key at least
as long as the hash output (32 bytes), and signing material wherever people join with a JWT."""

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

MIN_RSA_BITS = 2048
MIN_SECRET_BYTES = 32


def _rsa_key_problem(pem: str) -> str:
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError, UnicodeEncodeError):
        return "This is not an unencrypted RSA private key in PEM form."
    if not isinstance(key, rsa.RSAPrivateKey):
        return "RS256 needs an RSA private key."
    if key.key_size < MIN_RSA_BITS:
        return f"The RSA private key has {key.key_size} bits; Gcore needs {MIN_RSA_BITS} bits or more."
    return ""


def account_problems(values: dict, *, join_modes: tuple[str, ...]) -> dict[str, str]:
    """By field, what is wrong with these account values (empty when nothing is). `values` must hold
    the account's effective values: a secret the form leaves blank to keep counts as the stored one."""
    problems = {}
    join_mode = values.get("join_mode") or join_modes[0]
    algorithm = values.get("jwt_algorithm") or "HS256"
    secret = values.get("jwt_secret") or ""
    private_key = values.get("jwt_private_key") or ""
    if join_mode not in join_modes:
        problems["join_mode"] = f"Gcore accounts join people with one of: {', '.join(join_modes)}."
    if private_key and (problem := _rsa_key_problem(private_key)):
        problems["jwt_private_key"] = problem
    if secret and len(secret.encode()) < MIN_SECRET_BYTES:
        problems["jwt_secret"] = (f"The HS256 secret has {len(secret.encode())} bytes; it needs "
                                  f"{MIN_SECRET_BYTES} or more.")
    if join_mode == "jwt":
        if algorithm not in ("HS256", "RS256"):
            problems["jwt_algorithm"] = "Gcore signs with HS256 or RS256."
        elif algorithm == "RS256" and not private_key:
            problems.setdefault("jwt_private_key", "People join with a signed token: generate or paste an RSA "
                                                   "private key.")
        elif algorithm == "HS256" and not secret:
            problems.setdefault("jwt_secret", "People join with a signed token: enter the HS256 secret shared "
                                              "with Gcore.")
    return problems
