#!/usr/bin/env python
"""A worker's memory over one big recordings sync, through the real pieces:

    .venv/bin/python bench/worker_memory.py [--recordings 10000]

It makes a fresh PostgreSQL database (portal_bench_memory) and Redis db 14, an organization with a Gcore
account and one meeting (a weekly series over the recordings' span), starts the Gcore contract server
(tests/gcore_api_server.py) holding that many recordings of the meeting's room, paged as the contract
says (GET /streaming/videos?search=&page=&per_page=, a bare array, until an empty page; then
GET /streaming/videos/{id} for each), and a Celery worker as production runs it (`celery -A portal
worker`, prefork, one pool process). The worker first syncs another meeting of 1,000 recordings (the
warm-up: imports, connections, caches and one sync's worth of allocations), then the big one
(meetings.tasks.sync_meeting_task, as "Sync now" queues it). The pool process's RSS (/proc/<pid>/status
VmRSS) is sampled every 0.2 s; the bench prints the recordings synced, the duration, RSS at start, after
the warm-up, after the first 1,000 recordings of the big sync were read, at its peak and at the end, and
the growth of the peak over the warm-up. It exits non-zero when that growth exceeds 20% or a recording
is missing.

Why a warm-up sync and not the first 1,000 recordings of the big one: a sync that lists all recordings
before it reads the first one's metadata has already grown by the time it has read 1,000, so that
mark would hide exactly the growth this bench is for.

Gcore allows 4 requests a second, which would make 10,000 recordings a 45-minute sync; the bench lifts
the limit on both sides (GCORE_REQUESTS_PER_SECOND for the worker, the contract server's per_second),
so it measures the sync's memory, not the wait. Other work on the machine changes the duration, not the
memory figures much.
"""

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
DATABASE = "portal_bench_memory"
POSTGRES = "postgres://postgres@127.0.0.1:5432"
REDIS_URL = "redis://127.0.0.1:6379/14"
QUEUE = "bench-memory"
TOKEN = "bench-memory-token"  # noqa: S105 - the contract server's, made up
LIMIT = 20.0  # percent of growth after warm-up
WARM_UP = 1000  # recordings read before the reference sample
# The contract server's recordings start here, an hour apart (tests/gcore_api_server.py add_videos).
FIRST_VIDEO_AT = datetime.fromtimestamp(1_700_000_000, UTC)

ENV = {"DATABASE_URL": f"{POSTGRES}/{DATABASE}", "REDIS_URL": REDIS_URL, "DEBUG": "0", "CELERY_QUEUE": QUEUE,
       "SECRET_KEY": "bench-secret-key-" + "x" * 40, "LOG_LEVEL": "WARNING",
       "CREDENTIALS_KEYS": "Ae0xZ9Pq3rS4tU5vW6xY7zA8bC9dE0fG1hI2jK3lM4o=", "SITE_URL": "http://127.0.0.1",
       "OUTBOUND_ALLOW_PRIVATE_ADDRESSES": "true", "GCORE_BACKOFF_SECONDS": "0.05",
       "GCORE_REQUESTS_PER_SECOND": "100000", "DJANGO_SETTINGS_MODULE": "portal.settings"}


def fresh_database() -> None:
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {DATABASE}")


def setup_django(var_dir: str) -> None:
    os.environ.update(ENV, PORTAL_VAR_DIR=var_dir)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import redis
    from django.core.management import call_command

    redis.Redis.from_url(REDIS_URL).flushdb()
    call_command("migrate", verbosity=0, interactive=False)


def build(*sizes: int) -> list:
    """An organization, its Gcore account and a meeting for each size: weekly sittings of an hour across
    the span of its recordings (one an hour), so some recordings belong to a sitting and most to none."""
    from tenant import organization_with_room

    from meetings.models import Meeting, Occurrence, ProviderAccount

    owner, organization, room = organization_with_room("bench-memory", "Bench memory")
    account = ProviderAccount.objects.create(organization=organization, name="Gcore", provider="gcore",
                                             jwt_secret="x" * 32, api_token=TOKEN, is_default=True)
    meetings = []
    for size in sizes:
        start = FIRST_VIDEO_AT
        meeting = Meeting.objects.create(organization=organization, room=room, owner=owner,
                                         title=f"Weekly, {size} recordings", timezone="UTC", start=start,
                                         end=start + timedelta(hours=1), rrule="FREQ=WEEKLY", provider="gcore",
                                         provider_account=account, max_broadcasters=8, max_watchers=0)
        Occurrence.objects.bulk_create([
            Occurrence(meeting=meeting, start=start + timedelta(weeks=n), end=start + timedelta(weeks=n, hours=1),
                       original_start=start + timedelta(weeks=n)) for n in range(size // (24 * 7) + 1)])
        meetings.append(meeting)
    return meetings


def rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


def pool_process(worker_pid: int) -> int | None:
    """The prefork pool's one process: the one that runs tasks."""
    try:
        children = Path(f"/proc/{worker_pid}/task/{worker_pid}/children").read_text().split()
    except FileNotFoundError:
        return None
    return int(children[0]) if children else None


def start_worker(var_dir: str, api_url: str) -> tuple[subprocess.Popen, int]:
    from portal.celery import app

    name = f"{QUEUE}-{secrets.token_hex(3)}@bench"
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "portal", "worker", "--concurrency=1", "--loglevel=WARNING",
         "-n", name], cwd=ROOT, env={**os.environ, **ENV, "PORTAL_VAR_DIR": var_dir,
                                     "GCORE_API_BASE_URL": api_url})
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise SystemExit("the worker exited at start")
        if app.control.ping(destination=[name], timeout=0.5) and pool_process(worker.pid):
            return worker, pool_process(worker.pid)
    worker.terminate()
    raise SystemExit("the worker did not start within 90 s")


def mb(kb: int) -> str:
    return f"{kb / 1024:.1f} MB"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recordings", type=int, default=10_000)
    args = parser.parse_args()
    var_dir = tempfile.mkdtemp(prefix="bench-memory-")
    fresh_database()
    setup_django(var_dir)
    warm_up, meeting = build(WARM_UP, args.recordings)

    from celery.result import AsyncResult

    from meetings.models import Recording
    from meetings.providers.gcore.provider import room_id
    from meetings.tasks import sync_meeting_task
    from tests.gcore_api import GcoreApi

    api = GcoreApi()
    api.control_timeout = 60
    worker = None
    try:
        api.reset(TOKEN)
        api.set(per_second=100_000)
        api._post("/_control/videos", {"room": room_id(warm_up), "count": WARM_UP, "first_id": 1_000_001})
        api._post("/_control/videos", {"room": room_id(meeting), "count": args.recordings})
        worker, pool = start_worker(var_dir, api.url)
        start_rss = rss_kb(pool)
        AsyncResult(sync_meeting_task.delay(warm_up.pk, everything=True).id).get(timeout=600)
        warm = rss_kb(pool)
        began = time.monotonic()
        task = AsyncResult(sync_meeting_task.delay(meeting.pk, everything=True).id)
        peak = first = 0
        while not task.ready():
            rss = rss_kb(pool)
            peak = max(peak, rss)
            if not first and api._post("/_control/counts")["video_lookups"] >= 2 * WARM_UP:
                first = rss
            time.sleep(0.2)  # the sampling interval, not a wait for state
        duration = time.monotonic() - began
        end = rss_kb(pool)
        peak = max(peak, end)
        result = task.get(timeout=5)
        if pool_process(worker.pid) != pool:
            raise SystemExit("the worker's pool process was replaced during the run: its RSS says nothing")
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
        api.stop()

    synced = Recording.objects.filter(meeting=meeting).exclude(provider_recording_id="").count()
    growth = (peak - warm) / warm * 100
    print(f"\n{args.recordings:,} recordings of one meeting from the Gcore contract server (pages of 100, then "
          f"each video), one worker: celery -A portal worker --concurrency=1, RSS of its pool process\n")
    print(f"{'what':52} {'value':>14}")
    print(f"{'recordings synced (rows / at the provider)':52} {f'{synced:,} / {args.recordings:,}':>14}")
    print(f"{'duration of the sync task':52} {f'{duration:.1f} s':>14}")
    print(f"{'RSS at start (worker ready, idle)':52} {mb(start_rss):>14}")
    print(f"{f'RSS after the warm-up (a sync of {WARM_UP:,} recordings)':52} {mb(warm):>14}")
    print(f"{f'RSS after the first {WARM_UP:,} recordings read':52} {mb(first or end):>14}")
    print(f"{'RSS peak':52} {mb(peak):>14}")
    print(f"{'RSS at end':52} {mb(end):>14}")
    print(f"{'growth after warm-up (peak over after the warm-up)':52} {f'{growth:+.1f}%':>14}   limit {LIMIT:.0f}%")
    print(f"{'growth from start (imports and connections incl.)':52} "
          f"{f'{(peak - start_rss) / start_rss * 100:+.1f}%':>14}")
    print(f"task result: {result}", flush=True)
    problems = []
    if synced != args.recordings:
        problems.append(f"{args.recordings - synced} recording(s) missing")
    if growth > LIMIT:
        problems.append(f"memory grew {growth:.1f}% after warm-up (limit {LIMIT:.0f}%)")
    if problems:
        raise SystemExit("FAIL: " + "; ".join(problems))


if __name__ == "__main__":
    main()
