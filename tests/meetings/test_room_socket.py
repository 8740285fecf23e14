"""The built-in room's socket decides who may do what; forged messages do nothing."""

import asyncio
import threading
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from meetings import tasks
from meetings.models import Invitation, JoinSession
from meetings.services import joining
from meetings.services.joining import end_abandoned_sessions
from portal.asgi import application

from ..factories import InvitationFactory, MeetingFactory
from ..room_roster import Roster

pytestmark = pytest.mark.django_db(transaction=True)
OFFER = {"description": {"type": "offer", "sdp": "v=0\r\na=sendrecv\r\n"}}


@pytest.fixture(autouse=True)
def in_memory_layer(settings):
    """The consumer's rules on a fresh in-memory layer; the Redis layer between two server processes is
    covered by tests/meetings/test_room_socket_redis.py and tests/browser/test_builtin_room_browser.py."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture(autouse=True)
def loop(in_memory_layer):
    """One event loop, in a thread of its own, for every socket of a test: all their consumers keep
    running whichever one the test waits on (and the browser tests' loop in this thread is left alone)."""
    Peer.loop = asyncio.new_event_loop()
    Peer.open = []
    thread = threading.Thread(target=Peer.loop.run_forever, daemon=True)
    thread.start()
    yield Peer.loop
    for peer in list(Peer.open):
        peer.close()
    Peer.run(_cancel_leftover_tasks())
    Peer.loop.call_soon_threadsafe(Peer.loop.stop)
    thread.join(timeout=10)
    Peer.loop.close()


async def _cancel_leftover_tasks():
    leftovers = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in leftovers:
        task.cancel()
    await asyncio.gather(*leftovers, return_exceptions=True)


class Peer:
    """One page's socket, driven synchronously on the test's event loop."""

    loop: asyncio.AbstractEventLoop
    open: list

    def __init__(self, invitation, *, cookie=True):
        self.invitation = invitation
        self.roster = Roster()
        link = joining.find_link(invitation.token)
        self.session, secret = joining.join(joining.check(link, timezone.now()), timezone.now())
        headers = [(b"origin", b"http://127.0.0.1:8000")]
        if cookie:
            headers.append((b"cookie", f"join_{link.code}={secret}".encode()))
        self.socket = WebsocketCommunicator(application, f"/j/{invitation.token}/ws", headers=headers)
        self.connected, self.close_code = self.run(self.socket.connect())
        if self.connected:
            Peer.open.append(self)

    def send(self, **message):
        self.run(self.socket.send_json_to(message))

    def receive(self, kind, until=lambda message: True):
        """The next message of this kind that satisfies `until`; other messages are skipped (what
        they say about who is there is kept)."""
        while True:
            message = self.run(self.socket.receive_json_from(timeout=5))
            self.roster.apply(message)
            if message["type"] == kind and until(message):
                return message

    def sees(self, until):
        """The room as this page shows it, once it satisfies `until` (read from the messages to come)."""
        while not until(self.roster.view()):
            self.roster.apply(self.run(self.socket.receive_json_from(timeout=5)))
        return self.roster.view()

    def receives_nothing_of(self, kind) -> bool:
        while not self.run(self.socket.receive_nothing(timeout=0.5)):
            if self.run(self.socket.receive_json_from())["type"] == kind:
                return False
        return True

    @classmethod
    def run(cls, awaitable):
        return asyncio.run_coroutine_threadsafe(awaitable, cls.loop).result(timeout=30)

    def close(self):
        if self in Peer.open:
            Peer.open.remove(self)
            self.run(self.socket.disconnect())


@pytest.fixture
def call(db):
    return MeetingFactory(title="Socket call")


def test_a_socket_without_the_join_sessions_cookie_is_refused(call):
    intruder = Peer(InvitationFactory(meeting=call), cookie=False)

    assert not intruder.connected and intruder.close_code == 4401


def test_a_welcome_says_who_i_am_and_what_the_room_allows(call):
    peer = Peer(InvitationFactory(meeting=call, display_name="Ann", role="moderator"))

    welcome = peer.receive("welcome")

    assert welcome["me"]["name"] == "Ann" and welcome["me"]["moderator"] is True
    assert welcome["admitted"] is True and welcome["room"]["chat"] is True
    assert JoinSession.objects.get(pk=peer.session.pk).connected


def test_a_participant_cannot_moderate(call):
    ann = Peer(InvitationFactory(meeting=call, display_name="Ann"))
    ben = Peer(InvitationFactory(meeting=call, display_name="Ben"))
    ann.receive("welcome")

    ann.send(type="moderate", action="remove", peer=ben.session.code)
    ann.send(type="moderate", action="end")

    assert ann.receive("error")["message"] == "Only moderators can do that."
    assert JoinSession.objects.get(pk=ben.session.pk).ended_at is None
    assert Invitation.objects.get(pk=ben.invitation.pk).removed_at is None
    assert call.occurrences.get().status == "live"


def test_signals_reach_only_their_target_and_viewers_never_send_media(db):
    webinar = MeetingFactory(kind="webinar")
    speaker = Peer(InvitationFactory(meeting=webinar, role="speaker"))
    viewer = Peer(InvitationFactory(meeting=webinar, role="viewer"))

    speaker.send(type="signal", to=viewer.session.code, data=OFFER)
    assert viewer.receive("signal")["from"] == speaker.session.code

    viewer.send(type="signal", to=speaker.session.code, data=OFFER)
    viewer.send(type="signal", to=speaker.session.code,
                data={"description": {"type": "answer", "sdp": "v=0\r\na=sendonly\r\n"}})
    assert speaker.receives_nothing_of("signal")

    viewer.send(type="signal", to=speaker.session.code,
                data={"description": {"type": "answer", "sdp": "v=0\r\na=recvonly\r\n"}})
    assert speaker.receive("signal")["data"]["description"]["type"] == "answer"


def test_chat_carries_the_server_known_name_and_stops_when_disabled(call):
    ann = Peer(InvitationFactory(meeting=call, display_name="Ann"))
    ben = Peer(InvitationFactory(meeting=call, display_name="Ben"))

    ann.send(type="chat", text="hello", name="Someone Else")
    message = ben.receive("chat")
    assert (message["name"], message["text"]) == ("Ann", "hello")

    call.chat_enabled = False
    call.save()
    carl = Peer(InvitationFactory(meeting=call, display_name="Carl"))
    carl.send(type="chat", text="can anyone hear me")
    assert ben.receives_nothing_of("chat")


def test_someone_waiting_can_do_nothing_until_admitted(call):
    call.waiting_room = True
    call.save()
    host = Peer(InvitationFactory(meeting=call, role="host"))
    guest = Peer(InvitationFactory(meeting=call, display_name="Gus"))
    assert guest.receive("welcome")["admitted"] is False

    guest.send(type="chat", text="let me in")
    guest.send(type="signal", to=host.session.code, data=OFFER)
    assert host.sees(lambda room: room["waiting"])["waiting"][0]["name"] == "Gus"
    assert host.receives_nothing_of("chat")

    host.send(type="moderate", action="admit", peer=guest.session.code)
    guest.receive("admitted")
    assert JoinSession.objects.get(pk=guest.session.pk).admitted


def test_a_demoted_moderator_whose_page_ignores_the_reload_hears_nothing_more_of_the_waiting_room(call):
    call.waiting_room = True
    call.save()
    host = Peer(InvitationFactory(meeting=call, role="host"))
    mona = Peer(InvitationFactory(meeting=call, role="moderator", display_name="Mona"))

    host.send(type="moderate", action="set_role", peer=mona.session.code, role="participant")
    assert mona.receive("force")["what"] == "reload"  # a forged page stays on instead
    Peer(InvitationFactory(meeting=call, display_name="Gus"))

    assert host.sees(lambda room: room["waiting"])["waiting"][0]["name"] == "Gus"
    assert mona.receives_nothing_of("waiting")


def test_frames_no_page_of_ours_sends_change_nothing_and_keep_the_socket(call):
    host = Peer(InvitationFactory(meeting=call, role="host"))
    guest = Peer(InvitationFactory(meeting=call, display_name="Gus"))
    host.run(host.socket.send_to(text_data="{not json"))
    host.run(host.socket.send_to(bytes_data=b"\x00\x01"))
    host.send(type="signal", to="a\x00b", data=OFFER)
    host.send(type="moderate", action="remove", peer="\x00" * 70)
    host.send(type="ping")

    host.receive("pong")  # still connected and answering
    assert JoinSession.objects.get(pk=guest.session.pk).ended_at is None


def test_a_moderator_removes_someone_who_then_cannot_come_back_until_let_in(call):
    host = Peer(InvitationFactory(meeting=call, role="moderator"))
    guest = Peer(InvitationFactory(meeting=call))

    host.send(type="moderate", action="remove", peer=guest.session.code)

    assert guest.receive("ended")["reason"] == "removed"
    with pytest.raises(joining.JoinDenied) as refused:
        joining.check(joining.find_link(guest.invitation.token), timezone.now())
    assert refused.value.status == 401
    host.sees(lambda room: room["removed"] != [])
    host.send(type="moderate", action="readmit", peer=guest.invitation.code)
    host.sees(lambda room: room["removed"] == [])
    assert Invitation.objects.get(pk=guest.invitation.pk).removed_at is None


def test_a_dropped_page_leaves_at_the_moment_it_dropped_once_the_grace_is_over(call):
    peer = Peer(InvitationFactory(meeting=call))
    peer.receive("welcome")
    peer.close()
    dropped = JoinSession.objects.get(pk=peer.session.pk)
    assert not dropped.connected and dropped.ended_at is None  # it may still come back

    assert end_abandoned_sessions(grace=timedelta(seconds=0)) == 1

    left = JoinSession.objects.get(pk=peer.session.pk)
    assert (left.ended_at, left.end_reason) == (dropped.disconnected_at, "left")


def test_a_moderator_changes_a_role_in_the_room_within_the_meetings_rules(db):
    webinar = MeetingFactory(kind="webinar")
    moderator = Peer(InvitationFactory(meeting=webinar, role="moderator"))
    viewer = Peer(InvitationFactory(meeting=webinar, role="viewer"))

    moderator.send(type="moderate", action="set_role", peer=viewer.session.code, role="participant")
    assert "not a role in a webinar" in moderator.receive("error")["message"]
    moderator.send(type="moderate", action="set_role", peer=viewer.session.code, role="speaker")

    assert viewer.receive("force")["what"] == "reload"
    assert Invitation.objects.get(pk=viewer.invitation.pk).role == "speaker"


def test_a_participant_cannot_change_roles(call):
    ann = Peer(InvitationFactory(meeting=call))
    ben = Peer(InvitationFactory(meeting=call))

    ann.send(type="moderate", action="set_role", peer=ben.session.code, role="moderator")

    assert ann.receive("error")["message"] == "Only moderators can do that."
    assert Invitation.objects.get(pk=ben.invitation.pk).role == "participant"


def test_nobody_is_made_a_host_from_the_room(call):
    moderator = Peer(InvitationFactory(meeting=call, role="moderator"))
    guest = Peer(InvitationFactory(meeting=call))

    moderator.send(type="moderate", action="set_role", peer=guest.session.code, role="host")

    assert moderator.receive("error")["message"] == ("Only the meeting's page can make someone a host, "
                                                      "not the room.")
    assert Invitation.objects.get(pk=guest.invitation.pk).role == "participant"
    assert guest.receives_nothing_of("force")


def test_the_hosts_role_cannot_be_changed_from_the_room(call):
    host = Peer(InvitationFactory(meeting=call, role="host"))
    moderator = Peer(InvitationFactory(meeting=call, role="moderator"))

    moderator.send(type="moderate", action="set_role", peer=host.session.code, role="participant")

    assert moderator.receive("error")["message"] == "The host's role cannot be changed from the room."
    assert Invitation.objects.get(pk=host.invitation.pk).role == "host"
    assert host.receives_nothing_of("force")


def test_a_moderator_cannot_change_their_own_role(call):
    moderator = Peer(InvitationFactory(meeting=call, role="moderator"))

    moderator.send(type="moderate", action="set_role", peer=moderator.session.code, role="participant")

    assert moderator.receive("error")["message"] == "You cannot change your own role."
    assert Invitation.objects.get(pk=moderator.invitation.pk).role == "moderator"


def test_roles_given_in_the_room_are_the_meeting_kinds_own(call):
    host = Peer(InvitationFactory(meeting=call, role="host"))
    guest = Peer(InvitationFactory(meeting=call))
    assert [key for key, _label in host.receive("welcome")["room"]["roles"]] == [
        "moderator", "interpreter", "participant"]

    host.send(type="moderate", action="set_role", peer=guest.session.code, role="viewer")

    assert host.receive("error")["message"] == ("'viewer' is not a role in a call; choose one of moderator, "
                                                "interpreter, participant.")
    assert Invitation.objects.get(pk=guest.invitation.pk).role == "participant"


def shows(name, *, connected):
    """A room in which `name` is there, connected or not."""
    return lambda room: any(p["name"] == name and p["connected"] is connected for p in room["peers"])


def run_beat_task():
    return Peer.run(sync_to_async(tasks.end_abandoned_sessions)())


def test_a_socket_gone_silent_counts_as_dropped_when_last_seen_and_is_back_when_it_pings(call):
    ann = Peer(InvitationFactory(meeting=call, display_name="Ann"))
    ben = Peer(InvitationFactory(meeting=call, display_name="Ben"))
    ann.sees(shows("Ben", connected=True))
    last_seen = timezone.now() - joining.SOCKET_SILENT_AFTER - timedelta(seconds=5)
    JoinSession.objects.filter(pk=ben.session.pk).update(last_seen_at=last_seen)  # Ben's page froze then

    assert run_beat_task() == 0  # dropped, but still inside the grace to come back

    stay = JoinSession.objects.get(pk=ben.session.pk)
    assert (stay.connected, stay.disconnected_at, stay.ended_at) == (False, last_seen, None)
    ann.sees(shows("Ben", connected=False))
    ben.send(type="ping")
    ben.receive("pong")
    ann.sees(shows("Ben", connected=True))
    assert JoinSession.objects.get(pk=ben.session.pk).connected


def test_a_socket_silent_past_the_grace_has_left_when_last_seen_and_a_pinging_one_stays(call, settings):
    ann = Peer(InvitationFactory(meeting=call, display_name="Ann"))
    ben = Peer(InvitationFactory(meeting=call, display_name="Ben"))
    ann.send(type="ping")
    ann.receive("pong")
    ann.sees(shows("Ben", connected=True))
    last_seen = timezone.now() - timedelta(seconds=settings.ROOM_RECONNECT_GRACE_SECONDS + 1)
    JoinSession.objects.filter(pk=ben.session.pk).update(last_seen_at=last_seen)

    assert run_beat_task() == 1

    ben_stay, ann_stay = JoinSession.objects.get(pk=ben.session.pk), JoinSession.objects.get(pk=ann.session.pk)
    assert (ben_stay.ended_at, ben_stay.end_reason, ben_stay.connected) == (last_seen, "left", False)
    assert ann_stay.ended_at is None and ann_stay.connected
    ann.sees(lambda room: [p["name"] for p in room["peers"]] == ["Ann"])


def test_a_moderator_cannot_remove_the_host_or_demote_another_moderator(call):
    host = Peer(InvitationFactory(meeting=call, role="host"))
    moderator = Peer(InvitationFactory(meeting=call, role="moderator"))
    other = Peer(InvitationFactory(meeting=call, role="moderator"))

    moderator.send(type="moderate", action="remove", peer=host.session.code)
    assert moderator.receive("error")["message"] == "Only a host can remove a host."
    moderator.send(type="moderate", action="set_role", peer=other.session.code, role="participant")
    assert moderator.receive("error")["message"] == "Only a host changes a moderator's role."

    assert Invitation.objects.get(pk=host.invitation.pk).removed_at is None
    assert JoinSession.objects.get(pk=host.session.pk).ended_at is None
    assert Invitation.objects.get(pk=other.invitation.pk).role == "moderator"
    host.send(type="moderate", action="set_role", peer=other.session.code, role="participant")
    assert other.receive("force")["what"] == "reload"


@pytest.mark.parametrize("sdp", ["v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n",
                                 "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\nA=SENDRECV\r\n",
                                 "v=0\r\nm=audio 9 x\r\na=recvonly\r\nm=video 9 x\r\na=sendonly\r\n"])
def test_a_viewers_answer_that_would_send_media_never_reaches_the_speaker(db, sdp):
    webinar = MeetingFactory(kind="webinar")
    speaker = Peer(InvitationFactory(meeting=webinar, role="speaker"))
    viewer = Peer(InvitationFactory(meeting=webinar, role="viewer"))

    viewer.send(type="signal", to=speaker.session.code, data={"description": {"type": "answer", "sdp": sdp}})
    viewer.send(type="signal", to=speaker.session.code, data={"description": "not an object"})

    assert speaker.receives_nothing_of("signal")
    viewer.send(type="ping")
    assert viewer.receive("pong")  # the viewer's socket is still open
