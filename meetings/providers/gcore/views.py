"""Gcore's access check (the seed's accessUrl), one URL per account, registered with Gcore together
with the header value it must send. Join and leave events go to the portal's generic callback view
(meetings/views/callbacks.py), which asks GcoreProvider.parse_event.

Anything unauthenticated or malformed gets a 4xx with a JSON reason and writes nothing."""

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ...models import ProviderAccount
from ...services.provider_access import access_check
from ..base import CallbackRefused
from .callbacks import authenticate, json_body
from .provider import ACCESS_CHECK


def _account(account_code: str) -> ProviderAccount | None:
    return ProviderAccount.objects.select_related("organization").filter(
        code=account_code, provider="gcore", enabled=True).first()


def _access_request(request, account_code) -> tuple[ProviderAccount, dict]:
    account = _account(account_code)
    if account is None:
        raise CallbackRefused("unknown account", 404)
    authenticate(request, account, "access_secret", refused_status=403)
    if account.join_mode != ACCESS_CHECK:
        # The seed: with the JWT option on, the &accessToken attribute cannot be used, so no join of
        # this account can be vouched for here.
        raise CallbackRefused("this account does not use access checks: its people join with a signed token",
                              403)
    body = json_body(request, required=("roomId",))
    if "peerId" not in body or not (body["peerId"] is None or isinstance(body["peerId"], str)):
        raise CallbackRefused("peerId is required")
    if not isinstance(body.get("accessToken"), str) or not body["accessToken"]:
        raise CallbackRefused("accessToken is required")
    return account, body


@csrf_exempt  # called by the provider's server, authenticated by the registered header
@require_POST
def gcore_access_check(request, account_code):
    try:
        account, body = _access_request(request, account_code)
    except CallbackRefused as refused:
        return JsonResponse({"error": str(refused)}, status=refused.status)
    # An empty (or null) peerId is someone the portal did not register: access_check answers 401.
    decision = access_check(account=account, access_token=body["accessToken"], room_id=body["roomId"],
                            peer_id=body["peerId"] or "")
    return JsonResponse({"result": decision.reason}, status=decision.status)
