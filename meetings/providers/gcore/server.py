"""Gcore Meet's Server API (seed 004, "Server API"): act on a live room on its region's server.

The server follows from the room id's prefix (serv0 -> webrtc3.gvideo.co, ... serv3 -> webrtc6).
Calls carry the account's API token. A room or peer the server does not know (400 or 404) is
already gone, which is what closing wanted; 401/403 mean the token is wrong; 5xx or no answer mean
the server is unavailable (ProviderError, so a task can retry).
"""

from django.conf import settings
from django.utils.translation import gettext as _

from portal import http

from ..base import ProviderError

SERVERS = {"serv0": "https://webrtc3.gvideo.co", "serv1": "https://webrtc4.gvideo.co",
           "serv2": "https://webrtc5.gvideo.co", "serv3": "https://webrtc6.gvideo.co"}
GONE = (400, 404)


def server_url(room_id: str) -> str:
    """The region's server; GCORE_SERVER_BASE_URL replaces them all (a private deployment, or tests)."""
    if settings.GCORE_SERVER_BASE_URL:
        return settings.GCORE_SERVER_BASE_URL.rstrip("/")
    return SERVERS.get(room_id[:5], SERVERS["serv0"])


class ServerClient:
    def __init__(self, account):
        self.account = account

    def _call(self, method: str, room_id: str, action: str, **kwargs):
        url = f"{server_url(room_id)}/rooms/{room_id}/{action}"
        try:
            response = http.request(method, url, retries=method == "GET",
                                    headers={"Authorization": f"APIKey {self.account.api_token}"}, **kwargs)
        except http.OutboundError as error:
            raise ProviderError(f"Gcore's server did not answer {action}: {error}") from error
        if response.status_code in (401, 403):
            raise ProviderError(f"Gcore's server refused the API token ({response.status_code}).", permanent=True)
        if response.status_code >= 500:
            raise ProviderError(f"Gcore's server is unavailable ({response.status_code}).")
        return response

    def close_peer(self, room_id: str, peer_id: str) -> bool:
        """Disconnect one person now; False when they were not there."""
        return self._call("POST", room_id, "closePeer", json={"peerId": peer_id}).status_code not in GONE

    def close_room(self, room_id: str) -> bool:
        """Close the room for everyone; False when it was not open."""
        return self._call("GET", room_id, "closeRoom").status_code not in GONE

    def number_peers(self, room_id: str) -> int:
        """How many are in the room now. The seed gives no body for this call: a bare number, or an
        object with one numeric field, is read as the count."""
        response = self._call("GET", room_id, "numberPeers")
        if response.status_code in GONE:
            return 0
        try:
            body = response.json()
        except ValueError:
            body = response.text.strip()
        if isinstance(body, dict):
            numbers = [value for value in body.values() if isinstance(value, int)]
            body = numbers[0] if len(numbers) == 1 else None
        try:
            return int(body)
        except (TypeError, ValueError):
            raise ProviderError(f"Gcore's server answered numberPeers with {str(body)[:80]!r}.",
                                permanent=True) from None

    def reachable(self, room_id: str) -> str:
        """The seed's health check: durationOfBroadcast of a room that does not exist answers 400
        when the server is up."""
        status = self._call("GET", room_id, "durationOfBroadcast").status_code
        return _("%(url)s answered (%(status)s)") % {"url": server_url(room_id), "status": status}
