"""Gcore's Streaming API (recordings and statistics), as seed 004 and providers.md describe it.

Every request goes through portal.http, holds one of the API token's 4-requests-per-second slots
(GCORE_REQUESTS_PER_SECOND; portal.throttle, shared by all workers), and is retried on 429 (after
Retry-After when given) and 5xx with exponential backoff and jitter. A provider that keeps failing
raises ProviderError, so the sync task can retry later and lose nothing.
"""

import hashlib
from collections.abc import Iterator
from datetime import UTC

from django.conf import settings

from portal import retrying

from ..base import ProviderError

# Gcore counts requests as they arrive; the limiter counts each from when it finished (no earlier
# than its arrival), so a small margin over one second covers clocks and rounding.
THROTTLE_WINDOW_MS = 1050
MAX_ATTEMPTS = 6
PER_PAGE = 100


class StreamingClient:
    def __init__(self, account, *, base_url: str | None = None, attempts: int = MAX_ATTEMPTS):
        self.account = account
        # Gcore limits each API token, not each portal account: accounts sharing a token share slots.
        self.limits = retrying.Limits("gcore:" + hashlib.sha256(account.api_token.encode()).hexdigest()[:24],
                                      settings.GCORE_REQUESTS_PER_SECOND, settings.GCORE_BACKOFF_SECONDS, attempts,
                                      window_ms=THROTTLE_WINDOW_MS)
        self.base_url = (base_url or settings.GCORE_API_BASE_URL).rstrip("/")

    def _get(self, path: str, params: dict | None = None):
        """The JSON of a GET; None for 404 (no such thing, or no data yet)."""
        try:
            headers = {"Authorization": f"APIKey {self.account.api_token}", "Accept": "application/json"}
            response = retrying.http_request(self.limits, "GET", self.base_url + path, describe=_message,
                                             params=params, headers=headers)
        except retrying.GaveUp as gave_up:
            raise ProviderError(f"Gcore did not answer {path} after {self.limits.attempts} attempt(s): "
                                f"{gave_up}") from None
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise ProviderError(f"Gcore refused {path}: HTTP {response.status_code}: {_message(response)}",
                                permanent=True)
        return response.json()

    def video_pages(self, room_id: str) -> Iterator[list[dict]]:
        """The videos whose name, slug or id matches the room, a page at a time as Gcore answers them
        (the current paged search until an empty page), so a caller holds one page, not them all; the
        seed's legacy search, in one answer, when the current one is not there."""
        page = 1
        while True:
            batch = self._get("/streaming/videos", {"search": room_id, "page": page, "per_page": PER_PAGE})
            if batch is None and page == 1:
                yield self._get("/streaming/videos/search", {"q": room_id}) or []
                return
            if batch is None:  # not the end of the listing: taken for one, the sync would remove the rest
                raise ProviderError(f"Gcore answered 404 for page {page} of the videos of {room_id}")
            if not batch:
                return
            yield batch
            page += 1

    def videos_for_room(self, room_id: str) -> list[dict]:
        """Every video of the room in one list (video_pages, collected)."""
        return [video for batch in self.video_pages(room_id) for video in batch]

    def recent_videos(self) -> list[dict]:
        """One short page of the account's videos: a cheap call that proves the token works."""
        return self._get("/streaming/videos", {"page": 1, "per_page": 1}) or []

    def video(self, video_id) -> dict | None:
        return self._get(f"/streaming/videos/{int(video_id)}")

    def room_summary(self, room_id: str, start, end) -> dict | None:
        answer = self._get("/streaming/statistics/peers/summary", _window(room_id, start, end))
        return answer.get("data") if answer else None

    def room_peers(self, room_id: str, start, end) -> list[dict]:
        answer = self._get("/streaming/statistics/peers", _window(room_id, start, end))
        return answer.get("data", []) if answer else []


def _window(room_id, start, end) -> dict:
    return {"room_id": room_id, "from": start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "to": end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}


def _message(response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return str(body.get("error") or body.get("errors") or body)[:200]
    return str(body)[:200]
