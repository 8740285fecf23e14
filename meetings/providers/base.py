"""The provider interface. Each video provider is one module with one Provider subclass.

The portal asks a provider what it can do (Capabilities), to make sure a meeting's room exists
(ensure_room), and for what a room page needs to embed the meeting for one person (join -> JoinTicket).
Providers that can act on a live room or report afterwards implement the optional methods.
"""

from dataclasses import dataclass, field
from datetime import datetime


class ProviderError(Exception):
    """A provider call failed; `permanent` says whether retrying can help."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


class NotSupported(ProviderError):
    def __init__(self, what: str):
        super().__init__(f"this provider cannot {what}", permanent=True)


@dataclass(frozen=True)
class Capabilities:
    webinar: bool = False
    waiting_room: bool = False
    recording: bool = False
    interpretation: bool = False
    remove_participant: bool = False
    statistics: bool = False
    webhooks: bool = False
    # Hard limits of the provider; None means no limit the portal needs to enforce.
    max_broadcasters: int | None = None
    max_watchers: int | None = None


@dataclass(frozen=True)
class JoinTicket:
    """What the room page needs: an iframe URL, or the name of a client SDK with its token and options."""

    kind: str  # "iframe" or "sdk"
    expires_at: datetime
    url: str = ""
    sdk: str = ""
    token: str = ""
    options: dict = field(default_factory=dict)


class Provider:
    key = ""
    name = ""
    capabilities = Capabilities()

    def __init__(self, account=None):
        self.account = account

    def limit_problems(self, *, kind: str, max_broadcasters: int, max_watchers: int) -> list[str]:
        """Why a meeting with these settings would not fit this provider (empty when it fits)."""
        problems = []
        caps = self.capabilities
        if kind == "webinar" and not caps.webinar:
            problems.append(f"{self.name} does not hold webinars.")
        if caps.max_broadcasters is not None and (max_broadcasters == 0 or max_broadcasters > caps.max_broadcasters):
            problems.append(f"{self.name} holds at most {caps.max_broadcasters} people with camera or microphone; "
                            f"set max broadcasters to {caps.max_broadcasters} or fewer, or use a hosted provider.")
        if kind == "webinar" and caps.max_watchers is not None and (
                max_watchers == 0 or max_watchers > caps.max_watchers):
            problems.append(f"{self.name} holds at most {caps.max_watchers} webinar viewers; set max watchers to "
                            f"{caps.max_watchers} or fewer, or use a hosted provider for a larger audience.")
        return problems

    def ensure_room(self, meeting) -> None:
        """Create the provider's room when it needs one; the default is a provider that needs none."""

    def join(self, *, meeting, occurrence, invitation, session) -> JoinTicket:
        raise NotImplementedError

    def remove_participant(self, *, meeting, invitation) -> bool:
        """Disconnect one person from the provider's room now; False when they were not there."""
        raise NotSupported("remove a participant")

    def end_room(self, *, meeting, occurrence) -> bool:
        """Close the provider's room for everyone; False when it was not open."""
        raise NotSupported("end a room")

    def people_in_room(self, *, meeting) -> int:
        raise NotSupported("count the people in a room")
