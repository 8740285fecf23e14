#!/usr/bin/env python
"""One built-in webinar room of 500 sockets on two server processes joined through Redis:

    .venv/bin/python bench/room_sockets.py [--people 500] [--joins 50] [--messages 50]

It makes a fresh PostgreSQL database (portal_bench_rooms) and Redis db 9, gives every invitee a join
session (the built-in mesh's cap of 20 viewers lifted: sockets carry no media), starts two uvicorn
processes on the production socket command (DEBUG off, the Redis pub/sub channel layer) and opens
the sockets from one asyncio client, alternately on each process. It prints, for the issue's goals:

- how long the room takes to go quiet after `--joins` people connect at once into a room of the
  rest (every socket's page then lists everyone), and the bytes each socket received meanwhile;
- chat fan-out: a moderator's lines, paced 10 a second, as received by every socket (p50 / p99 of
  every delivery, and of the last delivery of each line);
- a burst of `--messages` lines sent at once: the time until every socket has all of them.

Run it on an otherwise idle machine: the client and both servers share its cores.
"""

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from http_join import POSTGRES, ROOT, Server, portal_env  # noqa: E402

from tests.room_roster import Roster  # noqa: E402

DATABASE = "portal_bench_rooms"
REDIS_URL = "redis://127.0.0.1:6379/9"


def build_data(people: int) -> None:
    """Run in a subprocess with the portal's environment: a built-in webinar with chat, its host and
    viewers, each joined. Prints [[path, cookie], …] as JSON, the host first."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from django.utils import timezone
    from tenant import organization_with_room, webinar

    from meetings.models import Meeting
    from meetings.services import invitations, joining

    owner, organization, room = organization_with_room("bench", "Bench")
    meeting = webinar(organization, room, owner, provider="builtin", max_broadcasters=8, max_watchers=20,
                      chat_enabled=True, waiting_room=False)
    # The built-in mesh sends media to at most 20 viewers; the socket layer measured here (presence,
    # chat, moderation) is the same for any number, so the cap is lifted for the bench only.
    Meeting.objects.filter(pk=meeting.pk).update(max_watchers=people)
    meeting.refresh_from_db()
    sockets = []
    for n in range(people):
        role = "host" if n == 0 else "viewer"
        _, token = invitations.invitation_create(meeting=meeting, email=f"p{n}@example.net", role=role,
                                                 display_name=f"Person {n}", send_email=False)
        link = joining.find_link(token)
        now = timezone.now()
        _, secret = joining.join(joining.check(link, now), now)
        sockets.append([f"/j/{token}/ws", f"join_{link.code}={secret}"])
    print(json.dumps(sockets))


def fresh_database(env: dict, people: int) -> list:
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {DATABASE}")
    redis.Redis.from_url(REDIS_URL).flushdb()
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    print(f"building the data ({people} people joined)…", flush=True)
    built = subprocess.run([sys.executable, __file__, "--build-data", str(people)], cwd=ROOT, env=env,
                           capture_output=True, text=True)
    if built.returncode:
        raise SystemExit(f"building the data failed:\n{built.stderr[-3000:]}")
    return json.loads(built.stdout.strip().splitlines()[-1])


class Page:
    """One room page's socket: keeps who is there, the bytes it got and when each chat line came."""

    def __init__(self, url: str, cookie: str, origin: str):
        self.url, self.headers = url, {"Cookie": cookie, "Origin": origin}
        self.roster, self.bytes, self.lines = Roster(), 0, {}
        self.changed = asyncio.Event()

    async def open(self):
        from websockets.asyncio.client import connect

        self.socket = await connect(self.url, additional_headers=self.headers, max_size=None,
                                    open_timeout=60, ping_interval=None)
        self.reader = asyncio.create_task(self.read())

    async def read(self):
        async for raw in self.socket:
            self.bytes += len(raw)
            message = json.loads(raw)
            if message["type"] == "chat":
                self.lines[message["text"]] = time.monotonic()
            elif message["type"] == "welcome":
                self.me = message["me"]["peer"]
            self.roster.apply(message)
            self.changed.set()

    async def until(self, condition, deadline: float):
        while not condition(self):
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), max(deadline - time.monotonic(), 0.001))


async def open_all(pages, batch=50):
    for start in range(0, len(pages), batch):
        await asyncio.gather(*(page.open() for page in pages[start:start + batch]))


async def everyone_sees(pages, count: int, timeout: float) -> float:
    started, deadline = time.monotonic(), time.monotonic() + timeout
    # Every stay was joined before its socket opened, so each page lists everyone from its first
    # snapshot; the room is quiet when every page shows every one of them connected.
    await asyncio.gather(*(page.until(lambda p: sum(i["connected"] for i in p.roster.peers.values()) >= count,
                                      deadline) for page in pages))
    return time.monotonic() - started


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def scenario(sockets, servers, args) -> list[str]:
    origin = servers[0].url
    pages = [Page(servers[n % 2].url.replace("http", "ws") + path, cookie, origin)
             for n, (path, cookie) in enumerate(sockets)]
    host, first, joiners = pages[0], pages[:-args.joins], pages[-args.joins:]
    report = []

    started = time.monotonic()
    await open_all(first)
    took = await everyone_sees(first, len(first), timeout=600)
    report.append(f"{len(first)} sockets opened 50 at a time, room quiet after {time.monotonic() - started:.1f} s "
                  f"(the last {took:.2f} s waiting for the lists to settle)")

    before = sum(page.bytes for page in pages)
    started = time.monotonic()
    await asyncio.gather(*(page.open() for page in joiners))
    await everyone_sees(pages, len(pages), timeout=600)
    quiet = time.monotonic() - started
    received = sum(page.bytes for page in pages) - before
    report.append(f"{args.joins} joins at once into {len(first)}: every one of {len(pages)} pages shows "
                  f"everyone connected after {quiet:.2f} s (goal 5 s); {received / 1e6:.1f} MB sent to pages, "
                  f"{received / len(pages) / 1e3:.0f} KB per page")

    async def say(text):
        sent = time.monotonic()
        await host.socket.send(json.dumps({"type": "chat", "text": text}))
        return sent

    sent = {}
    for n in range(args.messages):
        sent[f"paced {n}"] = await say(f"paced {n}")
        await asyncio.sleep(0.1)  # the pace of the lines, not a wait for state
    deadline = time.monotonic() + 60
    await asyncio.gather(*(page.until(lambda p: all(t in p.lines for t in sent), deadline) for page in pages))
    deliveries = [(page.lines[text] - at) * 1000 for text, at in sent.items() for page in pages]
    last = [max(page.lines[text] for page in pages) * 1000 - at * 1000 for text, at in sent.items()]
    report.append(f"chat fan-out to {len(pages)} sockets, {args.messages} lines 10/s: every delivery p50 "
                  f"{percentile(deliveries, .5):.1f} ms, p99 {percentile(deliveries, .99):.1f} ms; the last socket "
                  f"of each line p50 {statistics.median(last):.1f} ms, p99 {percentile(last, .99):.1f} ms "
                  f"(goal p99 < 100 ms)")

    burst = [f"burst {n}" for n in range(args.messages)]
    started = time.monotonic()
    for text in burst:
        await host.socket.send(json.dumps({"type": "chat", "text": text}))
    deadline = time.monotonic() + 120
    await asyncio.gather(*(page.until(lambda p: all(t in p.lines for t in burst), deadline) for page in pages))
    report.append(f"a burst of {args.messages} lines reached all {len(pages)} sockets in "
                  f"{time.monotonic() - started:.2f} s (goal 1 s)")

    for page in pages:
        await page.socket.close()
        page.reader.cancel()
    return report


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=500)
    parser.add_argument("--joins", type=int, default=50)
    parser.add_argument("--messages", type=int, default=50)
    parser.add_argument("--build-data", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_data:
        return build_data(args.build_data)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    scratch = tempfile.mkdtemp(prefix="bench-rooms-")
    env = portal_env(f"{scratch}/var", DATABASE_URL=f"{POSTGRES}/{DATABASE}", REDIS_URL=REDIS_URL)
    sockets = fresh_database(env, args.people)
    command = [sys.executable, "-m", "uvicorn", "portal.asgi:application", "--host", "127.0.0.1", "--port",
               "{port}", "--lifespan", "off", "--no-proxy-headers", "--no-access-log",
               "--ws-per-message-deflate", "false"]
    servers = [Server(f"uvicorn {n}", command, env, ROOT) for n in (1, 2)]
    try:
        report = asyncio.run(scenario(sockets, servers, args))
    finally:
        for server in servers:
            server.stop()
    print(f"\n{args.people} sockets in one webinar, two uvicorn processes on the Redis pub/sub layer\n")
    for line in report:
        print(" ", line)


if __name__ == "__main__":
    main()
