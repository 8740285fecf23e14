"""Room sockets on two real server processes joined through Redis (channels-redis).

Each person holds one socket to a different uvicorn process for longer than any Redis read timeout,
pinging as the page does: any close, reconnect or server error fails. And a socket whose process is
killed, so that no disconnect handler runs, still ends its stay at the moment it was last seen.
"""

import asyncio
import copy
import json
import time
from datetime import timedelta

import pytest
from channels.layers import channel_layers
from django.db import connection
from django.utils import timezone
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from meetings.models import JoinSession
from meetings.services import joining

from ..browser.servers import start_servers
from ..factories import InvitationFactory, MeetingFactory
from ..room_roster import Roster

pytestmark = pytest.mark.django_db(transaction=True)

HOLD_SECONDS = 35  # well past the 5 s both redis-py and channels-redis default to
PING_EVERY = 5


@pytest.fixture
def redis_servers(tmp_path, settings):
    """Two server processes on one Redis channel layer, which this process joins too (so what the
    beat task tells the room reaches the servers' sockets)."""
    assert settings.REDIS_URL, "these tests hold a room on Redis: set REDIS_URL"
    servers = start_servers(tmp_path, 2, redis_url=settings.REDIS_URL)
    layers = copy.deepcopy(settings.CHANNEL_LAYERS)
    database = layers["default"]["CONFIG"]["prefix"].rpartition(".db")[2]  # settings add REDIS_URL's database
    layers["default"]["CONFIG"]["prefix"] = f"{servers[0].channels_prefix}.db{database}"
    settings.CHANNEL_LAYERS = layers
    channel_layers.backends.clear()
    yield servers
    channel_layers.backends.clear()
    for server in servers:
        server.stop()


class RoomSocket:
    """One page's room socket, on one server process, with the join session's cookie."""

    def __init__(self, server, invitation):
        link = joining.find_link(invitation.token)
        self.session, secret = joining.join(joining.check(link, timezone.now()), timezone.now())
        self.url = f"ws://127.0.0.1:{server.port}/j/{invitation.token}/ws"
        self.headers = {"Cookie": f"join_{link.code}={secret}", "Origin": server.url}
        self.pongs = 0
        self.roster = Roster()

    async def open(self):
        self.socket = await connect(self.url, additional_headers=self.headers)
        return await self.receive("welcome")

    async def send(self, **message):
        await self.socket.send(json.dumps(message))

    async def receive(self, kind, until=lambda message: True, timeout=10):
        """The next message of this kind that satisfies `until`; other messages are skipped."""
        async with asyncio.timeout(timeout):
            while True:
                message = json.loads(await self.socket.recv())
                self.roster.apply(message)
                if message["type"] == "pong":
                    self.pongs += 1
                if message["type"] == kind and until(message):
                    return message

    async def sees(self, until, timeout=10):
        """The room as this page shows it, once it satisfies `until`."""
        async with asyncio.timeout(timeout):
            while not until(self.roster.view()):
                self.roster.apply(json.loads(await self.socket.recv()))
        return self.roster.view()

    async def hold(self, until: float, ping_every: float = PING_EVERY):
        """Ping and read what the room sends until the deadline; a closed socket raises."""
        while (left := until - time.monotonic()) > 0:
            await self.send(type="ping")
            try:
                await self.receive("never sent", timeout=min(ping_every, left))
            except TimeoutError:
                pass


async def in_thread(function, *args, **kwargs):
    """Database work from inside the scenario's event loop, on a connection of its own."""
    def work():
        try:
            return function(*args, **kwargs)
        finally:
            connection.close()

    return await asyncio.to_thread(work)


def accepted_sockets(server) -> int:
    return sum('"WebSocket /j/' in line and "[accepted]" in line for line in server.log)


def errors(server) -> list[str]:
    return [line for line in server.log if "Traceback" in line or "ERROR" in line or "Exception" in line]


def test_a_room_on_two_processes_holds_its_sockets_without_a_reconnect_or_an_error(redis_servers):
    one, two = redis_servers
    call = MeetingFactory(title="Long call")
    ann = RoomSocket(one, InvitationFactory(meeting=call, display_name="Ann"))
    ben = RoomSocket(two, InvitationFactory(meeting=call, display_name="Ben"))

    async def scenario():
        await ann.open()
        await ben.open()
        await ann.send(type="chat", text="hello Ben")
        assert (await ben.receive("chat"))["text"] == "hello Ben"

        deadline = time.monotonic() + HOLD_SECONDS
        await asyncio.gather(ann.hold(deadline), ben.hold(deadline))

        await ben.send(type="chat", text="still here, Ann")
        assert (await ann.receive("chat"))["text"] == "still here, Ann"
        await ann.socket.close()
        await ben.socket.close()

    started = time.monotonic()
    try:
        asyncio.run(scenario())
    except ConnectionClosed as closed:
        pytest.fail(f"a room socket closed after {time.monotonic() - started:.0f} s ({closed}); the servers logged:\n"
                    + "".join(one.log)[-4000:] + "".join(two.log)[-4000:])

    assert ann.pongs >= HOLD_SECONDS // PING_EVERY and ben.pongs >= HOLD_SECONDS // PING_EVERY
    assert (accepted_sockets(one), accepted_sockets(two)) == (1, 1), "a socket reconnected"
    assert errors(one) + errors(two) == []
    stays = JoinSession.objects.filter(pk__in=[ann.session.pk, ben.session.pk])
    assert all(stay.ended_at is None for stay in stays)


def test_a_stay_whose_server_process_was_killed_ends_when_it_was_last_seen(redis_servers):
    one, two = redis_servers
    call = MeetingFactory(title="Crash call")
    ann = RoomSocket(one, InvitationFactory(meeting=call, display_name="Ann"))
    ben = RoomSocket(two, InvitationFactory(meeting=call, display_name="Ben"))

    async def scenario():
        await ann.open()
        await ben.open()
        await ben.send(type="ping")
        await ben.receive("pong")
        two.kill()  # Ben's socket dies with its process: no disconnect handler marks him gone
        stay = await in_thread(JoinSession.objects.get, pk=ben.session.pk)
        assert stay.connected and stay.ended_at is None

        # Ann keeps pinging while Ben's socket stays silent past the bounds given to the beat task.
        await ann.hold(time.monotonic() + 3, ping_every=0.5)
        ended = await in_thread(joining.end_abandoned_sessions, grace=timedelta(seconds=1),
                                silent_after=timedelta(seconds=2))
        assert ended == 1
        await ann.sees(lambda room: [p["name"] for p in room["peers"]] == ["Ann"])
        ann_stay = await in_thread(JoinSession.objects.get, pk=ann.session.pk)
        assert ann_stay.connected and ann_stay.ended_at is None
        await ann.socket.close()
        return stay.last_seen_at

    last_seen = asyncio.run(scenario())

    ben_stay = JoinSession.objects.get(pk=ben.session.pk)
    assert (ben_stay.ended_at, ben_stay.end_reason, ben_stay.connected) == (last_seen, "left", False)
    assert errors(one) == []
