"""Telling open room pages what happened: a message to a whole room, to one join session, or to the
pages of one invitation. Services call these after their transaction commits."""

import json
from functools import cache

import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels_redis.pubsub import RedisPubSubChannelLayer
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction


def room_group(occurrence_id: int) -> str:
    return f"room.{occurrence_id}"


def session_group(session_id: int) -> str:
    return f"session.{session_id}"


def invitation_group(invitation_id: int) -> str:
    return f"invitation.{invitation_id}"


def event(payload: dict) -> dict:
    """The channel-layer message that hands `payload` to each socket's room_event, with its JSON made
    once here rather than by each of the room's sockets."""
    return {"type": "room.event", "payload": payload, "json": json.dumps(payload, cls=DjangoJSONEncoder)}


def send(group: str, payload: dict) -> None:
    """From sync code (views, tasks, the consumer's database work)."""
    layer = get_channel_layer()
    if isinstance(layer, RedisPubSubChannelLayer):
        # One PUBLISH on a pooled connection, rather than async_to_sync building an event loop, a
        # Redis connection and a layer for every message sent from a thread without a loop.
        _publisher().publish(_group_channel(group), layer.serialize(event(payload)))
    elif layer is not None:
        async_to_sync(layer.group_send)(group, event(payload))


def on_commit(work) -> None:
    # robust: the change is committed; a channel layer that is down must not turn it into an error
    # (pages that miss the message catch up when their socket reconnects).
    transaction.on_commit(work, robust=True)


def send_after_commit(group: str, payload: dict) -> None:
    on_commit(lambda: send(group, payload))


def _group_channel(group: str) -> str:
    # The Redis channel RedisPubSubChannelLayer's group_add subscribes to (its _get_group_channel_name).
    return f"{settings.CHANNEL_LAYERS['default']['CONFIG'].get('prefix', 'asgi')}__group__{group}"


@cache
def _publisher() -> redis.Redis:
    (host,) = settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"]
    options = dict(host)
    return redis.Redis.from_url(options.pop("address"), **options)
