"""Gcore Meet (seed 004): rooms need no creation; a room is the region prefix plus a stable id, and
each person gets a signed JWT that carries their rights. JWT values win over URL values, so rights
(role, limits, recording, waiting room) go only in the token; the URL carries only presentation
attributes the seed marks URL-only."""

import re
import uuid
from datetime import UTC, timedelta
from urllib.parse import urlencode

from django.utils import timezone

from .. import links
from ..models import Kind, Role
from .base import Capabilities, JoinTicket, Provider
from .gcore_server import ServerClient
from .signing import mint

TOKEN_LIFETIME = timedelta(minutes=10)
IFRAME_PERMISSIONS = "camera; microphone; fullscreen; display-capture; autoplay; screen-wake-lock"
# Meeting settings the seed marks URL-only, by the attribute that carries them.
URL_SETTINGS = {"controls_disabled": "controlsDisabled", "hide_indicators": "hideIndicators",
                "start_fullscreen": "startWithFS", "sort_peers": "sortPeers", "minimize_tiles": "minimizeTiles"}
ROLE_CLAIMS = {Role.HOST: "moderator", Role.MODERATOR: "moderator", Role.INTERPRETER: "interpreter"}


ROOM_ID = re.compile(r"^serv\d+([0-9a-f]{32})$")


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
    capabilities = Capabilities(webinar=True, waiting_room=True, recording=True, interpretation=True,
                                remove_participant=True, statistics=True, webhooks=True,
                                max_broadcasters=20, max_watchers=2000)

    def claims(self, *, meeting, occurrence, invitation, session, now) -> dict:
        claims = {
            "roomId": room_id(meeting),
            "displayName": invitation.display_name,
            "peerId": invitation.peer_id,
            "canRecord": meeting.recording_allowed and invitation.is_moderating,
            "waitingRoom": meeting.waiting_room,
            "handEnabled": meeting.raise_hand,
            "startTime": occurrence.start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0Z"),
            "accessToken": links.access_token(session),
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

    def url_attributes(self, *, meeting, invitation) -> dict:
        attributes = {"nameScreenDisabled": "true"}  # the portal's pre-join page already asked
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
        now = timezone.now()
        claims = self.claims(meeting=meeting, occurrence=occurrence, invitation=invitation, session=session, now=now)
        token = mint(self.account, claims)
        query = {"roomId": room_id(meeting), **self.url_attributes(meeting=meeting, invitation=invitation),
                 "token": token}
        path = "webinar" if meeting.kind == Kind.WEBINAR else "call"
        return JoinTicket(kind="iframe", url=f"https://{self.account.meet_domain}/{path}/?{urlencode(query)}",
                          token=token, expires_at=now + TOKEN_LIFETIME,
                          options={"allow": IFRAME_PERMISSIONS, "room_id": room_id(meeting),
                                   "bridge": f"https://{self.account.meet_domain}/meetBridgeApi.js"})

    def remove_participant(self, *, meeting, invitation) -> bool:
        return ServerClient(self.account).close_peer(room_id(meeting), invitation.peer_id)

    def end_room(self, *, meeting, occurrence) -> bool:
        return ServerClient(self.account).close_room(room_id(meeting))

    def people_in_room(self, *, meeting) -> int:
        return ServerClient(self.account).number_peers(room_id(meeting))
