"""VideoSDK's v2 REST API (seed 003 and providers.md), for one API key.

Every call carries a fresh crawler token as the bare `Authorization` value (no "Bearer"), holds a slot
of that API key's rate limit (portal.throttle, shared by all workers: two portal accounts with one
key share it), and is retried on 429 (after Retry-After when given) and 5xx with backoff. VideoSDK
publishes no number for its limit, so VIDEOSDK_REQUESTS_PER_SECOND is a conservative cap and 429s
are always honoured. Lists page with `page` and `perPage` and stop at `pageInfo.lastPage`.
"""

import hashlib
from urllib.parse import quote, urlsplit

from django.conf import settings

from portal import retrying

from ..base import ProviderError
from . import tokens

MAX_ATTEMPTS = 5
PAGE_SIZE = 100
MAX_PAGES = 200  # a paging loop that never ends is the provider's bug, not a reason to hang a worker


class VideoSDKError(ProviderError):
    pass


class VideoSDKClient:
    def __init__(self, account, *, attempts: int = MAX_ATTEMPTS):
        if not (account.api_key and account.api_secret):
            raise VideoSDKError("The VideoSDK account needs its API key and secret.", permanent=True)
        self.account = account
        # VideoSDK limits each API key, not each portal account: accounts sharing a key share slots.
        self.limits = retrying.Limits("videosdk:" + hashlib.sha256(account.api_key.encode()).hexdigest()[:24],
                                      settings.VIDEOSDK_REQUESTS_PER_SECOND, settings.VIDEOSDK_BACKOFF_SECONDS,
                                      attempts)
        self.base_url = settings.VIDEOSDK_API_BASE_URL.rstrip("/")

    # --- transport -------------------------------------------------------------------------------
    def call(self, method: str, path: str, *, body: dict | None = None, params: dict | None = None,
             authenticated: bool = True):
        """The JSON answer of one call; VideoSDKError with the status when VideoSDK refuses it."""
        url = self.base_url + path
        headers = {"Accept": "application/json"}
        if authenticated:
            headers["Authorization"] = tokens.api_token(self.account)
        try:
            response = retrying.http_request(self.limits, method, url, describe=_message, json=body, params=params,
                                             headers=headers)
        except retrying.GaveUp as gave_up:
            raise VideoSDKError(f"VideoSDK did not answer {method} {_path(url)} after {self.limits.attempts} "
                                f"attempt(s): {gave_up}") from None
        if response.status_code >= 400:
            raise VideoSDKError(f"VideoSDK refused {method} {_path(url)}: HTTP {response.status_code}: "
                                f"{_message(response)}", status=response.status_code, permanent=True)
        return _json(response)

    def pages(self, path: str, params: dict | None = None) -> list[dict]:
        """Every item of a list, page by page until pageInfo says it was the last."""
        items = []
        for page in range(1, MAX_PAGES + 1):
            answer = self.call("GET", path, params={**(params or {}), "page": page, "perPage": PAGE_SIZE})
            data = answer.get("data") if isinstance(answer, dict) else None
            if not isinstance(data, list):
                raise VideoSDKError(f"VideoSDK's answer to GET {path} has no data list")
            items.extend(item for item in data if isinstance(item, dict))
            info = answer.get("pageInfo") if isinstance(answer.get("pageInfo"), dict) else {}
            last = info.get("lastPage")
            if not data or not isinstance(last, int) or page >= last:
                return items
        raise VideoSDKError(f"VideoSDK kept paging {path} past {MAX_PAGES} pages")

    # --- rooms -----------------------------------------------------------------------------------
    def create_room(self, body: dict) -> dict:
        """POST /v2/rooms; with a customRoomId VideoSDK answers the room it already has for it."""
        room = self.call("POST", "/v2/rooms", body=body)
        if not isinstance(room, dict) or not isinstance(room.get("roomId"), str) or not room["roomId"]:
            raise VideoSDKError("VideoSDK's answer to creating a room has no roomId")
        return room

    def validate_room(self, room_id: str) -> dict | None:
        """The room when VideoSDK says it can be joined; None when it says it cannot."""
        try:
            room = self.call("GET", f"/v2/rooms/validate/{quote(room_id, safe='')}")
        except VideoSDKError as error:
            if error.status in (400, 404):
                return None
            raise
        if not isinstance(room, dict) or room.get("disabled") is True:
            return None
        return room

    def list_rooms(self, per_page: int = 1) -> list[dict]:
        answer = self.call("GET", "/v2/rooms", params={"page": 1, "perPage": per_page})
        return answer.get("data") or [] if isinstance(answer, dict) else []

    # --- sessions --------------------------------------------------------------------------------
    def sessions(self, room_id: str) -> list[dict]:
        return self.pages("/v2/sessions/", {"roomId": room_id})

    def remove_participant(self, room_id: str, participant_id: str) -> bool:
        """True when VideoSDK removed them; False when it says they are not in a live session."""
        return self._session_action("/v2/sessions/participants/remove",
                                    {"participantId": participant_id, "roomId": room_id})

    def end_session(self, room_id: str) -> bool:
        """True when VideoSDK ended the room's live session; False when none was live."""
        return self._session_action("/v2/sessions/end", {"roomId": room_id})

    def _session_action(self, path: str, body: dict) -> bool:
        try:
            self.call("POST", path, body=body)
        except VideoSDKError as error:
            if error.status in (400, 404):
                return False
            raise
        return True

    # --- recordings and webhook key --------------------------------------------------------------
    def recordings(self, room_id: str) -> list[dict]:
        return self.pages("/v2/recordings", {"roomId": room_id})

    def webhook_public_key(self) -> str:
        """The PEM of the RSA key VideoSDK signs webhooks with (a public endpoint: no token)."""
        return _pem_in(self.call("GET", "/v2/public/rsa-public-key", authenticated=False))


def _pem_in(answer) -> str:
    """The answer's PEM, wherever it sits: a bare string or a field of the JSON object."""
    stack = [answer]
    while stack:
        value = stack.pop()
        if isinstance(value, str) and "-----BEGIN" in value:
            return value.strip()
        if isinstance(value, dict):
            stack.extend(value.values())
    raise VideoSDKError("VideoSDK's webhook public key answer holds no PEM key")


def _json(response):
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        if response.text.lstrip().startswith("-----BEGIN"):
            return response.text  # the public key, served as text
        raise VideoSDKError("VideoSDK answered with something that is not JSON") from None


def _path(url: str) -> str:
    return urlsplit(url).path  # never the query: it may name people


def _message(response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or body)[:200]
    return str(body)[:200]
