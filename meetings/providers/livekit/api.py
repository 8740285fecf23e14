"""LiveKit's RoomService, called with the official `livekit-api` package from the portal's sync code.

livekit-api is asyncio + aiohttp: every RoomService method is a coroutine, sent as Twirp (protobuf)
to /twirp/livekit.RoomService/<Method> with a Bearer JWT the package signs per call with exactly
the grant that method needs (roomCreate, roomList, or roomAdmin for one room). Here each call runs
on its own short-lived LiveKitAPI (own aiohttp session) through asgiref's async_to_sync, which works
from a WSGI thread, a Celery worker and Channels' sync_to_async threads alike.

Around each call the portal adds what the package leaves out:
- the rate limit and retries every provider gets (portal.retrying, keyed on the server URL and API
  key, so two portal accounts with one key share it); a 429's Retry-After is read from the response
  through an aiohttp trace hook, since the package's ServerError does not carry headers;
  livekit-api's own region failover is off (self-hosted servers have no regions);
- the outbound address rule of portal/http.py (no private, loopback or link-local addresses unless
  OUTBOUND_ALLOW_PRIVATE_ADDRESSES), applied in the aiohttp resolver so every connection obeys it.
"""

import hashlib
import ipaddress
import socket
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver
from aiohttp.resolver import DefaultResolver
from asgiref.sync import async_to_sync
from django.conf import settings
from livekit import api as lk

from portal import retrying

from ..base import ProviderError

MAX_ATTEMPTS = 5


class LiveKitError(ProviderError):
    def __init__(self, message: str, *, status: int = 0, code: str = "", permanent: bool = False):
        super().__init__(message, permanent=permanent, status=status)
        self.code = code  # Twirp's error code, e.g. not_found


class PublicOnlyResolver(AbstractResolver):
    """aiohttp's resolver, refusing names that resolve to non-public addresses (portal/http.py's rule)."""

    def __init__(self):
        self._inner = DefaultResolver()

    async def resolve(self, host, port=0, family=socket.AF_INET):
        found = await self._inner.resolve(host, port, family)
        if not settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES:
            for entry in found:
                if not ipaddress.ip_address(entry["host"]).is_global:
                    raise OSError(f"{host} resolves to a non-public address")
        return found

    async def close(self):
        await self._inner.close()


def _refuse_private_literal(host: str) -> None:
    """aiohttp connects to an IP address without asking the resolver: the same rule for those."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return  # a name: PublicOnlyResolver checks what it resolves to
    if not address.is_global and not settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES:
        raise LiveKitError(f"{host} is a non-public address", permanent=True)


def http_url(server_url: str) -> str:
    """The server's HTTP base URL (accounts may give ws:// or wss://, as LiveKit's docs do)."""
    parts = urlsplit(server_url.strip())
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    return f"{scheme}://{parts.netloc}{parts.path}".rstrip("/")


def socket_url(server_url: str) -> str:
    """The URL the browser SDK connects its signalling WebSocket to: ws(s):// on the same host."""
    parts = urlsplit(http_url(server_url))
    return f"{'wss' if parts.scheme == 'https' else 'ws'}://{parts.netloc}{parts.path}"


class LiveKitClient:
    def __init__(self, account, *, attempts: int = MAX_ATTEMPTS):
        if not (account.server_url and account.api_key and account.api_secret):
            raise LiveKitError("The LiveKit account needs its server URL, API key and secret.", permanent=True)
        self.url = http_url(account.server_url)
        if urlsplit(self.url).scheme not in ("http", "https") or not urlsplit(self.url).hostname:
            raise LiveKitError("The LiveKit server URL must be an http(s) or ws(s) URL.", permanent=True)
        self.api_key, self.api_secret = account.api_key, account.api_secret
        # LiveKit limits per project key: accounts sharing one key (and server) share the slots.
        credential = f"{self.url}|{self.api_key}"
        self.limits = retrying.Limits("livekit:" + hashlib.sha256(credential.encode()).hexdigest()[:24],
                                      settings.LIVEKIT_REQUESTS_PER_SECOND, settings.LIVEKIT_BACKOFF_SECONDS, attempts)

    # --- transport -------------------------------------------------------------------------------
    async def _run(self, method: str, request, seen: dict):
        async def on_end(session, context, params):
            seen["retry_after"] = params.response.headers.get("Retry-After", "")

        trace = aiohttp.TraceConfig()
        trace.on_request_end.append(on_end)
        connector = aiohttp.TCPConnector(resolver=PublicOnlyResolver())
        timeout = aiohttp.ClientTimeout(total=settings.OUTBOUND_TIMEOUT_SECONDS)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout, trace_configs=[trace]) as session:
            client = lk.LiveKitAPI(self.url, self.api_key, self.api_secret, session=session, failover=False)
            return await getattr(client.room, method)(request)

    def call(self, method: str, request, *, missing_ok: bool = False):
        """The answer of one RoomService call; None for not_found when `missing_ok`."""
        _refuse_private_literal(urlsplit(self.url).hostname or "")

        def attempt():
            seen = {"retry_after": ""}
            try:
                return async_to_sync(self._run)(method, request, seen)
            except lk.TwirpError as error:
                if missing_ok and (error.status == 404 or error.code == "not_found"):
                    return None
                problem = f"HTTP {error.status} {error.code}: {error.message[:200]}"
                if error.status == 429 or error.status >= 500:
                    raise retrying.TryAgain(problem, seen["retry_after"] if error.status == 429 else "") from None
                raise LiveKitError(f"LiveKit refused {method}: {problem}", status=error.status, code=error.code,
                                   permanent=True) from None
            except (aiohttp.ClientError, TimeoutError, OSError) as error:
                raise retrying.TryAgain(f"{error.__class__.__name__}: {str(error)[:200]}") from None

        try:
            return retrying.call(self.limits, attempt)
        except retrying.GaveUp as gave_up:
            raise LiveKitError(f"LiveKit did not answer {method} after {self.limits.attempts} attempt(s): "
                               f"{gave_up}") from None

    # --- RoomService -----------------------------------------------------------------------------
    def create_room(self, name: str, *, empty_timeout: int, departure_timeout: int, max_participants: int,
                    metadata: str):
        return self.call("create_room", lk.CreateRoomRequest(
            name=name, empty_timeout=empty_timeout, departure_timeout=departure_timeout,
            max_participants=max_participants, metadata=metadata))

    def list_rooms(self, names: list[str] | None = None) -> list:
        return list(self.call("list_rooms", lk.ListRoomsRequest(names=names or [])).rooms)

    def delete_room(self, name: str) -> bool:
        return self.call("delete_room", lk.DeleteRoomRequest(room=name), missing_ok=True) is not None

    def list_participants(self, room: str) -> list:
        answer = self.call("list_participants", lk.ListParticipantsRequest(room=room), missing_ok=True)
        return list(answer.participants) if answer is not None else []

    def remove_participant(self, room: str, identity: str) -> bool:
        return self.call("remove_participant", lk.RoomParticipantIdentity(room=room, identity=identity),
                         missing_ok=True) is not None

    def mute_track(self, room: str, identity: str, track_sid: str, muted: bool = True):
        return self.call("mute_published_track", lk.MuteRoomTrackRequest(
            room=room, identity=identity, track_sid=track_sid, muted=muted), missing_ok=True)

    def get_participant(self, room: str, identity: str):
        """The participant's ParticipantInfo, or None when they are not in the room."""
        return self.call("get_participant", lk.RoomParticipantIdentity(room=room, identity=identity),
                         missing_ok=True)

    def update_participant(self, room: str, identity: str, permission, *, metadata: str = "") -> bool:
        return self.call("update_participant", lk.UpdateParticipantRequest(
            room=room, identity=identity, permission=permission, metadata=metadata), missing_ok=True) is not None
