"""SignalWire's REST API as seeds 000-002 and providers.md describe it, for one space and project.

Every call authenticates with Basic `project_id:api_token`, holds a slot of that credential's rate
limit (portal.throttle, shared by all workers: two portal accounts with one token share it), and is
retried on 429 (after Retry-After when given) and 5xx with backoff. SignalWire publishes no number
for its limit, so SIGNALWIRE_REQUESTS_PER_SECOND is a conservative cap and 429s are always honoured.
Lists follow `links.next` until it is absent.
"""

import hashlib
from urllib.parse import urlsplit

from django.conf import settings

from portal import retrying

from ..base import ProviderError

MAX_ATTEMPTS = 5
PAGE_SIZE = 100
MAX_PAGES = 200  # a paging loop that never ends is the provider's bug, not a reason to hang a worker


class SignalWireError(ProviderError):
    pass


class SignalWireClient:
    def __init__(self, account, *, attempts: int = MAX_ATTEMPTS):
        if not (account.space_host and account.project_id and account.api_token):
            raise SignalWireError("The SignalWire account needs its space, project id and API token.",
                                  permanent=True)
        self.account = account
        # SignalWire limits each project token, not each portal account: accounts sharing one share slots.
        credential = f"{account.space_host}|{account.project_id}|{account.api_token}"
        self.limits = retrying.Limits("signalwire:" + hashlib.sha256(credential.encode()).hexdigest()[:24],
                                      settings.SIGNALWIRE_REQUESTS_PER_SECOND, settings.SIGNALWIRE_BACKOFF_SECONDS,
                                      attempts)
        self.base_url = (settings.SIGNALWIRE_BASE_URL or f"https://{account.space_host}").rstrip("/")

    # --- transport -------------------------------------------------------------------------------
    def call(self, method: str, path: str, *, body: dict | None = None, params: dict | None = None,
             missing_ok: bool = False):
        """The JSON answer of one call; None for a 404 when `missing_ok`, or for a 204."""
        url = path if path.startswith("http") else self.base_url + path
        if urlsplit(url).netloc != urlsplit(self.base_url).netloc:
            raise SignalWireError(f"SignalWire sent a link to another host: {url!r}", permanent=True)
        try:
            response = retrying.http_request(self.limits, method, url, describe=_message, json=body, params=params,
                                             auth=(self.account.project_id, self.account.api_token),
                                             headers={"Accept": "application/json"})
        except retrying.GaveUp as gave_up:
            raise SignalWireError(f"SignalWire did not answer {method} {_path(url)} after {self.limits.attempts} "
                                  f"attempt(s): {gave_up}") from None
        status = response.status_code
        if status == 204 or (status == 404 and missing_ok):
            return None
        if status >= 400:
            raise SignalWireError(f"SignalWire refused {method} {_path(url)}: HTTP {status}: {_message(response)}",
                                  status=status, permanent=True)
        return _json(response)

    def pages(self, path: str, params: dict | None = None) -> list[dict]:
        """Every item of a list, following links.next."""
        items, url, params = [], path, {**(params or {}), "page_size": PAGE_SIZE}
        for _ in range(MAX_PAGES):
            answer = self.call("GET", url, params=params) or {}
            items.extend(answer.get("data") or [])
            url = (answer.get("links") or {}).get("next")
            if not url:
                return items
            params = None  # the next link carries its own query
        raise SignalWireError(f"SignalWire kept paging {path} past {MAX_PAGES} pages")

    # --- rooms -----------------------------------------------------------------------------------
    def list_rooms(self, page_size: int = 1) -> list[dict]:
        return (self.call("GET", "/api/video/rooms", params={"page_size": page_size}) or {}).get("data") or []

    def get_room(self, name: str) -> dict | None:
        return self.call("GET", f"/api/video/rooms/{name}", missing_ok=True)

    def create_room(self, settings_: dict) -> dict:
        return self.call("POST", "/api/video/rooms", body=settings_)

    def update_room(self, room_id: str, settings_: dict) -> dict:
        return self.call("PUT", f"/api/video/rooms/{room_id}", body=settings_)

    # --- tokens ----------------------------------------------------------------------------------
    def room_token(self, body: dict) -> str:
        return _field(self.call("POST", "/api/video/room_tokens", body=body), "token")

    def relay_jwt(self, *, resource: str, expires_in_minutes: int) -> tuple[str, str]:
        answer = self.call("POST", "/api/relay/rest/jwt", body={"resource": resource,
                                                                "expires_in": expires_in_minutes})
        return _field(answer, "jwt_token"), _field(answer, "refresh_token")

    def refresh_relay_jwt(self, refresh_token: str) -> tuple[str, str]:
        answer = self.call("PUT", "/api/relay/rest/jwt", body={"refresh_token": refresh_token})
        return _field(answer, "jwt_token"), _field(answer, "refresh_token")

    def guest_token(self, *, allowed_addresses: list[str], expire_at: int) -> tuple[str, str]:
        answer = self.call("POST", "/api/fabric/guests/tokens", body={"allowed_addresses": allowed_addresses,
                                                                      "expire_at": expire_at})
        return _field(answer, "token"), answer.get("refresh_token") or ""

    def subscriber_token(self, *, reference: str) -> tuple[str, str]:
        answer = self.call("POST", "/api/fabric/subscribers/tokens", body={"reference": reference})
        return _field(answer, "token"), answer.get("refresh_token") or ""

    def refresh_subscriber_token(self, refresh_token: str) -> tuple[str, str]:
        answer = self.call("POST", "/api/fabric/subscribers/tokens/refresh", body={"refresh_token": refresh_token})
        return _field(answer, "token"), answer.get("refresh_token") or ""

    def address_id(self, name: str) -> str:
        """The Fabric address id of a resource (a video room's address is named after the room)."""
        for address in self.pages("/api/fabric/addresses", {"name": name}):
            if address.get("name") == name and address.get("id"):
                return str(address["id"])
        raise SignalWireError(f"SignalWire has no Fabric address for the room {name!r}.", permanent=True)

    # --- reports ---------------------------------------------------------------------------------
    def room_sessions(self, room_name: str) -> list[dict]:
        return self.pages("/api/video/room_sessions", {"room_name": room_name})

    def session_members(self, session_id: str) -> list[dict]:
        return self.pages(f"/api/video/room_sessions/{session_id}/members")

    def session_recordings(self, session_id: str) -> list[dict]:
        return self.pages(f"/api/video/room_sessions/{session_id}/recordings")


def _json(response):
    try:
        return response.json()
    except ValueError:
        raise SignalWireError("SignalWire answered with something that is not JSON") from None


def _field(answer, name: str) -> str:
    if not isinstance(answer, dict) or not isinstance(answer.get(name), str) or not answer[name]:
        raise SignalWireError(f"SignalWire's answer has no {name}")
    return answer[name]


def _path(url: str) -> str:
    return urlsplit(url).path  # never the query: it may name people


def _message(response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        return "; ".join(f"{e.get('attribute') or ''} {e.get('message') or e.get('code') or ''}".strip()
                         for e in body["errors"] if isinstance(e, dict))[:300]
    if isinstance(body, dict):
        return str(body.get("error") or body)[:200]
    return str(body)[:200]
