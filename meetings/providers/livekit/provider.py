"""LiveKit behind the provider interface.

An account is a LiveKit server (self-hosted or Cloud) with an API key and secret. A meeting has one
room, `portal-<meeting id>`, created before each join with CreateRoom (idempotent at LiveKit: an
open room is returned as it is) with the meeting's limits: max_participants from its broadcasters
and watchers, and empty/departure timeouts that keep the room until the sitting's joining window
closes, so LiveKit finishes the room (room_finished) only when the sitting is over or a host ended it.

Each join gets an access token minted by the portal (tokens.py): identity = the invitation's peer
id, the role's grants. Moderation goes through RoomService: remove (RemoveParticipant), end for
everyone (DeleteRoom), mute (MutePublishedTrack) and a role change (UpdateParticipant with the new
role's permission; RemoveParticipant when it takes moderation away, see role_changed). Attendance
and recordings come from LiveKit's signed webhooks (webhooks.py): LiveKit has no REST list of past
sessions or recordings.
"""

import json
import re
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.validators import public_hostname_problem

from ...models import Kind, Meeting, Occurrence, Presence, ProviderEvent, ProviderRoom
from ...services import moderation
from ..base import (
    Capabilities,
    Check,
    ClientToken,
    JoinTicket,
    Provider,
    ProviderError,
    ProviderRecording,
    SittingReport,
)
from . import tokens, webhooks
from .api import LiveKitClient, LiveKitError, http_url, socket_url

ROOM_NAME = re.compile(r"^portal-([0-9a-f]{32})$")
MIN_TIMEOUT = 60  # seconds a room stays after its sitting's window (or when one is not known)
MICROPHONE = 2  # livekit.TrackSource.MICROPHONE
AUDIO = 0  # livekit.TrackType.AUDIO


def room_name(meeting) -> str:
    return f"portal-{meeting.ical_uid.split('@')[0].replace('-', '')}"


def meeting_uid_of(name: str) -> str | None:
    match = ROOM_NAME.match(name)
    return f"{uuid.UUID(match.group(1))}@meeting-portal" if match else None


def window_end(occurrence) -> timezone.datetime:
    return occurrence.end + timedelta(minutes=settings.JOIN_GRACE_MINUTES_AFTER)


def stay_ends(invitation, occurrence):
    end = window_end(occurrence)
    return min(end, invitation.valid_until) if invitation.valid_until else end


def room_settings(meeting, occurrence) -> dict:
    """CreateRoom's fields for this meeting and sitting (max_participants 0 is LiveKit's 'no limit')."""
    watchers = meeting.max_watchers if meeting.kind == Kind.WEBINAR else 0
    limit = 0 if not meeting.max_broadcasters or (meeting.kind == Kind.WEBINAR and not meeting.max_watchers) \
        else meeting.max_broadcasters + watchers
    remaining = MIN_TIMEOUT
    if occurrence is not None:
        remaining = max(MIN_TIMEOUT, int((window_end(occurrence) - timezone.now()).total_seconds()))
    return {"max_participants": limit, "empty_timeout": remaining, "departure_timeout": remaining,
            "metadata": json.dumps({"portal_meeting": meeting.code}, separators=(",", ":"))}


class LiveKitProvider(Provider):
    key = "livekit"
    name = "LiveKit"
    capabilities = Capabilities(webinar=True, recording=True, remove_participant=True, statistics=True,
                                webhooks=True)
    urls_module = "meetings.providers.livekit.urls"
    settings_fields = ("recording_allowed",)
    account_fields = ("server_url", "api_key")
    secret_fields = ("api_secret",)
    join_modes = ()

    def client(self) -> LiveKitClient:
        return LiveKitClient(self.account)

    def account_problems(self, values: dict) -> dict[str, str]:
        problems = {}
        url = (values.get("server_url") or "").strip()
        try:
            parts = re.match(r"^(https?|wss?)://([^/?#\s]+)(/[^?#\s]*)?$", url)
        except TypeError:
            parts = None
        if not parts:
            problems["server_url"] = _("Enter your LiveKit server's URL, such as https://livekit.example.org or "
                                        "wss://project.livekit.cloud.")
        elif "@" in parts.group(2):
            problems["server_url"] = _("Leave the user name and password out of the URL.")
        elif not settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES and (
                problem := public_hostname_problem(parts.group(2).rsplit(":", 1)[0]
                                                   if parts.group(2).count(":") == 1 else parts.group(2))):
            # Invitees' browsers connect to it: never a private address or a bare IP.
            problems["server_url"] = _("The server's host: %(problem)s") % {"problem": problem}
        if not (values.get("api_key") or "").strip():
            problems["api_key"] = _("Enter the API key from your LiveKit project's settings (it starts with API).")
        if not values.get("api_secret"):
            problems["api_secret"] = _("Paste the API secret that goes with the key.")
        return problems

    # --- rooms -----------------------------------------------------------------------------------
    def _sitting(self, meeting):
        now = timezone.now()
        return (meeting.occurrences.exclude(status__in=[Occurrence.Status.ENDED, Occurrence.Status.CANCELLED])
                .filter(end__gte=now - timedelta(minutes=settings.JOIN_GRACE_MINUTES_AFTER)).order_by("start").first())

    def ensure_room(self, meeting, occurrence=None) -> ProviderRoom:
        wanted = room_settings(meeting, occurrence or self._sitting(meeting))
        name = room_name(meeting)
        room = self.client().create_room(name, **wanted)
        if room.name != name or not room.sid:
            raise ProviderError(f"LiveKit answered an unexpected room for {name!r}")
        values = {"name": name, "provider_room_id": room.sid, "settings": wanted}
        try:
            with transaction.atomic():
                stored, _ = ProviderRoom.objects.update_or_create(
                    account=self.account, meeting=meeting,
                    defaults=values, create_defaults={**values, "organization_id": meeting.organization_id})
        except IntegrityError:  # a concurrent first join stored it a moment ago
            ProviderRoom.objects.filter(account=self.account, meeting=meeting).update(**values)
            stored = ProviderRoom.objects.get(account=self.account, meeting=meeting)
        return stored

    # --- joining ---------------------------------------------------------------------------------
    def join(self, *, meeting, occurrence, invitation, session) -> JoinTicket:
        token, expires = self._token(meeting, occurrence, invitation)
        url = socket_url(self.account.server_url)
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))  # the page's CSP connect-src: this origin only
        return JoinTicket(kind="sdk", sdk="livekit", token=token, expires_at=expires, options={
            "host": origin, "url": url, "moderator": invitation.is_moderating,
            "audience": tokens.is_audience(meeting, invitation),
            "sources": tokens.sources_for(meeting, invitation),
            "roles": moderation.roles_given_in_room(meeting.kind) if invitation.is_moderating else []})

    def refresh_client_token(self, *, session) -> ClientToken:
        """A token for the room page to connect again (after LiveKit dropped it, or removed it for a
        role change), with the person's current role."""
        invitation, occurrence = session.invitation, session.occurrence
        if timezone.now() >= stay_ends(invitation, occurrence):
            raise ProviderError("This person's time in the meeting is over.", permanent=True)
        return ClientToken(*self._token(occurrence.meeting, occurrence, invitation))

    def _token(self, meeting, occurrence, invitation):
        room = self.ensure_room(meeting, occurrence)
        return tokens.mint(self.account, meeting=meeting, invitation=invitation, room=room.name,
                           ends=stay_ends(invitation, occurrence))

    # --- moderation ------------------------------------------------------------------------------
    def remove_participant(self, *, meeting, invitation) -> bool:
        return self.client().remove_participant(room_name(meeting), invitation.peer_id)

    def end_room(self, *, meeting, occurrence) -> bool:
        return self.client().delete_room(room_name(meeting))

    def people_in_room(self, *, meeting) -> int:
        return len(self.client().list_participants(room_name(meeting)))

    def mute_microphone(self, *, meeting, invitation) -> int:
        """Mute every microphone track this person publishes now; how many were muted."""
        room, muted = room_name(meeting), 0
        for participant in self.client().list_participants(room):
            if participant.identity != invitation.peer_id:
                continue
            for track in participant.tracks:
                if (track.source == MICROPHONE or track.type == AUDIO) and not track.muted:
                    if self.client().mute_track(room, participant.identity, track.sid, True) is not None:
                        muted += 1
        return muted

    def role_changed(self, *, meeting, invitation) -> None:
        """UpdateParticipant's permission has no roomAdmin, so a moderator losing moderation is
        removed instead: that ends the LiveKit session holding the admin grant (and the refreshed
        tokens LiveKit issues from it); the room page then connects again with a token from the
        portal, whose stay the role change left open."""
        room, client = room_name(meeting), self.client()
        present = client.get_participant(room, invitation.peer_id)
        if present is None:
            return
        if tokens.was_moderating(present.metadata) and not invitation.is_moderating:
            client.remove_participant(room, invitation.peer_id)
        else:
            self.update_permissions(meeting=meeting, invitation=invitation)

    def update_permissions(self, *, meeting, invitation) -> bool:
        """Give a person in the room their (new) role's rights now; False when they are not there.
        The metadata names the role, for the moderators' pages and the next role change."""
        return self.client().update_participant(room_name(meeting), invitation.peer_id,
                                                tokens.permission_for(meeting, invitation),
                                                metadata=tokens.metadata_for(invitation))

    def meeting_for_room(self, name: str):
        uid = meeting_uid_of(name)
        return Meeting.objects.of(self.account.organization).filter(ical_uid=uid).first() if uid else None

    # --- callbacks and reports -------------------------------------------------------------------
    def parse_event(self, request):
        return webhooks.parse_event(self, request)

    def apply_events(self) -> int:
        from . import events  # it reads services that read the provider registry

        return events.apply_pending(self)

    def fetch_recordings(self, *, meeting) -> list[ProviderRecording]:
        """What LiveKit's egress_ended webhooks said about this meeting's room: LiveKit keeps no list
        of finished egresses to read back (ListEgress shows only recent ones, and not the file)."""
        found = {}
        events = ProviderEvent.objects.filter(account=self.account, kind=webhooks.RECORDING,
                                              room_id=room_name(meeting)).order_by("pk")
        for event in events:
            recording = webhooks.recording_of(event.payload)
            if recording is not None:
                found[recording.provider_id] = recording
        return list(found.values())

    def fetch_sitting(self, *, meeting, start, end) -> SittingReport:
        """The sitting's summary from the join and leave webhooks already kept as attendance (LiveKit
        has no REST history of past sessions); the stays themselves are already there, so none
        are returned again."""
        stays = Presence.objects.filter(meeting=meeting, source=Presence.Source.EVENTS, joined_at__gte=start,
                                        joined_at__lte=end)
        first = stays.order_by("joined_at").first()
        closed = [s for s in stays if s.left_at]
        last = max((s.left_at for s in closed), default=None)
        active = int((last - first.joined_at).total_seconds()) if first and last and last > first.joined_at else 0
        return SittingReport(participants=stays.values("peer_id").distinct().count(), active_seconds=active,
                             first_join=first.joined_at if first else None, last_leave=last, stays=[])

    def check_connection(self) -> list[Check]:
        name = (_("RoomService of %(server)s") % {"server": http_url(self.account.server_url)}
                if self.account.server_url else _("RoomService of your server"))
        try:
            rooms = self.client().list_rooms()
        except ProviderError as error:
            return [Check(name, False, str(error))]
        checks = [Check(name, True, _("The API key and secret were accepted (open rooms: %(count)d).") % {
            "count": len(rooms)})]
        try:
            tokens.verify_roundtrip(self.account)
        except (LiveKitError, ValueError) as error:
            checks.append(Check(_("Access tokens"), False, str(error)))
        else:
            checks.append(Check(_("Access tokens"), True, _("A join token was signed and verified with the secret.")))
        return checks
