"""LiveKit's webhooks, verified the way LiveKit signs them and turned into the portal's events.

LiveKit POSTs each event as JSON with `Authorization: <JWT>` signed (HS256) with the API secret of the
key it names in `iss`, valid for minutes, whose `sha256` claim is the base64 SHA-256 of the raw body.
livekit-api's WebhookReceiver + TokenVerifier check both (signature, issuer = the account's key, exp
with LiveKit's 60 s leeway, the body hash) and parse the body into a WebhookEvent.

- participant_joined / participant_left: "joined" / "left" of the participant's identity (= the
  invitation's peer id), deduplicated on the event id. A join that arrives after the leave of the
  same participant session (same participant sid, later createdAt) is stale: kept, never applied.
- room_finished: kept as "finished"; the endpoint then ends the sitting (events.apply_pending).
- egress_ended: kept as "recording"; the endpoint then brings the recording home (sync_recordings
  reads every egress_ended kept for the meeting's room, see LiveKitProvider.fetch_recordings).
Every other event is answered 200 and not kept. Rooms that are not the portal's (a LiveKit project
can serve other applications, and its webhook URL then hears about their rooms too) are ignored
the same way. Anything unauthenticated is a 401, anything malformed a 400: nothing is written.
"""

import logging
from datetime import UTC, datetime
from pathlib import PurePosixPath
from urllib.parse import urlsplit

import jwt
from django.core.exceptions import RequestDataTooBig
from google.protobuf.json_format import MessageToDict, ParseError
from livekit import api as lk

from ...models import ProviderEvent
from ..base import CallbackRefused, ParsedEvent, ProviderRecording

logger = logging.getLogger(__name__)
JOINED, LEFT, STALE_JOIN = "joined", "left", "stale_join"
FINISHED, RECORDING = "finished", "recording"
MAX_ID = 100  # what the portal stores of a room name or identity
COMPLETE = "EGRESS_COMPLETE"
CONTENT_TYPES = {".mp4": "video/mp4", ".webm": "video/webm", ".ogg": "video/ogg",
                 ".m3u8": "application/vnd.apple.mpegurl", ".mp3": "audio/mpeg"}


def _verified(provider, request):
    account = provider.account
    token = request.headers.get("Authorization", "").strip()
    if token[:7].lower() == "bearer ":
        token = token[7:].strip()
    if not token:
        raise CallbackRefused("the Authorization header with LiveKit's signed token is missing", 401)
    if not (account.api_key and account.api_secret):
        raise CallbackRefused("this account has no API key and secret to verify webhooks with", 401)
    try:
        body = request.body.decode("utf-8")
    except RequestDataTooBig:
        raise CallbackRefused("the body is too large", 413) from None
    except UnicodeDecodeError:
        raise CallbackRefused("the body is not UTF-8 text") from None
    receiver = lk.WebhookReceiver(lk.TokenVerifier(account.api_key, account.api_secret))
    try:
        return receiver.receive(body, token)
    except (ParseError, RecursionError):
        raise CallbackRefused("the body is not a LiveKit webhook event") from None
    except (jwt.PyJWTError, ValueError) as error:
        logger.warning("LiveKit webhook for account %s refused: %s", account.code, error.__class__.__name__)
        raise CallbackRefused("the signature does not verify with this account's key", 401) from None
    except Exception as error:  # WebhookReceiver raises bare Exception for a missing or wrong body hash
        logger.warning("LiveKit webhook for account %s refused: %s", account.code, str(error)[:80])
        raise CallbackRefused("the body does not match the signed hash", 401) from None


def _short(value: str, what: str) -> str:
    if len(value) > MAX_ID:
        raise CallbackRefused(f"{what} is longer than {MAX_ID} characters")
    if "\x00" in value:
        raise CallbackRefused(f"{what} contains a NUL character")
    return value


def parse_event(provider, request) -> list[ParsedEvent]:
    event = _verified(provider, request)
    if not event.id:
        raise CallbackRefused("the event has no id")
    if not event.event:
        raise CallbackRefused("the event names no event type")
    payload = MessageToDict(event)
    name = event.event
    if name in ("participant_joined", "participant_left"):
        room, identity = _short(event.room.name, "room.name"), _short(event.participant.identity,
                                                                      "participant.identity")
        if not room or not identity:
            raise CallbackRefused("room.name and participant.identity are required")
        if provider.meeting_for_room(room) is None:
            return []
        kind = JOINED if name == "participant_joined" else LEFT
        if kind == JOINED and _left_already(provider.account, room, identity, event):
            kind = STALE_JOIN
        return [ParsedEvent(dedupe_key=event.id, kind=kind, room_id=room, peer_id=identity, payload=payload)]
    if name == "room_finished":
        room = _short(event.room.name, "room.name")
        if not room:
            raise CallbackRefused("room.name is required")
        if provider.meeting_for_room(room) is None:
            return []
        return [ParsedEvent(dedupe_key=event.id, kind=FINISHED, room_id=room, peer_id="", payload=payload)]
    if name == "egress_ended":
        info = event.egress_info
        room = _short(info.room_name, "egressInfo.roomName")
        if not room or not info.egress_id:
            raise CallbackRefused("egressInfo.roomName and egressInfo.egressId are required")
        _short(info.egress_id, "egressInfo.egressId")
        if provider.meeting_for_room(room) is None:
            return []
        return [ParsedEvent(dedupe_key=event.id, kind=RECORDING, room_id=room, peer_id="", payload=payload)]
    return []


def _left_already(account, room: str, identity: str, event) -> bool:
    """A leave of this same participant session, created after this join, is already kept."""
    sid = event.participant.sid
    if not sid:
        return False
    leaves = ProviderEvent.objects.filter(account=account, room_id=room, peer_id=identity, kind=LEFT,
                                          payload__participant__sid=sid).values_list("payload", flat=True)
    return any(_int(p.get("createdAt")) >= event.created_at for p in leaves)


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _moment(value, unit: float):
    number = _int(value)
    return datetime.fromtimestamp(number / unit, tz=UTC) if number > 0 else None


def recording_of(payload: dict) -> ProviderRecording | None:
    """The recording an egress_ended event reports: its first file's location (None without a file)."""
    info = payload.get("egressInfo") or {}
    files = info.get("fileResults") or ([info["file"]] if isinstance(info.get("file"), dict) else [])
    file = next((f for f in files if isinstance(f, dict) and (f.get("location") or f.get("filename"))), None)
    if not info.get("egressId") or file is None:
        return None
    location = file.get("location") or ""
    if urlsplit(location).scheme not in ("http", "https"):
        location = ""  # an s3:// or local path is not something a browser can fetch
    ready = info.get("status") == COMPLETE and bool(location)
    started = _moment(file.get("startedAt"), 1e9) or _moment(info.get("startedAt"), 1e9)
    suffix = PurePosixPath(urlsplit(location).path or file.get("filename") or "").suffix.lower()
    return ProviderRecording(provider_id=str(info["egressId"])[:100], ready=ready, started_at=started,
                             duration_seconds=_int(file.get("duration")) / 1e9, download_url=location[:500],
                             hls_url=location[:500] if suffix == ".m3u8" else "",
                             content_type=CONTENT_TYPES.get(suffix, "video/mp4"))
