"""SignalWire Video behind the provider interface.

A meeting has one SignalWire room, named after the meeting's stable id and created on the first join
(ProviderRoom's unique key and a lock on the meeting row settle concurrent first joins; SignalWire's
own unique room names settle the rest). Each join gets its own token, as narrow as the person's role:

- video mode: a room token (POST /api/video/room_tokens) with the role's permissions, `join_as:
  audience` for webinar viewers, bounded by the invitation's window with join_until and remove_at
  (room tokens never expire on their own), and `meta` naming the invitation's peer id;
- fabric mode: a Fabric subscriber token for organization members (reference = their email) and a
  guest token limited to the room's address for everyone else.

The room page can also hold a Relay JWT (resource = the peer id), which the portal refreshes with
its refresh token; refresh tokens never leave the server (SessionToken, encrypted).
SignalWire sends no video webhooks: attendance and recordings come from polling (sync.py).
"""

import re
import uuid
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ...models import Kind, Meeting, ProviderRoom, Role, SessionToken
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
from . import reports
from .api import SignalWireClient, SignalWireError
from .tokens import channel_host

ROOM_NAME = re.compile(r"^portal-([0-9a-f]{32})$")
MAX_MEMBERS = 300  # SignalWire's ceiling for max_members
RELAY_MINUTES = 15  # the Relay JWT's life; the room page asks for a fresh one before it ends

SELF = ["room.self.audio_mute", "room.self.audio_unmute", "room.self.video_mute", "room.self.video_unmute",
        "room.self.deaf", "room.self.undeaf", "room.self.set_input_volume", "room.self.set_output_volume",
        "room.self.set_input_sensitivity"]
SELF_AUDIO = ["room.self.audio_mute", "room.self.audio_unmute", "room.self.deaf", "room.self.undeaf",
              "room.self.set_input_volume", "room.self.set_output_volume", "room.self.set_input_sensitivity"]
MODERATION = ["room.member.audio_mute", "room.member.audio_unmute", "room.member.video_mute",
              "room.member.video_unmute", "room.member.remove", "room.list_available_layouts", "room.set_layout",
              "room.lock", "room.unlock"]


def room_name(meeting) -> str:
    return f"portal-{meeting.ical_uid.split('@')[0].replace('-', '')}"


def meeting_uid_of(name: str) -> str | None:
    match = ROOM_NAME.match(name)
    return f"{uuid.UUID(match.group(1))}@meeting-portal" if match else None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def stay_ends(invitation, occurrence) -> datetime:
    """When this person's right to be in the room ends: the sitting's end plus grace, or the
    invitation's own end when that comes first."""
    end = occurrence.end + timedelta(minutes=settings.JOIN_GRACE_MINUTES_AFTER)
    return min(end, invitation.valid_until) if invitation.valid_until else end


def permissions_for(meeting, invitation) -> list[str]:
    if meeting.kind == Kind.WEBINAR and invitation.is_watcher:
        return []  # join_as audience: SignalWire grants an audience member nothing anyway
    if invitation.role == Role.INTERPRETER:
        return list(SELF_AUDIO)
    if not invitation.is_moderating:
        return list(SELF)
    granted = SELF + MODERATION
    if meeting.raise_hand:
        granted.append("room.member.lowerhand")
    if meeting.recording_allowed:
        granted.append("room.recording")
    if meeting.kind == Kind.WEBINAR:
        granted += ["room.member.promote", "room.member.demote"]
    return granted


def room_settings(meeting) -> dict:
    """The room as this meeting wants it (compared with what was last sent, to update on change)."""
    broadcasters = meeting.max_broadcasters or MAX_MEMBERS
    watchers = (meeting.max_watchers or MAX_MEMBERS) if meeting.kind == Kind.WEBINAR else 0
    sittings = meeting.occurrences.exclude(status="cancelled").order_by("start")
    first, last = sittings.first(), sittings.last()
    body = {"display_name": meeting.title[:100], "max_members": max(1, min(MAX_MEMBERS, broadcasters + watchers)),
            "quality": "720p", "layout": "grid-responsive", "record_on_start": False,
            "meta": {"portal_meeting": meeting.code}}
    if first is not None and not meeting.rrule:
        body["join_from"] = _iso(first.start - timedelta(minutes=settings.JOIN_OPENS_MINUTES_BEFORE))
        body["join_until"] = _iso(last.end + timedelta(minutes=settings.JOIN_GRACE_MINUTES_AFTER))
    return body


class SignalWireProvider(Provider):
    key = "signalwire"
    name = "SignalWire Video"
    capabilities = Capabilities(webinar=True, recording=True, statistics=True,
                                max_broadcasters=MAX_MEMBERS, max_watchers=MAX_MEMBERS)
    settings_fields = ("raise_hand", "recording_allowed")
    account_fields = ("space_host", "project_id", "join_mode")
    secret_fields = ("api_token",)
    join_modes = ("video", "fabric")

    def client(self) -> SignalWireClient:
        return SignalWireClient(self.account)

    def account_problems(self, values: dict) -> dict[str, str]:
        problems = {}
        if not values.get("space_host", "").endswith(".signalwire.com") and not settings.SIGNALWIRE_BASE_URL:
            problems["space_host"] = _("Enter your space's host name, such as example.signalwire.com.")
        try:
            uuid.UUID(values.get("project_id") or "")
        except ValueError:
            problems["project_id"] = _("The project id is the UUID shown on your SignalWire project's page.")
        if not values.get("api_token"):
            problems["api_token"] = _("Create an API token with the Video scope in your space and paste it here.")
        if values.get("join_mode") not in self.join_modes:
            problems["join_mode"] = _("Choose video room tokens or Fabric tokens.")
        return problems

    # --- rooms -----------------------------------------------------------------------------------
    def ensure_room(self, meeting) -> ProviderRoom:
        wanted = room_settings(meeting)
        room = ProviderRoom.objects.filter(account=self.account, meeting=meeting).first()
        if room is not None and room.settings == wanted:
            return room
        with transaction.atomic():
            # Concurrent first joins queue here; the first creates the room, the others find it.
            Meeting.objects.select_for_update().filter(pk=meeting.pk).first()
            room = ProviderRoom.objects.filter(account=self.account, meeting=meeting).first()
            if room is None:
                found = self._find_or_create(room_name(meeting), wanted)
                try:
                    with transaction.atomic():
                        room = ProviderRoom.objects.create(
                            organization_id=meeting.organization_id, account=self.account, meeting=meeting,
                            name=found["name"], provider_room_id=str(found["id"]), settings=wanted)
                except IntegrityError:  # another process without the lock (a migration, a shell)
                    room = ProviderRoom.objects.get(account=self.account, meeting=meeting)
            elif room.settings != wanted:
                self.client().update_room(room.provider_room_id, wanted)
                room.settings = wanted
                room.save(update_fields=["settings"])
        return room

    def _find_or_create(self, name: str, wanted: dict) -> dict:
        client = self.client()
        found = client.get_room(name)
        if found is None:
            try:
                found = client.create_room({"name": name, **wanted})
            except SignalWireError as error:
                if error.status != 422:
                    raise
                found = client.get_room(name)  # created meanwhile by someone else: use it
                if found is None:
                    raise
        if not found.get("id") or found.get("name") != name:
            raise ProviderError(f"SignalWire answered an unexpected room for {name!r}")
        return found

    # --- joining ---------------------------------------------------------------------------------
    def join(self, *, meeting, occurrence, invitation, session) -> JoinTicket:
        room = self.ensure_room(meeting)
        ends = stay_ends(invitation, occurrence)
        audience = meeting.kind == Kind.WEBINAR and invitation.is_watcher
        # A Fabric token cannot say "audience": webinar viewers always get an audience room token.
        if self.account.join_mode == "fabric" and not audience:
            token, expires = self._fabric_token(room=room, invitation=invitation, session=session, ends=ends)
            options = {"mode": "fabric", "address": f"/public/{room.name}"}
        else:
            token, expires = self._room_token(meeting=meeting, room=room, invitation=invitation, ends=ends), ends
            options = {"mode": "video"}
        options.update(moderator=invitation.is_moderating, audience=audience, host=channel_host(token))
        return JoinTicket(kind="sdk", sdk="signalwire", token=token, expires_at=expires, options=options)

    def room_token_body(self, *, meeting, room, invitation, ends) -> dict:
        audience = meeting.kind == Kind.WEBINAR and invitation.is_watcher
        return {"room_name": room.name, "user_name": invitation.display_name[:100],
                "permissions": permissions_for(meeting, invitation), "join_as": "audience" if audience else "member",
                "join_until": _iso(ends), "remove_at": _iso(ends),
                "join_video_muted": invitation.role == Role.INTERPRETER,
                "meta": {"peer_id": invitation.peer_id}}

    def _room_token(self, *, meeting, room, invitation, ends) -> str:
        return self.client().room_token(self.room_token_body(meeting=meeting, room=room, invitation=invitation,
                                                             ends=ends))

    def _fabric_token(self, *, room, invitation, session, ends) -> tuple[str, datetime]:
        client = self.client()
        member = invitation.user if invitation.is_moderating and _current_member(invitation) else None
        if member is not None:
            token, refresh = client.subscriber_token(reference=member.email)
            purpose = "fabric-subscriber"
        else:
            address = client.address_id(room.name)
            token, refresh = client.guest_token(allowed_addresses=[address], expire_at=int(ends.timestamp()))
            purpose = "fabric-guest"
        if refresh:
            _keep(session, purpose, refresh, ends)
        return token, ends

    def refresh_client_token(self, *, session) -> ClientToken:
        """Fabric: the subscriber token refreshed (guests get a new guest token); otherwise the
        person's Relay JWT, minted on first use and refreshed with its refresh token."""
        invitation, occurrence = session.invitation, session.occurrence
        ends = stay_ends(invitation, occurrence)
        if timezone.now() >= ends:
            raise ProviderError("This person's time in the meeting is over.", permanent=True)
        client = self.client()
        held = {t.purpose: t for t in session.provider_tokens.all()}
        audience = occurrence.meeting.kind == Kind.WEBINAR and invitation.is_watcher
        if self.account.join_mode == "fabric" and not audience:
            if "fabric-subscriber" in held:
                token, refresh = client.refresh_subscriber_token(held["fabric-subscriber"].refresh_token)
                _keep(session, "fabric-subscriber", refresh, ends)
                return ClientToken(token, ends)
            room = self.ensure_room(occurrence.meeting)
            token, _ = self._fabric_token(room=room, invitation=invitation, session=session, ends=ends)
            return ClientToken(token, ends)
        if not (invitation.is_moderating and _current_member(invitation)):
            # A Relay JWT can place calls (phone numbers included) on the organization's project:
            # only its own members who moderate the meeting get one, never a guest.
            raise ProviderError("Relay tokens are only for moderators who are members of the organization.",
                                permanent=True)
        minutes = max(1, min(RELAY_MINUTES, int((ends - timezone.now()).total_seconds() // 60) or 1))
        if "relay" in held:
            token, refresh = client.refresh_relay_jwt(held["relay"].refresh_token)
        else:
            token, refresh = client.relay_jwt(resource=invitation.peer_id, expires_in_minutes=minutes)
        expires = min(ends, timezone.now() + timedelta(minutes=minutes))
        _keep(session, "relay", refresh, expires)
        return ClientToken(token, expires)

    # --- moderation ------------------------------------------------------------------------------
    def remove_participant(self, *, meeting, invitation) -> bool:
        """SignalWire's REST API cannot hang up one live member. The portal has already ended the
        person's stay, so their page leaves the room and no new token is given; moderators in the
        room can also remove them with the SDK (room.member.remove)."""
        return False

    def end_room(self, *, meeting, occurrence) -> bool:
        """Remove everyone now: the room's remove_at set to this moment (REST has no live hang-up)."""
        room = ProviderRoom.objects.filter(account=self.account, meeting=meeting).first()
        if room is None:
            return False
        now = _iso(timezone.now())
        self.client().update_room(room.provider_room_id, {"remove_at": now})
        room.settings = {**room.settings, "remove_at": now}  # differs from the wanted settings: the
        room.save(update_fields=["settings"])                 # next join (a reopened sitting) clears it
        return True

    def meeting_for_room(self, name: str):
        uid = meeting_uid_of(name)
        return Meeting.objects.of(self.account.organization).filter(ical_uid=uid).first() if uid else None

    # --- reports ---------------------------------------------------------------------------------
    def fetch_recordings(self, *, meeting) -> list[ProviderRecording]:
        return reports.recordings(self.client(), room_name(meeting))

    def fetch_sitting(self, *, meeting, start, end) -> SittingReport:
        peers = {invitation.display_name: invitation.peer_id for invitation in meeting.invitations.all()}
        return reports.sitting(self.client(), room_name(meeting), start, end, peers_by_name=peers)

    def check_connection(self) -> list[Check]:
        name = (_("REST API of %(space)s") % {"space": self.account.space_host} if self.account.space_host
                else _("REST API of your space"))
        try:
            rooms = self.client().list_rooms()
        except ProviderError as error:
            return [Check(name, False, str(error))]
        return [Check(name, True, _("The project id and API token were accepted (listed rooms: %(count)d on the "
                                    "first page).") % {"count": len(rooms)})]


def _current_member(invitation) -> bool:
    """The invitee is a member of the meeting's organization now (not only when invited)."""
    from accounts.models import Membership

    return bool(invitation.user_id and invitation.user.email) and Membership.objects.filter(
        user_id=invitation.user_id, organization_id=invitation.meeting.organization_id).exists()


def _keep(session, purpose: str, refresh_token: str, expires_at: datetime) -> None:
    SessionToken.objects.update_or_create(session=session, purpose=purpose,
                                          defaults={"refresh_token": refresh_token, "expires_at": expires_at})
