"""What Gcore's servers send the portal: the access check's body and the join/leave webhooks, read
and authenticated. Each account has its own URLs, registered with Gcore together with the header
value it must send (the seed's authorizationAccess and authEvent).

Anything unauthenticated or malformed is refused (CallbackRefused: a 4xx with its reason) before
anything is written."""

import hmac
import json
import logging
import math
import time
import uuid

from django.core.exceptions import RequestDataTooBig

from ..base import CallbackRefused, ParsedEvent

logger = logging.getLogger(__name__)
ID_FIELDS = ("roomId", "peerId")
MAX_ID_LENGTH = 100  # what the portal stores of a room or peer id
MAX_DEPTH = 20  # Gcore's bodies are flat; deeper nesting is not theirs
JOINED, LEFT = "joined", "left"
# The seed names the webhooks joinPeer and closePeer and shows bodies with "connected" and "disconnected".
ROOM_SECONDS = 2.0
_known_rooms: dict[tuple[int, str], float] = {}
EVENT_KINDS = {"connected": JOINED, "joinPeer": JOINED, "disconnected": LEFT, "closePeer": LEFT}


def header_matches(request, expected: str) -> bool:
    # As bytes: compare_digest refuses str with non-ASCII characters, and such a header is just wrong.
    given = request.headers.get("Authorization", "").encode()
    return bool(expected) and hmac.compare_digest(given, expected.encode())


def authenticate(request, account, secret_field: str, refused_status: int) -> None:
    if not header_matches(request, getattr(account, secret_field)):
        logger.warning("%s call for account %s without the registered header", secret_field, account.code)
        raise CallbackRefused("unauthorized caller", refused_status)


def unstorable(value) -> str:
    """Why a parsed body cannot be stored as it is (PostgreSQL takes no NUL, lone surrogate or NaN),
    or ''. Walked without recursion, however deep the body."""
    stack = [(value, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return "the body is nested too deeply"
        if isinstance(value, dict):
            stack.extend((key, depth) for key in value)
            stack.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, str) and "\x00" in value:
            return "a field contains a NUL character"
        elif isinstance(value, str) and not _encodable(value):
            return "a field is not valid Unicode text"
        elif isinstance(value, float) and not math.isfinite(value):
            return "a number is not finite"
    return ""


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:  # a lone surrogate from a \ud800 escape
        return False
    return True


def json_body(request, *, required=ID_FIELDS) -> dict:
    """The request's JSON object, storable as it is, with the `required` id fields as non-empty
    strings the portal can store; otherwise CallbackRefused. roomId and peerId are checked for
    length whenever they are strings."""
    try:
        body = json.loads(request.body)
    except RequestDataTooBig:
        raise CallbackRefused("the body is too large", 413) from None
    except (ValueError, RecursionError):
        raise CallbackRefused("the body is not JSON, or is nested too deeply") from None
    if not isinstance(body, dict):
        raise CallbackRefused("the body is not a JSON object")
    if problem := unstorable(body):
        raise CallbackRefused(problem)
    for field in ID_FIELDS:
        value = body.get(field)
        if field in required and (not isinstance(value, str) or not value):
            raise CallbackRefused(f"{field} is required")
        if isinstance(value, str) and len(value) > MAX_ID_LENGTH:
            raise CallbackRefused(f"{field} is longer than {MAX_ID_LENGTH} characters")
    return body


def _event_kind(body: dict, path_event: str) -> str:
    """Joined or left. The address names the webhook (…/events/joinPeer, …/events/closePeer), and
    Gcore may post the same body to both; a body posted to the bare events URL names it in `event`."""
    name = path_event or body.get("event")
    kind = EVENT_KINDS.get(name) if isinstance(name, str) else None
    if kind is None:
        raise CallbackRefused(f"event must be one of {', '.join(EVENT_KINDS)}")
    return kind


def room_known(provider, room: str) -> bool:
    """Whether the room is one of the account's meetings', as this process saw it at most
    ROOM_SECONDS ago (a webinar's events all name one room). Unknown rooms are asked every time; an
    event for a meeting deleted since is stored and applies to no one."""
    key, now = (provider.account.pk, room), time.monotonic()
    if now - _known_rooms.get(key, float("-inf")) < ROOM_SECONDS:
        return True
    if provider.meeting_for_room(room) is None:
        return False
    if len(_known_rooms) >= 10_000:
        _known_rooms.clear()
    _known_rooms[key] = now
    return True


def parse_event(provider, request) -> list[ParsedEvent]:
    """One join or leave webhook of `provider`'s account, authenticated by the authEvent header."""
    authenticate(request, provider.account, "webhook_secret", refused_status=401)
    body = json_body(request)
    path_event = (request.resolver_match.kwargs.get("path_event", "") if request.resolver_match else "")
    kind = _event_kind(body, path_event)
    if not room_known(provider, body["roomId"]):
        raise CallbackRefused("unknown room", 404)
    # Gcore's events carry no id, so a repeat cannot be told from a new event with the same body (a
    # quick reconnect, or a closePeer with its joinPeer's body): every event is kept, and applying
    # them in order of arrival makes a true repeat change nothing.
    return [ParsedEvent(dedupe_key=uuid.uuid4().hex, kind=kind, room_id=body["roomId"], peer_id=body["peerId"],
                        payload=body)]
