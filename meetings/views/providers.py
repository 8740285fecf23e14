"""Endpoints hosted providers call: Gcore's access check and its join/leave events. Each account has
its own URLs, registered with the provider together with the header value it must send."""

import hashlib
import hmac
import json
import logging
import uuid

from django.core.cache import cache
from django.db import transaction
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ..models import ProviderAccount, ProviderEvent
from ..services.provider_access import EVENT_KINDS, access_check, apply_event, room_is_ours

logger = logging.getLogger(__name__)
REQUIRED = ("accessToken", "roomId", "peerId")
DUPLICATE_WINDOW_SECONDS = 10


def _account(account_code: str) -> ProviderAccount | None:
    return ProviderAccount.objects.select_related("organization").filter(
        code=account_code, provider="gcore", enabled=True).first()


def _header_matches(request, expected: str) -> bool:
    return bool(expected) and hmac.compare_digest(request.headers.get("Authorization", ""), expected)


def _authenticated_body(request, account_code, secret_field: str, refused_status: int):
    """(account, JSON body or None) for a call carrying the header registered for `secret_field`;
    otherwise (None, the response that refuses it)."""
    account = _account(account_code)
    if account is None:
        return None, JsonResponse({"error": "unknown account"}, status=404)
    if not _header_matches(request, getattr(account, secret_field)):
        logger.warning("%s call for account %s without the registered header", secret_field, account.code)
        return None, JsonResponse({"error": "unauthorized caller"}, status=refused_status)
    try:
        body = json.loads(request.body)
    except ValueError:
        body = None
    return account, body if isinstance(body, dict) else None


@csrf_exempt  # called by the provider's server, authenticated by the registered header
@require_POST
def gcore_access_check(request, account_code):
    account, body = _authenticated_body(request, account_code, "access_secret", refused_status=403)
    if account is None:
        return body
    if body is None or not all(isinstance(body.get(f), str) and body[f] for f in REQUIRED):
        return JsonResponse({"error": "accessToken, roomId and peerId are required"}, status=400)
    decision = access_check(account=account, access_token=body["accessToken"], room_id=body["roomId"],
                            peer_id=body["peerId"])
    return JsonResponse({"result": decision.reason}, status=decision.status)


@csrf_exempt  # called by the provider's server, authenticated by the registered header
@require_POST
def gcore_event(request, account_code, path_event=""):
    account, body = _authenticated_body(request, account_code, "webhook_secret", refused_status=401)
    if account is None:
        return body
    kind = EVENT_KINDS.get(body.get("event") or path_event) if body is not None else None
    if kind is None or not all(isinstance(body.get(f), str) and body[f] for f in ("roomId", "peerId")):
        return JsonResponse({"error": "event, roomId and peerId are required"}, status=400)
    if not room_is_ours(account, body["roomId"]):
        return JsonResponse({"error": "unknown room"}, status=404)
    # Gcore's events carry no id: the same body again within a short window is the same delivery.
    digest = hashlib.sha256(account.code.encode() + b"|" + request.body).hexdigest()
    if not cache.add(f"gcore-event:{digest}", 1, timeout=DUPLICATE_WINDOW_SECONDS):
        return JsonResponse({"result": "duplicate"})
    with transaction.atomic():
        event = ProviderEvent.objects.create(
            account=account, dedupe_key=uuid.uuid4().hex, kind=kind, room_id=body["roomId"], peer_id=body["peerId"],
            payload=body)
        transaction.on_commit(lambda: apply_event(event))
    return JsonResponse({"result": "recorded"})
