"""Telling open room pages what happened: a message to a whole room, to one join session, or to the
pages of one invitation. Services call these after their transaction commits."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction


def room_group(occurrence_id: int) -> str:
    return f"room.{occurrence_id}"


def moderators_group(occurrence_id: int) -> str:
    return f"moderators.{occurrence_id}"


def session_group(session_id: int) -> str:
    return f"session.{session_id}"


def invitation_group(invitation_id: int) -> str:
    return f"invitation.{invitation_id}"


def send(group: str, payload: dict) -> None:
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(group, {"type": "room.event", "payload": payload})


def send_after_commit(group: str, payload: dict) -> None:
    # robust: the change is committed; a channel layer that is down must not turn it into an error
    # (pages that miss the message catch up through their state polling or on reconnect).
    transaction.on_commit(lambda: send(group, payload), robust=True)


def refresh_room(occurrence_id: int) -> None:
    """Ask every page of the room to fetch a fresh snapshot of who is there."""
    send_after_commit(room_group(occurrence_id), {"type": "refresh"})
