"""Endpoints hosted providers call: Gcore's access check. Each account has its own URLs, registered
with the provider together with the header value it must send."""

import hmac
import json
import logging

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ..models import ProviderAccount
from ..services.provider_access import access_check

logger = logging.getLogger(__name__)
REQUIRED = ("accessToken", "roomId", "peerId")


def _account(account_code: str) -> ProviderAccount | None:
    return ProviderAccount.objects.select_related("organization").filter(
        code=account_code, provider="gcore", enabled=True).first()


def _header_matches(request, expected: str) -> bool:
    return bool(expected) and hmac.compare_digest(request.headers.get("Authorization", ""), expected)


@csrf_exempt  # called by the provider's server, authenticated by the registered header
@require_POST
def gcore_access_check(request, account_code):
    account = _account(account_code)
    if account is None:
        return JsonResponse({"error": "unknown account"}, status=404)
    if not _header_matches(request, account.access_secret):
        logger.warning("access check for account %s without the registered header", account.code)
        return JsonResponse({"error": "unauthorized caller"}, status=403)
    try:
        body = json.loads(request.body)
    except ValueError:
        body = None
    if not isinstance(body, dict) or not all(isinstance(body.get(f), str) and body[f] for f in REQUIRED):
        return JsonResponse({"error": "accessToken, roomId and peerId are required"}, status=400)
    decision = access_check(account=account, access_token=body["accessToken"], room_id=body["roomId"],
                            peer_id=body["peerId"])
    return JsonResponse({"result": decision.reason}, status=decision.status)
