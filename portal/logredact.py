"""Keep secret URLs out of the logs.

Join links, calendar feeds, membership invitations, shared recordings and set-password links carry
their secret in the path, and signed media URLs and the OIDC callback in the query string. Access
logs (uvicorn's) and Django's 4xx warnings ("Not Found: /j/...") would write them in full.
`RedactSecrets` sits on every handler in settings.LOGGING and shortens each secret to its first few
characters: /j/AbCd… is still enough to match a log line to a link without being able to open it.
"""

import logging
import logging.config
import re
from collections.abc import Mapping

KEEP = 4
_CHAR = r"[^/\s?#\"'<>]"  # a character of one path segment
_SECRET_PATHS = re.compile(
    rf"(?P<prefix>/j/|/calendar/|/invites/|/r/{_CHAR}+/|/password/set/{_CHAR}+/(?!set-password/))"
    rf"(?P<secret>{_CHAR}+?)(?=\.ics\b|[/\s?#\"'<>]|$)")
_SECRET_PARAMETERS = re.compile(
    r"(?P<prefix>[?&](?:s|sig|signature|token|jwt|code|state|key|secret|id_token_hint)=)(?P<secret>[^&#\s\"'<>]+)",
    re.IGNORECASE)


# Arguments named after a header or variable that carries credentials whole (gunicorn's access log
# record holds every request header, "{cookie}i", and every environ value, "{http_authorization}e").
_SECRET_ARGUMENT_NAMES = re.compile(r"cookie|authorization|api[-_]?key|secret|token|signature", re.IGNORECASE)


def _shorten(match: re.Match) -> str:
    secret = match["secret"]
    if secret.endswith("…"):  # already shortened: a record passes several handlers
        return match[0]
    return f"{match['prefix']}{secret[:KEEP]}…"


def redact(text: str) -> str:
    return _SECRET_PARAMETERS.sub(_shorten, _SECRET_PATHS.sub(_shorten, text))


def _redact_argument(value):
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, (int, float)):
        return value
    text = str(value)  # e.g. a request or URL object whose text holds the path
    cleaned = redact(text)
    return value if cleaned == text else cleaned


class RedactSecrets(logging.Filter):
    """Shortens secrets in a record's message and arguments, in place, so the arguments keep their places
    (uvicorn's access formatter reads the path from record.args)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, dict):  # in place: gunicorn's atoms are a dict of their own kind
            for name, value in record.args.items():
                record.args[name] = "…" if _SECRET_ARGUMENT_NAMES.search(str(name)) else _redact_argument(value)
        elif isinstance(record.args, Mapping):
            record.args = {name: "…" if _SECRET_ARGUMENT_NAMES.search(str(name)) else _redact_argument(value)
                           for name, value in record.args.items()}
        elif isinstance(record.args, tuple):
            record.args = tuple(_redact_argument(value) for value in record.args)
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


def configure_logging(config: dict) -> None:
    """settings.LOGGING_CONFIG: dictConfig, keeping uvicorn's --no-access-log in force.

    uvicorn sets up its loggers before it imports the portal; LOGGING then replaces their handlers with
    the portal's (which redact), and would bring back the access log that --no-access-log removed."""
    access = logging.getLogger("uvicorn.access")
    access_log_off = not access.handlers and not access.propagate
    logging.config.dictConfig(config)
    if access_log_off:
        access.handlers = []
