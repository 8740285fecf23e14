"""The built-in provider's room socket: signalling between peers, presence, chat, hands and moderation.

A socket is let in only with the secret cookie of a live join session for the link in its URL. The
server decides everything that matters: who is admitted, who may publish (viewers' offers are
dropped, and so are their answers that would send media), and who may moderate. Live state sits on
JoinSession rows so several web processes, joined through the channel layer, agree on the room.
"""

import json

from asgiref.sync import async_to_sync
from channels.generic.websocket import JsonWebsocketConsumer
from django.core.exceptions import ValidationError
from django.utils import timezone

from . import realtime
from .ice import ice_servers_for
from .models import WATCHER_ROLES, Invitation, JoinSession, Kind, Role
from .services import joining, moderation, scheduling
from .services.invitations import invitation_change_role, invitation_readmit
from .services.joining import JoinDenied

MAX_SIGNAL_BYTES = 64 * 1024
MAX_CHAT_CHARS = 2000
ENDED_TEXT = {
    "replaced": ("You joined from somewhere else", "This link was used to join from another tab or device."),
    "removed": ("You were removed from this meeting", "A moderator removed you, or the host withdrew your link."),
    "denied": ("You were not let in", "A moderator did not let you in from the waiting room."),
    "ended": ("The meeting has ended", "The host ended the meeting for everyone."),
    "left": ("You left the meeting", "You can join again while the meeting is on."),
}


def can_publish(invitation: Invitation, kind: str) -> bool:
    return not (kind == Kind.WEBINAR and invitation.role in WATCHER_ROLES)




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


def _peer(session: JoinSession, kind: str) -> dict:
    invitation = session.invitation
    return {"peer": session.code, "name": invitation.display_name, "role": invitation.get_role_display(),
            "role_key": invitation.role,
            "moderator": invitation.is_moderating, "can_publish": can_publish(invitation, kind),
            "audio": session.audio_on, "video": session.video_on, "screen": session.screen_on,
            "hand": session.hand_raised, "connected": session.connected}


class RoomConsumer(JsonWebsocketConsumer):
    session_id = None

    # --- connection ------------------------------------------------------------------------------
    def connect(self):
        try:
            link = joining.find_link(self.scope["url_route"]["kwargs"]["token"])
        except JoinDenied:
            self.close(code=4404)
            return
        session = joining.session_for_secret(self.scope.get("cookies", {}).get(f"join_{link.code}", ""))
        if session is None or not joining.session_belongs_to(session, link):
            self.close(code=4401)
            return
        # Listen first, then look again: an end, takeover or admission in between is not missed.
        self._join(realtime.session_group(session.pk), realtime.invitation_group(session.invitation_id))
        session.refresh_from_db(fields=["ended_at", "end_reason", "admitted"])
        self.accept()
        if session.ended_at:
            self._send_ended(session.end_reason)
            return
        meeting = session.occurrence.meeting
        self.session_id, self.session_code = session.pk, session.code
        self.occurrence_id, self.invitation_id = session.occurrence_id, session.invitation_id
        self.meeting_id, self.kind = meeting.pk, meeting.kind
        self.chat_enabled, self.raise_hand = meeting.chat_enabled, meeting.raise_hand
        self.moderator = session.invitation.is_moderating
        self.publisher = can_publish(session.invitation, meeting.kind)
        if session.admitted:
            self._join(realtime.room_group(self.occurrence_id))
        joining.socket_seen(self.session_id)
        self.send_json({
            "type": "welcome", "admitted": session.admitted,
            "me": {"peer": session.code, "name": session.invitation.display_name,
                   "role": session.invitation.get_role_display(), "moderator": self.moderator,
                   "can_publish": self.publisher},
            "room": {"chat": meeting.chat_enabled, "raise_hand": meeting.raise_hand,
                     "recording": meeting.recording_allowed and self.moderator, "kind": meeting.kind,
                     "roles": [[value, str(label)] for value, label in Role.choices
                               if value in moderation.roles_given_in_room(meeting.kind)]},
            "ice_servers": ice_servers_for(session.code),
        })
        realtime.send(realtime.room_group(self.occurrence_id), {"type": "refresh"})
        self._send_snapshot()

    def disconnect(self, code):
        for group in getattr(self, "joined_groups", []):
            async_to_sync(self.channel_layer.group_discard)(group, self.channel_name)
        if self.session_id is None:
            return
        JoinSession.objects.filter(pk=self.session_id, ended_at__isnull=True).update(
            connected=False, disconnected_at=timezone.now())
        realtime.send(realtime.room_group(self.occurrence_id), {"type": "refresh"})

    def _join(self, *groups):
        self.joined_groups = getattr(self, "joined_groups", [])
        for group in groups:
            async_to_sync(self.channel_layer.group_add)(group, self.channel_name)
            self.joined_groups.append(group)

    def _send_ended(self, reason: str):
        title, message = ENDED_TEXT.get(reason, ENDED_TEXT["left"])
        self.send_json({"type": "ended", "reason": reason, "title": title, "message": message})
        self.close()

    def _send_snapshot(self):
        live = list(JoinSession.objects.filter(occurrence_id=self.occurrence_id, ended_at__isnull=True)
                    .select_related("invitation").order_by("started_at"))
        snapshot = {"type": "presence", "peers": [_peer(s, self.kind) for s in live if s.admitted]}
        if self.moderator:
            snapshot["waiting"] = [{"peer": s.code, "name": s.invitation.display_name} for s in live if not s.admitted]
            snapshot["removed"] = [{"invitation": i.code, "name": i.display_name} for i in Invitation.objects.filter(
                meeting_id=self.meeting_id, removed_at__isnull=False)]
        self.send_json(snapshot)

    # --- messages from the channel layer ---------------------------------------------------------
    def room_event(self, event):
        payload = event["payload"]
        kind = payload["type"]
        if kind == "refresh":
            self._send_snapshot()
        elif kind == "ended":
            if payload.get("session") in (None, self.session_id):
                self._send_ended(payload["reason"])
        elif kind == "replaced":
            if payload["keep"] != self.session_id:
                self._send_ended("replaced")
        elif kind == "admitted":
            self._join(realtime.room_group(self.occurrence_id))
            self.send_json(payload)
            self._send_snapshot()
        else:
            self.send_json(payload)

    # --- messages from the page ------------------------------------------------------------------
    def receive_json(self, content, **kwargs):
        if self.session_id is None or not isinstance(content, dict):
            return
        session = JoinSession.objects.select_related("invitation").filter(pk=self.session_id).first()
        if session is None or session.ended_at:
            self._send_ended(session.end_reason if session else "left")
            return
        handler = {"signal": self.on_signal, "chat": self.on_chat, "hand": self.on_hand, "media": self.on_media,
                   "moderate": self.on_moderate, "ping": self.on_ping}.get(content.get("type"))
        if handler:
            handler(session, content)

    def on_ping(self, session, content):
        joining.socket_seen(session.pk)
        if not session.connected:  # beat took this silent socket for dropped; the room sees it back
            realtime.send(realtime.room_group(self.occurrence_id), {"type": "refresh"})
        self.send_json({"type": "pong"})

    def on_signal(self, session, content):
        data = content.get("data")
        if not session.admitted or not isinstance(data, dict) or len(json.dumps(data)) > MAX_SIGNAL_BYTES:
            return
        description = data.get("description")
        if description is not None and not isinstance(description, dict):
            return
        if not self.publisher and description and not receives_only(description):
            return  # a viewer never sends media
        target = JoinSession.objects.filter(code=str(content.get("to", "")), occurrence_id=self.occurrence_id,
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
            JoinSession.objects.filter(pk=session.pk).update(hand_raised=bool(content.get("raised")))
            realtime.send(realtime.room_group(self.occurrence_id), {"type": "refresh"})

    def on_media(self, session, content):
        publish = self.publisher
        JoinSession.objects.filter(pk=session.pk).update(
            audio_on=publish and bool(content.get("audio")), video_on=publish and bool(content.get("video")),
            screen_on=publish and bool(content.get("screen")))
        realtime.send(realtime.room_group(self.occurrence_id), {"type": "refresh"})

    # --- moderation --------------------------------------------------------------------------------
    def on_moderate(self, session, content):
        if not session.invitation.is_moderating:
            self.send_json({"type": "error", "message": "Only moderators can do that."})
            return
        action, peer = content.get("action"), str(content.get("peer", ""))
        if action == "end":
            scheduling.occurrence_end(occurrence=session.occurrence)
            return
        if action == "readmit":
            removed = Invitation.objects.filter(meeting_id=self.meeting_id, code=peer).first()
            if removed is not None:
                invitation_readmit(invitation=removed)
        elif action == "mute_all":
            others = JoinSession.objects.filter(occurrence_id=self.occurrence_id, ended_at__isnull=True).exclude(
                pk=session.pk)
            for other in others:
                realtime.send(realtime.session_group(other.pk), {"type": "force", "what": "mute"})
            others.update(audio_on=False)
        else:
            target = JoinSession.objects.select_related("invitation").filter(
                code=peer, occurrence_id=self.occurrence_id, ended_at__isnull=True).first()
            if target is None:
                return
            if action == "set_role":
                refusal = self._role_change_refusal(session, target, str(content.get("role", "")))
                if refusal:
                    self.send_json({"type": "error", "message": refusal})
                    return
            if target.pk == session.pk:
                return
            if action in ("remove", "deny") and (refusal := moderation.removal_refusal(session.invitation,
                                                                                    target.invitation)):
                self.send_json({"type": "error", "message": refusal})
                return
            self._moderate_one(action, target, content)
        realtime.send(realtime.room_group(self.occurrence_id), {"type": "refresh"})

    def _role_change_refusal(self, session: JoinSession, target: JoinSession, role: str) -> str:
        return moderation.role_change_refusal(session.invitation, target.invitation, role, self.kind)

    def _moderate_one(self, action: str, target: JoinSession, content: dict):
        group = realtime.session_group(target.pk)
        if action == "admit":
            JoinSession.objects.filter(pk=target.pk).update(admitted=True)
            realtime.send(group, {"type": "admitted"})
        elif action == "deny":
            joining.end_session(target, JoinSession.EndReason.DENIED)
        elif action == "remove":
            joining.remove_from_room(target)
        elif action == "set_role":
            try:
                invitation_change_role(invitation=target.invitation, role=str(content.get("role", "")),
                                       language=str(content.get("language", "")))
            except ValidationError as error:
                self.send_json({"type": "error", "message": " ".join(error.messages)})
                return
            realtime.send(group, {"type": "force", "what": "reload"})  # the page picks up its new rights
        elif action in ("mute", "camera_off", "lower_hand"):
            field = {"mute": "audio_on", "camera_off": "video_on", "lower_hand": "hand_raised"}[action]
            JoinSession.objects.filter(pk=target.pk).update(**{field: False})
            realtime.send(group, {"type": "force", "what": action})
