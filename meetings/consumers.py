"""The built-in provider's room socket: signalling between peers, presence, chat, hands and moderation.

A socket is let in only with the secret cookie of a live join session for the link in its URL. The
server decides everything that matters: who is admitted, who may publish (viewers' offers are
dropped, and so are their answers that would send media), and who may moderate. Live state sits on
JoinSession rows so several web processes, joined through the channel layer, agree on the room.

The consumer is asynchronous so that what the room is told (a chat line, someone's change, see
presence.py) is forwarded to each socket without a thread hop or a query; reading and changing the
database happens in the `_…` methods run by database_sync_to_async.
"""

import json
import re

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.core.exceptions import ValidationError
from django.utils import timezone

from . import presence, realtime
from .ice import ice_servers_for
from .models import Invitation, JoinSession, Role
from .presence import MODERATORS_ONLY, can_publish
from .services import joining, moderation, scheduling
from .services.invitations import invitation_change_role, invitation_readmit
from .services.joining import JoinDenied

MAX_SIGNAL_BYTES = 64 * 1024
MAX_CHAT_CHARS = 2000
CODE = re.compile(r"[A-Za-z0-9_-]{1,64}")  # a join session's or invitation's code, as pages send them


def _code(value) -> str:
    """A code from the page, or "" for anything else (a NUL byte would reach the database)."""
    return value if isinstance(value, str) and CODE.fullmatch(value) else ""
ENDED_TEXT = {
    "replaced": ("You joined from somewhere else", "This link was used to join from another tab or device."),
    "removed": ("You were removed from this meeting", "A moderator removed you, or the host withdrew your link."),
    "denied": ("You were not let in", "A moderator did not let you in from the waiting room."),
    "ended": ("The meeting has ended", "The host ended the meeting for everyone."),
    "left": ("You left the meeting", "You can join again while the meeting is on."),
}


RECEIVING = {"a=recvonly", "a=inactive"}
DIRECTIONS = {"a=sendrecv", "a=sendonly", *RECEIVING}


def _directions(block: str) -> set[str]:
    return {line.strip().lower() for line in block.split("\n")} & DIRECTIONS


def receives_only(description: dict) -> bool:
    """An SDP answer that only receives: the session-level direction and every media section's
    (RFC 3264: a section without one takes the session's, and without that sends and receives)."""
    if description.get("type") != "answer":
        return False
    session, *sections = str(description.get("sdp", "")).replace("\r\n", "\n").split("\nm=")
    session_directions = _directions(session)
    if session_directions - RECEIVING:
        return False
    return all(not ((_directions(section) or session_directions or {"a=sendrecv"}) - RECEIVING)
               for section in sections)


class RoomConsumer(AsyncJsonWebsocketConsumer):
    session_id = None
    moderator = False

    # --- connection ------------------------------------------------------------------------------
    async def connect(self):
        self.joined_groups = []
        session, refusal = await database_sync_to_async(self._find_session)()
        if refusal:
            await self.close(code=refusal)
            return
        # Listen first, then look again: an end, takeover or admission in between is not missed.
        await self._join(realtime.session_group(session.pk), realtime.invitation_group(session.invitation_id))
        arrival = await database_sync_to_async(self._arrive)(session)
        await self.accept()
        if session.ended_at:
            await self._send_ended(session.end_reason)
            return
        if session.admitted:
            await self._join(realtime.room_group(self.occurrence_id))
        await self.send_json(arrival["welcome"])
        await self._tell_room(arrival["changes"])
        # Read after joining the room's group: a change in between is in the snapshot or comes after it.
        await self.send_json(await database_sync_to_async(self._snapshot)())

    def _find_session(self) -> tuple[JoinSession | None, int]:
        try:
            link = joining.find_link(self.scope["url_route"]["kwargs"]["token"])
        except JoinDenied:
            return None, 4404
        session = joining.session_for_secret(self.scope.get("cookies", {}).get(f"join_{link.code}", ""))
        if session is None or not joining.session_belongs_to(session, link):
            return None, 4401
        return session, 0

    def _arrive(self, session: JoinSession) -> dict:
        session.refresh_from_db(fields=["ended_at", "end_reason", "admitted"])
        if session.ended_at:
            return {}
        meeting = session.occurrence.meeting
        self.session_id, self.session_code = session.pk, session.code
        self.occurrence_id, self.invitation_id = session.occurrence_id, session.invitation_id
        self.meeting_id, self.kind = meeting.pk, meeting.kind
        self.chat_enabled, self.raise_hand = meeting.chat_enabled, meeting.raise_hand
        self.moderator = session.invitation.is_moderating
        self.publisher = can_publish(session.invitation, meeting.kind)
        joining.socket_seen(self.session_id)
        session.connected = True
        # The stays this person's earlier joins left behind (taken over by this one) leave every page.
        replaced = JoinSession.objects.filter(
            invitation_id=self.invitation_id, occurrence_id=self.occurrence_id,
            end_reason=JoinSession.EndReason.REPLACED).order_by("-ended_at")[:5]
        welcome = {
            "type": "welcome", "admitted": session.admitted,
            "me": {"peer": session.code, "name": session.invitation.display_name,
                   "role": session.invitation.get_role_display(), "moderator": self.moderator,
                   "can_publish": self.publisher},
            "room": {"chat": meeting.chat_enabled, "raise_hand": meeting.raise_hand,
                     "recording": meeting.recording_allowed and self.moderator, "kind": meeting.kind,
                     "roles": [[value, str(label)] for value, label in Role.choices
                               if value in moderation.roles_given_in_room(meeting.kind)]},
            "ice_servers": ice_servers_for(session.code),
        }
        return {"welcome": welcome, "changes": presence.changes([session, *replaced], self.kind)}

    def _snapshot(self) -> dict:
        return presence.snapshot(self.occurrence_id, meeting_id=self.meeting_id, kind=self.kind,
                                 moderator=self.moderator)

    async def disconnect(self, code):
        for group in self.joined_groups:
            await self.channel_layer.group_discard(group, self.channel_name)
        if self.session_id is not None:
            await self._tell_room(await database_sync_to_async(self._leave)())

    def _leave(self) -> list[dict]:
        JoinSession.objects.filter(pk=self.session_id, ended_at__isnull=True).update(
            connected=False, disconnected_at=timezone.now())
        session = JoinSession.objects.select_related("invitation").filter(pk=self.session_id).first()
        return presence.changes([session], self.kind) if session else []

    async def _join(self, *groups):
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
            self.joined_groups.append(group)

    async def _tell_room(self, messages: list[dict]):
        for message in messages:
            await self.channel_layer.group_send(realtime.room_group(self.occurrence_id), realtime.event(message))

    async def _send_ended(self, reason: str):
        title, message = ENDED_TEXT.get(reason, ENDED_TEXT["left"])
        await self.send_json({"type": "ended", "reason": reason, "title": title, "message": message})
        await self.close()

    # --- messages from the channel layer ---------------------------------------------------------
    async def dispatch(self, message):
        # Channels runs close_old_connections in a thread before every message. What the room is told
        # needs no database (and database work closes old connections itself, database_sync_to_async):
        # without that hop, forwarding a message to 500 sockets costs half as much.
        if message["type"] == "room.event":
            await self.room_event(message)
        else:
            await super().dispatch(message)

    async def room_event(self, event):
        payload = event["payload"]
        kind = payload["type"]
        if kind in MODERATORS_ONLY:
            if self.moderator:
                await self.send(text_data=event["json"])
        elif kind == "ended":
            if payload.get("session") in (None, self.session_id):
                await self._send_ended(payload["reason"])
        elif kind == "replaced":
            if payload["keep"] != self.session_id:
                await self._send_ended("replaced")
        elif kind == "rights":
            await database_sync_to_async(self._take_rights)()
            await self.send_json({"type": "force", "what": "reload"})  # the page picks up its new rights
        elif kind == "admitted":
            await self._join(realtime.room_group(self.occurrence_id))
            await self.send_json(payload)
            await self.send_json(await database_sync_to_async(self._snapshot)())
        else:
            await self.send(text_data=event["json"])

    def _take_rights(self):
        invitation = Invitation.objects.filter(pk=self.invitation_id).first()
        self.moderator = bool(invitation and invitation.is_moderating)
        self.publisher = bool(invitation and can_publish(invitation, self.kind))

    # --- messages from the page ------------------------------------------------------------------
    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        try:
            content = json.loads(text_data) if text_data is not None else None
        except ValueError:
            return  # not JSON: a page of ours never sends that
        await self.receive_json(content)

    async def receive_json(self, content, **kwargs):
        if self.session_id is None or not isinstance(content, dict):
            return
        handler = {"signal": self.on_signal, "chat": self.on_chat, "hand": self.on_hand, "media": self.on_media,
                   "moderate": self.on_moderate, "ping": self.on_ping}.get(content.get("type"))
        if handler:
            await database_sync_to_async(self._handle)(handler, content)

    def _handle(self, handler, content: dict):
        session = JoinSession.objects.select_related("invitation").filter(pk=self.session_id).first()
        if session is None or session.ended_at:
            async_to_sync(self._send_ended)(session.end_reason if session else "left")
            return
        handler(session, content)

    def _reply(self, message: dict):
        """From a handler (which runs in a thread): a message to this socket's page."""
        async_to_sync(self.send_json)(message)

    def _announce(self, session: JoinSession):
        """From a handler: the room learns how this stay stands now."""
        for message in presence.changes([session], self.kind):
            realtime.send(realtime.room_group(self.occurrence_id), message)

    def on_ping(self, session, content):
        joining.socket_seen(session.pk)
        if not session.connected:  # beat took this silent socket for dropped; the room sees it back
            session.connected = True
            self._announce(session)
        self._reply({"type": "pong"})

    def on_signal(self, session, content):
        data = content.get("data")
        if not session.admitted or not isinstance(data, dict) or len(json.dumps(data)) > MAX_SIGNAL_BYTES:
            return
        description = data.get("description")
        if description is not None and not isinstance(description, dict):
            return
        if not self.publisher and description and not receives_only(description):
            return  # a viewer never sends media
        target = JoinSession.objects.filter(code=_code(content.get("to")), occurrence_id=self.occurrence_id,
                                            ended_at__isnull=True, admitted=True).first()
        if target is not None and target.pk != session.pk:
            realtime.send(realtime.session_group(target.pk), {"type": "signal", "from": session.code, "data": data})

    def on_chat(self, session, content):
        text = str(content.get("text", "")).strip()[:MAX_CHAT_CHARS]
        if not self.chat_enabled or not session.admitted or not text:
            return
        realtime.send(realtime.room_group(self.occurrence_id), {
            "type": "chat", "from": session.code, "name": session.invitation.display_name, "text": text,
            "at": timezone.now().isoformat()})

    def on_hand(self, session, content):
        if self.raise_hand and session.admitted:
            session.hand_raised = bool(content.get("raised"))
            JoinSession.objects.filter(pk=session.pk).update(hand_raised=session.hand_raised)
            self._announce(session)

    def on_media(self, session, content):
        publish = self.publisher
        session.audio_on = publish and bool(content.get("audio"))
        session.video_on = publish and bool(content.get("video"))
        session.screen_on = publish and bool(content.get("screen"))
        JoinSession.objects.filter(pk=session.pk).update(
            audio_on=session.audio_on, video_on=session.video_on, screen_on=session.screen_on)
        self._announce(session)

    # --- moderation --------------------------------------------------------------------------------
    def on_moderate(self, session, content):
        if not session.invitation.is_moderating:
            self._reply({"type": "error", "message": "Only moderators can do that."})
            return
        action, peer = content.get("action"), _code(content.get("peer"))
        if action == "end":
            scheduling.occurrence_end(occurrence=session.occurrence)
        elif action == "readmit":
            removed = Invitation.objects.filter(meeting_id=self.meeting_id, code=peer).first()
            if removed is not None:
                invitation_readmit(invitation=removed)
        elif action == "mute_all":
            others = JoinSession.objects.filter(occurrence_id=self.occurrence_id, ended_at__isnull=True).exclude(
                pk=session.pk)
            muted = list(others.values_list("pk", flat=True))
            for other in muted:
                realtime.send(realtime.session_group(other), {"type": "force", "what": "mute"})
            others.update(audio_on=False)
            presence.announce(muted)  # one message for everyone muted
        else:
            target = JoinSession.objects.select_related("invitation").filter(
                code=peer, occurrence_id=self.occurrence_id, ended_at__isnull=True).first()
            if target is None:
                return
            if action == "set_role":
                refusal = self._role_change_refusal(session, target, str(content.get("role", "")))
                if refusal:
                    self._reply({"type": "error", "message": refusal})
                    return
            if target.pk == session.pk:
                return
            if action in ("remove", "deny") and (refusal := moderation.removal_refusal(session.invitation,
                                                                                    target.invitation)):
                self._reply({"type": "error", "message": refusal})
                return
            self._moderate_one(action, target, content)

    def _role_change_refusal(self, session: JoinSession, target: JoinSession, role: str) -> str:
        return moderation.role_change_refusal(session.invitation, target.invitation, role, self.kind)

    def _moderate_one(self, action: str, target: JoinSession, content: dict):
        group = realtime.session_group(target.pk)
        if action == "admit":
            JoinSession.objects.filter(pk=target.pk).update(admitted=True)
            realtime.send(group, {"type": "admitted"})
            presence.announce([target.pk])
        elif action == "deny":
            joining.end_session(target, JoinSession.EndReason.DENIED)
        elif action == "remove":
            joining.remove_from_room(target)
        elif action == "set_role":
            try:
                invitation_change_role(invitation=target.invitation, role=str(content.get("role", "")),
                                       language=str(content.get("language", "")))
            except ValidationError as error:
                self._reply({"type": "error", "message": " ".join(error.messages)})
                return
            presence.announce([target.pk])  # the service told the target's sockets (rights, reload)
        elif action in ("mute", "camera_off", "lower_hand"):
            field = {"mute": "audio_on", "camera_off": "video_on", "lower_hand": "hand_raised"}[action]
            JoinSession.objects.filter(pk=target.pk).update(**{field: False})
            realtime.send(group, {"type": "force", "what": action})
            presence.announce([target.pk])
