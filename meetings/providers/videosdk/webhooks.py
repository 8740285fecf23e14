"""VideoSDK's webhooks, verified and read.

VideoSDK signs every webhook with one RSA key of its own: the `videosdk-signature` header is the
base64 RSA-SHA256 (PKCS#1 v1.5) signature of the request body, and the public key comes from
GET /v2/public/rsa-public-key. Its server SDKs verify the raw, unparsed body; its older API reference
verifies JSON.stringify of the parsed body, which is the same bytes whenever VideoSDK posts compact
JSON. The raw body is tried first, then its compact re-serialisation, so either way a genuine event
passes and nothing unsigned does. The key is cached (shared by every process) and fetched again at
most once a minute when a signature does not verify, in case VideoSDK rotated it.

Any VideoSDK customer's webhooks carry a valid signature, so an event counts only for a room this
account created (ProviderRoom). Participant events carry no event id: each is kept and applied in
arrival order, where a repeat changes nothing. Session and recording events are keyed on their content.
"""

import base64
import binascii
import hashlib
import json
import logging
import threading
import time
import uuid

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.core.cache import cache

from ..base import CallbackRefused, ParsedEvent, ProviderError
from .api import VideoSDKClient

logger = logging.getLogger(__name__)

HEADER = "videosdk-signature"
JOINED, LEFT = "joined", "left"
PEOPLE_EVENTS = {"participant-joined": JOINED, "participant-left": LEFT}
ROOM_EVENTS = ("session-started", "session-ended", "recording-started", "recording-stopped")
SUBSCRIBED = (*PEOPLE_EVENTS, *ROOM_EVENTS)
MAX_ID_LENGTH = 100  # what the portal stores of a room or participant id
MAX_SIGNATURE_LENGTH = 2048  # base64 of a 8192-bit signature is under 1400 characters
KEY_CACHE = "videosdk:webhook-public-key"
KEY_CACHE_SECONDS = 24 * 3600
REFETCH_AFTER_SECONDS = 60  # a signature that fails against a key older than this fetches it again

_parsed: dict[str, rsa.RSAPublicKey] = {}
_lock = threading.Lock()


def _load(pem: str) -> rsa.RSAPublicKey:
    key = _parsed.get(pem)
    if key is None:
        try:
            key = serialization.load_pem_public_key(pem.encode())
        except (ValueError, TypeError, UnicodeEncodeError) as error:
            raise ProviderError("VideoSDK's webhook public key is not an RSA public key in PEM form") from error
        if not isinstance(key, rsa.RSAPublicKey):
            raise ProviderError("VideoSDK's webhook public key is not an RSA key")
        with _lock:
            _parsed.clear()  # one key at a time: a rotated key replaces the old one
            _parsed[pem] = key
    return key


def public_key(account, *, refresh: bool = False) -> tuple[rsa.RSAPublicKey, bool]:
    """(key, fetched now). A cached key is used unless `refresh` and it is old enough to fetch again."""
    held = cache.get(KEY_CACHE)
    if held and not (refresh and time.time() - held["at"] >= REFETCH_AFTER_SECONDS):
        return _load(held["pem"]), False
    pem = VideoSDKClient(account, attempts=2).webhook_public_key()
    key = _load(pem)
    cache.set(KEY_CACHE, {"pem": pem, "at": time.time()}, KEY_CACHE_SECONDS)
    return key, True


def _verifies(key: rsa.RSAPublicKey, signature: bytes, candidates: list[bytes]) -> bool:
    for signed in candidates:
        try:
            key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            continue
        return True
    return False


def _compact(body) -> bytes | None:
    """JSON.stringify of the parsed body: no spaces, non-ASCII kept as it is (None when a lone
    surrogate makes it unencodable: JavaScript would not have sent that)."""
    try:
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return None


def _no_constants(name):
    raise ValueError(f"{name} is not JSON")


def _parse(raw: bytes):
    try:
        return json.loads(raw, parse_constant=_no_constants)
    except (ValueError, RecursionError):
        return None


def verify(account, raw: bytes, header: str):
    """The parsed body of a genuinely signed webhook; CallbackRefused otherwise."""
    if not header or len(header) > MAX_SIGNATURE_LENGTH:
        raise CallbackRefused(f"a {HEADER} header is required", 401)
    try:
        signature = base64.b64decode(header.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise CallbackRefused(f"the {HEADER} header is not base64", 401) from None
    body = _parse(raw)
    candidates = [raw] if body is None else [raw, *filter(None, [_compact(body)])]
    try:
        key, fresh = public_key(account)
        genuine = _verifies(key, signature, candidates)
        if not genuine and not fresh:
            key, fresh = public_key(account, refresh=True)
            genuine = fresh and _verifies(key, signature, candidates)
    except ProviderError as error:
        # Without VideoSDK's key nothing can be verified: a 5xx makes VideoSDK deliver it again later.
        logger.warning("VideoSDK webhook for account %s not verified: %s", account.code, error)
        raise CallbackRefused("VideoSDK's public key cannot be fetched now; deliver again later", 503) from None
    if not genuine:
        raise CallbackRefused("the signature does not verify", 401)
    if body is None:
        raise CallbackRefused("the body is not JSON, or is nested too deeply")
    return body


def _text(data: dict, field: str, *, required: bool) -> str:
    value = data.get(field)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value:
        raise CallbackRefused(f"data.{field} is required")
    if len(value) > MAX_ID_LENGTH or "\x00" in value:
        raise CallbackRefused(f"data.{field} is not an id the portal can keep")
    return value


def parse_event(provider, request) -> list[ParsedEvent]:
    """The one event of a signed VideoSDK webhook, for a room of this account."""
    raw = request.body
    body = verify(provider.account, raw, request.headers.get(HEADER, ""))
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        raise CallbackRefused("the body must be an object with webhookType and data")
    kind = body.get("webhookType", body.get("type"))
    if not isinstance(kind, str) or not kind:
        raise CallbackRefused("webhookType is required")
    if kind not in SUBSCRIBED:
        return []  # an event the portal did not ask for: acknowledged, not kept
    data = body["data"]
    room_id = _text(data, "meetingId", required=True)
    if provider.meeting_for_room(room_id) is None:
        raise CallbackRefused("unknown room", 404)
    if kind in PEOPLE_EVENTS:
        return [ParsedEvent(dedupe_key=uuid.uuid4().hex, kind=PEOPLE_EVENTS[kind], room_id=room_id,
                            peer_id=_text(data, "participantId", required=True), payload=body)]
    _text(data, "sessionId", required=False)
    content = json.dumps([provider.account.pk, kind, data], sort_keys=True)
    return [ParsedEvent(dedupe_key="videosdk-" + hashlib.sha256(content.encode()).hexdigest()[:55], kind=kind,
                        room_id=room_id, peer_id="", payload=body)]
