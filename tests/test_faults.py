"""Faults injected into real processes: Celery workers killed with SIGKILL, a Redis that restarts
with nothing kept, PostgreSQL connections cut during joins, and both services unreachable behind a
running portal. Nothing is lost or done twice, nothing is half-written, and pages say 503.

Bounds stated here: a killed worker's email is sent again as soon as the worker is back (no beat
involved); work lost with Redis is sent again within one lease (5 s here) plus one sweep (1 s)."""

import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
import requests
from django.db import transaction
from django.utils import timezone

from meetings.models import Invitation, JoinSession, MeetingSync, Recording
from meetings.providers.gcore.provider import room_id
from meetings.tasks import request_sync_task, send_meeting_email
from portal import outbox
from portal.models import PendingTask

from .browser.servers import start_servers
from .factories import GcoreMeetingFactory, InvitationFactory, MeetingFactory, ProviderAccountFactory
from .faults import DatabaseDoor, Mailbox, OwnRedis, Workers, sending_to, wait_until
from .meetings.test_gcore_sync_workers import video

pytestmark = pytest.mark.django_db(transaction=True)
BURST = 40


@pytest.fixture
def own_redis():
    server = OwnRedis()
    yield server
    server.stop()


@pytest.fixture
def burst(acme):
    """BURST invitees whose invitation emails are recorded, committed, and not sent yet."""
    meeting = MeetingFactory(organization=acme)
    people = [InvitationFactory(meeting=meeting, email=f"person{n}@example.net") for n in range(BURST)]
    return people


def send_burst(people, workers):
    """Record every invitation email in one transaction; after commit they go to the workers' broker."""
    with sending_to(workers), transaction.atomic():
        for person in people:
            outbox.enqueue(send_meeting_email, person.pk, "invitation", None)


def wait_for_all_sent(mailbox, expected: int, timeout: float) -> float:
    """Seconds until `expected` distinct recipients were reported sent (fails after `timeout`)."""
    started = time.monotonic()
    while len(set(mailbox.sent)) < expected:
        mailbox.next_event(timeout=max(0.1, timeout - (time.monotonic() - started)))
    return time.monotonic() - started


def assert_each_sent_once(mailbox, people):
    counts = Counter(mailbox.recipients())
    assert counts == Counter({person.email: 1 for person in people})
    assert set(Invitation.objects.values_list("email_status", flat=True)) == {"sent"}
    assert not PendingTask.objects.filter(done_at__isnull=True).exists()


def test_a_worker_killed_mid_burst_loses_and_repeats_no_email(burst, own_redis, tmp_path):
    mailbox = Mailbox(tmp_path)
    workers = Workers(tmp_path, redis_url=own_redis.url, **mailbox.env(delay=0.2))
    workers.start("a")
    workers.start("b")
    try:
        send_burst(burst, workers)
        for _ in range(8):  # a few go out first
            mailbox.next_event(timeout=60)
        while (event := mailbox.next_event(timeout=30))[0] != "sending":
            pass
        name = workers.kill(event[1])  # the OOM killer, in the middle of that worker's message
        workers.start(name)

        took = wait_for_all_sent(mailbox, BURST, timeout=90)
    finally:
        workers.stop()

    assert_each_sent_once(mailbox, burst)
    assert took < 30  # no lease or sweep waited for: the restarted worker took its message back


def test_redis_restarting_mid_burst_loses_and_repeats_no_email(burst, own_redis, tmp_path, settings):
    settings.OUTBOX_LEASE_SECONDS = 5  # each row's lease is set where it is recorded: here
    mailbox = Mailbox(tmp_path)
    workers = Workers(tmp_path, redis_url=own_redis.url, OUTBOX_LEASE_SECONDS="5", OUTBOX_SWEEP_SECONDS="1",
                      **mailbox.env(delay=0.1))
    workers.start("a")
    workers.start("b")
    workers.start_beat(tmp_path)
    try:
        send_burst(burst, workers)
        for _ in range(6):
            mailbox.next_event(timeout=60)
        own_redis.stop()  # nothing kept: every queued message is gone
        own_redis.start()
        took = wait_for_all_sent(mailbox, BURST, timeout=120)
    finally:
        workers.stop()

    assert_each_sent_once(mailbox, burst)
    assert took < 20  # one lease (5 s) and one sweep (1 s) after Redis came back, plus sending


def test_joins_through_cut_database_connections_are_whole_or_not_at_all(acme, tmp_path):
    door = DatabaseDoor()
    meeting = MeetingFactory(organization=acme)
    people = [InvitationFactory(meeting=meeting) for _ in range(5)]
    [server] = start_servers(tmp_path, 1, redis_url=None, DATABASE_URL=door.url, JOIN_RATE_PER_IP="100000",
                             JOIN_RATE_PER_LINK="100000", DATABASE_CONN_MAX_AGE="600")
    statuses = Counter()
    cutting, stop_cutting = threading.Event(), threading.Event()

    def keep_cutting():
        while not stop_cutting.wait(0.02):  # the fault's rhythm: connections cut every 20 ms...
            if cutting.is_set():
                door.cut()

    cutter = threading.Thread(target=keep_cutting, daemon=True)
    cutter.start()
    try:
        for round_number in range(60):
            # ...in every other round, so calm rounds show joins still succeed however slow the machine
            if round_number % 2 == 0:
                cutting.set()
            else:
                cutting.clear()
            for person in people:
                browser = requests.Session()
                page = browser.get(f"{server.url}/j/{person.token}", timeout=10)
                statuses[f"get {page.status_code}"] += 1
                if page.status_code != 200:
                    continue
                token = browser.cookies["csrftoken"]
                joined = browser.post(f"{server.url}/j/{person.token}", data={"csrfmiddlewaretoken": token},
                                      headers={"Referer": f"{server.url}/j/{person.token}"}, allow_redirects=False,
                                      timeout=10)
                statuses[f"post {joined.status_code}"] += 1
    finally:
        stop_cutting.set()
        cutter.join()
        server.stop()
        door.stop()

    assert not [status for status in statuses if status.endswith(" 500")], statuses
    assert statuses["post 302"] > 0 and (statuses["post 503"] + statuses["get 503"]) > 0, statuses
    for person in people:
        stays = list(JoinSession.objects.filter(invitation=person).order_by("started_at"))
        for earlier in stays[:-1]:
            assert earlier.ended_at is not None and earlier.end_reason == "replaced"
        assert not stays or stays[-1].ended_at is None, "a join ended the earlier stay without making its own"


def join_once(server, person) -> int:
    browser = requests.Session()
    page = browser.get(f"{server.url}/j/{person.token}", timeout=10)
    if page.status_code != 200:
        return page.status_code
    return browser.post(f"{server.url}/j/{person.token}", data={"csrfmiddlewaretoken": browser.cookies["csrftoken"]},
                        headers={"Referer": f"{server.url}/j/{person.token}"}, allow_redirects=False,
                        timeout=10).status_code


def test_pages_say_503_while_a_service_is_down_and_recover_when_it_returns(acme, own_redis, tmp_path):
    door = DatabaseDoor()
    person = InvitationFactory(meeting=MeetingFactory(organization=acme))
    [server] = start_servers(tmp_path, 1, redis_url=own_redis.url, DATABASE_URL=door.url)
    try:
        assert join_once(server, person) == 302
        assert requests.get(f"{server.url}/readyz", timeout=10).json()["ready"] is True

        door.close()  # PostgreSQL unreachable
        page = requests.get(f"{server.url}/j/{person.token}", timeout=10)
        ready = requests.get(f"{server.url}/readyz", timeout=10)
        alive = requests.get(f"{server.url}/healthz", timeout=10)
        door.reopen()
        back = requests.get(f"{server.url}/j/{person.token}", timeout=10)

        own_redis.stop()  # the cache, the rate limiter's counters and the broker are gone
        prejoin_without_cache = requests.get(f"{server.url}/j/{person.token}", timeout=10)
        join_without_cache = join_once(server, person)
        cache_ready = requests.get(f"{server.url}/readyz", timeout=10)
        own_redis.start()
        join_after = join_once(server, person)
    finally:
        server.stop()
        door.stop()

    assert page.status_code == 503 and page.headers["Retry-After"] == "30"
    assert "The portal is back in a moment" in page.text and "Meeting portal" in page.text  # the portal's layout
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert ready.status_code == 503 and ready.json()["checks"]["database"].startswith("down")
    assert alive.status_code == 200 and back.status_code == 200
    assert prejoin_without_cache.status_code == 200  # reading fails open
    assert join_without_cache == 503  # joining cannot be counted, so it waits
    assert cache_ready.status_code == 503 and cache_ready.json()["checks"]["cache"].startswith("down")
    assert join_after == 302
    stays = JoinSession.objects.filter(invitation=person).order_by("started_at")
    assert [s.ended_at is None for s in stays] == [False, True]  # the refused join changed nothing


def test_a_worker_killed_mid_sync_loses_and_duplicates_no_recording(acme, gcore_api, own_redis, tmp_path):
    gcore_api.reset("faults-token")
    account = ProviderAccountFactory(organization=acme, api_token="faults-token")
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(hours=7)
    meetings = [GcoreMeetingFactory(organization=acme, provider_account=account, start=start,
                                    end=start + timedelta(hours=1)) for _ in range(8)]
    gcore_api.set(videos=[video(100 + n, room_id(m), start, 1) for n, m in enumerate(meetings)])
    workers = Workers(tmp_path, redis_url=own_redis.url, GCORE_API_BASE_URL=gcore_api.url,
                      GCORE_BACKOFF_SECONDS="0.05", OUTBOUND_ALLOW_PRIVATE_ADDRESSES="true")
    workers.start("a")
    workers.start("b")
    try:
        with sending_to(workers), transaction.atomic():
            for meeting in meetings:
                request_sync_task(meeting.pk, everything=True)
        running = wait_until(lambda: PendingTask.objects.filter(done_at__isnull=True, started_at__isnull=False)
                             .exclude(worker="").first(), 60, "a sync starting")
        started = time.monotonic()
        name = running.worker.split("@")[0].removeprefix(f"{workers.queue}-")
        workers.kill(workers.processes[name].pid)  # mid-sync
        workers.start(name)
        wait_until(lambda: not PendingTask.objects.filter(done_at__isnull=True).exists(), 60, "every sync done")
        took = time.monotonic() - started
    finally:
        workers.stop()

    assert Counter(Recording.objects.values_list("provider_recording_id", flat=True)) == {
        str(100 + n): 1 for n in range(len(meetings))}
    assert set(MeetingSync.objects.values_list("last_error", flat=True)) == {""}
    assert took < 30  # the restarted worker took its sync back at once: no lease, no beat pass


def test_work_asked_for_while_the_broker_is_down_is_recorded_at_once_and_sent_later(acme, own_redis, tmp_path,
                                                                                 settings):
    settings.OUTBOX_LEASE_SECONDS = 2
    person = InvitationFactory(meeting=MeetingFactory(organization=acme), email="late@example.net")
    mailbox = Mailbox(tmp_path)
    workers = Workers(tmp_path, redis_url=own_redis.url, OUTBOX_SWEEP_SECONDS="1", **mailbox.env(delay=0))
    own_redis.stop()
    try:
        started = time.monotonic()
        send_burst([person], workers)  # the web request's part: record, then try to send after commit
        asked_in = time.monotonic() - started
        assert PendingTask.objects.get().done_at is None

        own_redis.start()
        workers.start("a")
        workers.start_beat(tmp_path)
        wait_for_all_sent(mailbox, 1, timeout=30)
    finally:
        workers.stop()

    assert asked_in < 2  # the page that asked was not held by the broker's absence
    assert_each_sent_once(mailbox, [person])


def test_two_people_joining_at_once_cannot_both_take_the_last_place(acme):
    from django.db import connection as default_connection
    from django.utils import timezone as tz

    from meetings.services import joining

    meeting = MeetingFactory(organization=acme, max_broadcasters=1)
    people = [InvitationFactory(meeting=meeting) for _ in range(2)]
    admissions = [joining.check(joining.find_link(p.token), tz.now()) for p in people]
    together = threading.Barrier(len(people))
    outcomes = []

    def join(admission):
        together.wait()
        try:
            joining.join(admission, tz.now())
            outcomes.append("joined")
        except joining.JoinDenied as denial:
            outcomes.append(denial.code)
        finally:
            default_connection.close()  # this thread's own connection

    threads = [threading.Thread(target=join, args=(admission,)) for admission in admissions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["full", "joined"]
    assert JoinSession.objects.filter(occurrence__meeting=meeting, ended_at__isnull=True).count() == 1
