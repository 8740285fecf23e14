"""What a Gcore account's settings must hold (GcoreProvider.account_problems), by the seed's
"JWT Digital Signature Algorithm" section: an RS256 key of 2048 bits or more, an HS256 key at least
as long as the hash output (32 bytes), and signing material wherever people join with a JWT."""

from django.utils.translation import gettext as _

from ..signing import rsa_private_key_problem

MIN_SECRET_BYTES = 32


def account_problems(values: dict, *, join_modes: tuple[str, ...]) -> dict[str, str]:
    """By field, what is wrong with these account values (empty when nothing is). `values` must hold
    the account's effective values: a secret the form leaves blank to keep counts as the stored one."""
    problems = {}
    join_mode = values.get("join_mode") or join_modes[0]
    algorithm = values.get("jwt_algorithm") or "HS256"
    secret = values.get("jwt_secret") or ""
    private_key = values.get("jwt_private_key") or ""
    if join_mode not in join_modes:
        problems["join_mode"] = (_("Gcore accounts join people with one of: %(modes)s.")
                                 % {"modes": ", ".join(join_modes)})
    if private_key and (problem := rsa_private_key_problem(private_key, needed_by="Gcore")):
        problems["jwt_private_key"] = problem
    if secret and len(secret.encode()) < MIN_SECRET_BYTES:
        problems["jwt_secret"] = _("The HS256 secret has %(bytes)d bytes; it needs %(minimum)d or more.") % {
            "bytes": len(secret.encode()), "minimum": MIN_SECRET_BYTES}
    if join_mode == "jwt":
        if algorithm not in ("HS256", "RS256"):
            problems["jwt_algorithm"] = _("Gcore signs with HS256 or RS256.")
        elif algorithm == "RS256" and not private_key:
            problems.setdefault("jwt_private_key", _("People join with a signed token: generate or paste an RSA "
                                                     "private key."))
        elif algorithm == "HS256" and not secret:
            problems.setdefault("jwt_secret", _("People join with a signed token: enter the HS256 secret shared "
                                                "with Gcore."))
    return problems
