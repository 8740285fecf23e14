"""Gcore Meet (seed 004): rooms need no creation; a room is the region prefix plus a stable id. Each
account joins people in one of the two ways the seed offers (ProviderAccount.join_mode):

- "jwt": every person gets a signed JWT that carries their rights. JWT values win over URL values, so
  rights (role, limits, recording, waiting room) go only in the token, and the URL carries only
  presentation attributes the seed marks URL-only. With the JWT option on, the seed says the
  &accessToken attribute cannot be used: the token carries none and the access check refuses.
- "access_check": no JWT. The URL carries accessToken and peerId and the rights the seed lets a URL
  carry (displayName, handEnabled, itisparticipant, maxBroadcasters, maxWatchers); Gcore then asks the
  portal's access check (services/provider_access.access_check) at every connection. The JWT-only
  rights (role, canRecord, waitingRoom) cannot be given this way.
"""

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.utils import timezone

from portal.validators import public_hostname_problem

from ... import links
from ...models import Kind, Role
from ..base import (
    Capabilities,
    Check,
    JoinTicket,
    ParsedEvent,
    Provider,
    ProviderError,
    ProviderRecording,
    SittingReport,
)
from ..signing import mint
from . import accounts, callbacks, checks, reports
from .server import ServerClient

TOKEN_LIFETIME = timedelta(minutes=10)
IFRAME_PERMISSIONS = "camera; microphone; fullscreen; display-capture; autoplay; screen-wake-lock"
# Meeting settings the seed marks URL-only, by the attribute that carries them.
URL_SETTINGS = {"controls_disabled": "controlsDisabled", "hide_indicators": "hideIndicators",
                "start_fullscreen": "startWithFS", "sort_peers": "sortPeers", "minimize_tiles": "minimizeTiles"}
JWT, ACCESS_CHECK = "jwt", "access_check"
ROLE_CLAIMS = {Role.HOST: "moderator", Role.MODERATOR: "moderator", Role.INTERPRETER: "interpreter"}


ROOM_ID = re.compile(r"^serv\d+([0-9a-f]{32})$")


def bridge_script_allowed(domain: str) -> bool:
    """The bridge script runs in the portal's origin, with the person's portal session: load it only
    from Gcore's own hosts (settings.GCORE_BRIDGE_SCRIPT_HOSTS), never from a domain an organization typed."""
    for host in settings.GCORE_BRIDGE_SCRIPT_HOSTS:
        host = host.strip().lower()
        if domain == host or (host.startswith(".") and domain.endswith(host) and len(domain) > len(host)):
            return True
    return False


def room_id(meeting) -> str:
    """serv0..serv3 followed by the meeting's stable, alphanumeric id."""
    return f"{meeting.region}{meeting.ical_uid.split('@')[0].replace('-', '')}"


def meeting_uid_of(room: str) -> str | None:
    """The ical_uid of the meeting a room id names, or None when it is not one of ours."""
    match = ROOM_ID.match(room)
    return f"{uuid.UUID(match.group(1))}@meeting-portal" if match else None


class GcoreProvider(Provider):
    key = "gcore"
    name = "Gcore Meet"
    urls_module = "meetings.providers.gcore.urls"
    capabilities = Capabilities(webinar=True, waiting_room=True, recording=True, interpretation=True,
                                remove_participant=True, statistics=True, webhooks=True,
                                max_broadcasters=20, max_watchers=2000)
    settings_fields = ("waiting_room", "raise_hand", "chat_enabled", "recording_allowed", "region",
                       "interface_language", *URL_SETTINGS)
    account_fields = ("meet_domain", "default_region", "join_mode", "jwt_algorithm", "jwt_public_key")
    secret_fields = ("jwt_secret", "jwt_private_key", "api_token", "webhook_secret", "access_secret")
    join_modes = (JWT, ACCESS_CHECK)

    def account_problems(self, values: dict) -> dict[str, str]:
        return accounts.account_problems(values, join_modes=self.join_modes)

    def parse_event(self, request) -> list[ParsedEvent]:
        return callbacks.parse_event(self, request)

    def claims(self, *, meeting, occurrence, invitation, session, now) -> dict:
        """The rights of one person in the jwt mode (no accessToken: the seed forbids it with JWT)."""
        claims = {
            "roomId": room_id(meeting),
            "displayName": invitation.display_name,
            "peerId": invitation.peer_id,
            "canRecord": meeting.recording_allowed and invitation.is_moderating,
            "waitingRoom": meeting.waiting_room,
            "handEnabled": meeting.raise_hand,
            "startTime": occurrence.start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0Z"),
            "iat": int(now.timestamp()),
            "exp": int((now + TOKEN_LIFETIME).timestamp()),
        }
        if invitation.role in ROLE_CLAIMS:
            claims["role"] = ROLE_CLAIMS[invitation.role]
        if invitation.role == Role.INTERPRETER:
            claims.update(featureInterpreters=True, intLang=invitation.language)
        if meeting.kind == Kind.WEBINAR:
            claims["itisparticipant"] = not invitation.is_watcher
        if meeting.max_broadcasters:
            claims["maxBroadcasters"] = meeting.max_broadcasters
        if meeting.max_watchers and meeting.kind == Kind.WEBINAR:
            claims["maxWatchers"] = meeting.max_watchers
        return claims

    def access_check_attributes(self, *, meeting, invitation, session) -> dict:
        """The access-check mode's URL: who this is (peerId, accessToken for the access check) and the
        rights the seed marks "JWT, URL". The access check's own URL and header are registered with
        Gcore for the account: the seed keeps &accessUrl and &authorizationAccess for debugging, and
        the header would hand the account's secret to everyone in the room."""
        attributes = {"peerId": invitation.peer_id, "accessToken": links.access_token(session),
                      "displayName": invitation.display_name}
        if meeting.raise_hand:
            attributes["handEnabled"] = "true"
        if meeting.kind == Kind.WEBINAR:
            attributes["itisparticipant"] = "false" if invitation.is_watcher else "true"
        if meeting.max_broadcasters:
            attributes["maxBroadcasters"] = str(meeting.max_broadcasters)
        if meeting.max_watchers and meeting.kind == Kind.WEBINAR:
            attributes["maxWatchers"] = str(meeting.max_watchers)
        return attributes

    def url_attributes(self, *, meeting, invitation, bridge: bool = True) -> dict:
        attributes = {}
        if bridge:
            # The portal's pre-join page already asked; the room page's bridge then calls "join", as
            # the seed says to. Without the bridge nothing could join, so Gcore's own screen stays.
            attributes["nameScreenDisabled"] = "true"
        if meeting.interface_language:
            attributes["lang"] = meeting.interface_language
        if not meeting.chat_enabled:
            attributes["disableChat"] = "true"
        if meeting.kind == Kind.WEBINAR and invitation.is_watcher:
            attributes["autoplayWithoutAudioTrack"] = "true"
        for setting, attribute in URL_SETTINGS.items():
            if getattr(meeting, setting):
                attributes[attribute] = "true"
        return attributes

    def join(self, *, meeting, occurrence, invitation, session) -> JoinTicket:
        domain = self.account.meet_domain
        if public_hostname_problem(domain):
            # Saved before validation existed, or written around it: never put it in a page.
            raise ProviderError(f"The Gcore account {self.account.name!r} has an invalid meet domain; an "
                                "organization admin must correct it under Video providers.", permanent=True)
        now = timezone.now()
        bridge = f"https://{domain}/meetBridgeApi.js" if bridge_script_allowed(domain) else ""
        query = {"roomId": room_id(meeting),
                 **self.url_attributes(meeting=meeting, invitation=invitation, bridge=bool(bridge))}
        token = ""
        if self.account.join_mode == ACCESS_CHECK:
            query.update(self.access_check_attributes(meeting=meeting, invitation=invitation, session=session))
        else:
            token = mint(self.account, self.claims(meeting=meeting, occurrence=occurrence, invitation=invitation,
                                                   session=session, now=now))
            query["token"] = token
        path = "webinar" if meeting.kind == Kind.WEBINAR else "call"
        return JoinTicket(kind="iframe", url=f"https://{domain}/{path}/?{urlencode(query)}",
                          token=token, expires_at=now + TOKEN_LIFETIME,
                          options={"allow": IFRAME_PERMISSIONS, "room_id": room_id(meeting), "bridge": bridge})

    def remove_participant(self, *, meeting, invitation) -> bool:
        return ServerClient(self.account).close_peer(room_id(meeting), invitation.peer_id)

    def end_room(self, *, meeting, occurrence) -> bool:
        return ServerClient(self.account).close_room(room_id(meeting))

    def people_in_room(self, *, meeting) -> int:
        return ServerClient(self.account).number_peers(room_id(meeting))

    def meeting_for_room(self, room: str):
        from ...models import Meeting

        uid = meeting_uid_of(room)
        return Meeting.objects.of(self.account.organization).filter(ical_uid=uid).first() if uid else None

    def fetch_recordings(self, *, meeting) -> Iterator[ProviderRecording]:
        return reports.recordings(self.account, room_id(meeting))

    def fetch_sitting(self, *, meeting, start, end) -> SittingReport:
        return reports.sitting(self.account, room_id(meeting), start, end)

    def check_connection(self) -> list[Check]:
        return checks.check_connection(self.account)
