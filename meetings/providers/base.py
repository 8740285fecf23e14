"""The provider interface. Each video provider is one module with one Provider subclass.

The portal asks a provider what it can do (Capabilities), to make sure a meeting's room exists
(ensure_room), and for what a room page needs to embed the meeting for one person (join -> JoinTicket).
Providers that can act on a live room or report afterwards implement the optional methods.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.utils.translation import gettext as _


class ProviderError(Exception):
    """A provider call failed; `permanent` says whether retrying can help, `status` is the provider's
    HTTP status when it answered (0 when it did not)."""

    def __init__(self, message: str, *, permanent: bool = False, status: int = 0):
        super().__init__(message)
        self.permanent, self.status = permanent, status


class NotSupported(ProviderError):
    def __init__(self, what: str):
        super().__init__(f"this provider cannot {what}", permanent=True)


class CallbackRefused(Exception):
    """A callback the portal will not act on: answered with `status` and the reason, nothing stored."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


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
class Check:
    """One part of a provider account, tried for real: what, whether it works, and what to do."""

    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class ProviderRecording:
    """A recording as the provider has it; the sync upserts it on `provider_id`."""

    provider_id: str
    ready: bool
    started_at: datetime | None
    duration_seconds: float
    hls_url: str = ""
    download_url: str = ""
    content_type: str = "application/vnd.apple.mpegurl"


@dataclass(frozen=True)
class ProviderStay:
    """One peer's stay in a room, from the provider's statistics."""

    peer_id: str
    joined_at: datetime
    left_at: datetime


@dataclass(frozen=True)
class SittingReport:
    """What the provider reports about one sitting's window: the room summary and every stay."""

    participants: int = 0
    active_seconds: int = 0
    first_join: datetime | None = None
    last_leave: datetime | None = None
    stays: list[ProviderStay] = field(default_factory=list)


@dataclass(frozen=True)
class JoinTicket:
    """What the room page needs: an iframe URL, or the name of a client SDK with its token and options."""

    kind: str  # "iframe" or "sdk"
    expires_at: datetime
    url: str = ""
    sdk: str = ""
    token: str = ""
    options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ParsedEvent:
    """One event from a provider's callback, authenticated and parsed: `dedupe_key` is the provider's
    own event id where it sends one (a repeat is then stored once), `kind` is "joined" or "left"."""

    dedupe_key: str
    kind: str
    room_id: str
    peer_id: str
    payload: dict


@dataclass(frozen=True)
class ClientToken:
    """A fresh token for the room page's SDK, and when it stops working."""

    token: str
    expires_at: datetime


# The meeting settings every provider honours; the rest are listed per provider in `settings_fields`.
COMMON_SETTINGS = ("provider", "kind", "max_broadcasters", "max_watchers")


class Provider:
    key = ""
    name = ""
    capabilities = Capabilities()
    urls_module = ""  # the dotted path of the package's urls.py, for its callback endpoints
    # Meeting settings (MeetingSettings.SETTING_FIELDS) this provider acts on, besides COMMON_SETTINGS:
    # forms show only these for it.
    settings_fields: tuple[str, ...] = ()
    # ProviderAccount fields its account form shows, and the join modes it offers (first is the default).
    account_fields: tuple[str, ...] = ()
    secret_fields: tuple[str, ...] = ()
    join_modes: tuple[str, ...] = ()

    def __init__(self, account=None):
        self.account = account

    @classmethod
    def deploy_problems(cls) -> list[str]:
        """What is wrong with the portal's own settings for this provider (`manage.py check --deploy`)."""
        return []

    def limit_problems(self, *, kind: str, max_broadcasters: int, max_watchers: int) -> list[str]:
        """Why a meeting with these settings would not fit this provider (empty when it fits)."""
        problems = []
        caps = self.capabilities
        if kind == "webinar" and not caps.webinar:
            problems.append(_("%(provider)s does not hold webinars.") % {"provider": self.name})
        if caps.max_broadcasters is not None and (max_broadcasters == 0 or max_broadcasters > caps.max_broadcasters):
            problems.append(_("%(provider)s holds at most %(most)d people with camera or microphone; set max "
                              "broadcasters to %(most)d or fewer, or use a hosted provider.") % {
                "provider": self.name, "most": caps.max_broadcasters})
        if kind == "webinar" and caps.max_watchers is not None and (
                max_watchers == 0 or max_watchers > caps.max_watchers):
            problems.append(_("%(provider)s holds at most %(most)d webinar viewers; set max watchers to %(most)d or "
                              "fewer, or use a hosted provider for a larger audience.") % {
                "provider": self.name, "most": caps.max_watchers})
        return problems

    def account_problems(self, values: dict) -> dict[str, str]:
        """What is wrong with an account's settings for this provider, by field (empty when fine).
        `values` are the account's fields as a form cleaned them; forms and admin both ask this."""
        return {}

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

    def meeting_for_room(self, room_id: str):
        """This account's meeting that a provider room id names (callbacks carry room ids), or None."""
        return None

    def fetch_recordings(self, *, meeting) -> Iterable[ProviderRecording]:
        """Every recording the provider holds of this meeting (services/sync.py upserts them a batch at
        a time, so a generator that reads the provider page by page keeps a big sync's memory flat)."""
        raise NotSupported("list recordings")

    def fetch_sitting(self, *, meeting, start: datetime, end: datetime) -> SittingReport:
        """The provider's statistics of one sitting, read over its joining window."""
        raise NotSupported("report statistics")

    def parse_event(self, request) -> list[ParsedEvent]:
        """The events in one callback request, after checking it comes from the provider; raise
        CallbackRefused (a 4xx with its reason) otherwise. Providers without callbacks refuse all."""
        raise CallbackRefused("this provider sends no events", 404)

    def apply_events(self) -> int:
        """Act on what this account's stored callbacks said besides joins and leaves (a room that
        finished, a recording that is ready), each event once; provider_callback calls it after
        storing a delivery. Returns how many it applied; the default provider has nothing to apply."""
        return 0

    def role_changed(self, *, meeting, invitation) -> None:
        """Give someone already in the room their new role's rights now; called after the change
        commits, while they have a live stay. By default their next join carries the new rights."""

    def refresh_client_token(self, *, session) -> ClientToken:
        """A new token for the room page of a live join session, refreshed server-side."""
        raise NotSupported("refresh a room token")

    def check_connection(self) -> list[Check]:
        """Each part of the account, tried for real where the provider can answer."""
        return []
