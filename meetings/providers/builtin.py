"""The built-in provider: peer-to-peer rooms served by the portal itself, the embedded default."""

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .base import Capabilities, JoinTicket, Provider


class BuiltinProvider(Provider):
    key = "builtin"
    name = _("Built-in (peer-to-peer)")
    # Every broadcaster sends to every other (full mesh), and webinar viewers receive straight from the
    # speakers, so both numbers stay small.
    capabilities = Capabilities(webinar=True, waiting_room=True, recording=True, remove_participant=True,
                                max_broadcasters=8, max_watchers=20)
    settings_fields = ("waiting_room", "raise_hand", "chat_enabled", "recording_allowed")

    def join(self, *, meeting, occurrence, invitation, session) -> JoinTicket:
        return JoinTicket(
            kind="sdk", sdk="builtin", expires_at=timezone.now() + timedelta(minutes=10),
            options={"chat": meeting.chat_enabled, "raise_hand": meeting.raise_hand,
                     "can_publish": not invitation.is_watcher, "moderator": invitation.is_moderating},
        )
