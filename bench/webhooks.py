#!/usr/bin/env python
"""Gcore's join/leave event webhooks through real servers, beside the floor, in one run:

    .venv/bin/python bench/webhooks.py [--seconds 10] [--connections 8] [--repeats 0.1]

It makes a fresh PostgreSQL database (portal_bench_webhooks) and Redis db 13, builds an organization
with a Gcore account (its authEvent header set), a webinar whose join window is open and INVITEES
invitees who have joined, starts the floor (bench/floor, as bench/http_join.py does) and the portal
on gunicorn (WSGI, 2 workers, DEBUG off: the production web command) with a Celery worker, and drives
POST /providers/gcore/<account>/events/joinPeer|closePeer with wrk (Debian's package). wrk's Lua
script makes every request a new event (each peer joins and leaves in turn; a "seq" field makes each
body distinct) signed with the account's header, except a share (--repeats) that re-sends the
thread's previous delivery byte for byte, as a provider retrying would.

It prints events per second, the ratio to the floor, p50 and p99, then reads the database: Gcore's
events carry no id, so every delivery is a row (a repeat too: the portal cannot tell it from a quick
reconnect, tests/meetings/test_gcore_events.py), and every distinct event sent must be among them.
Requests still in flight when wrk stopped may or may not have been stored; the check allows for
exactly those. It exits non-zero if any event was lost or refused. Last it waits for the worker to
apply every stored join and leave, and prints how long that took after wrk stopped.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
import http_join  # noqa: E402  (bench/ is not a package: its helpers, imported rather than copied)

ROOT, BENCH = http_join.ROOT, http_join.BENCH
http_join.DATABASE = DATABASE = "portal_bench_webhooks"
http_join.REDIS_URL = REDIS_URL = "redis://127.0.0.1:6379/13"
POSTGRES, WORKERS = http_join.POSTGRES, http_join.WORKERS
INVITEES = 200
HEADER = "Bearer bench-event-secret"
WEB_COMMAND = ["{python}", "-m", "gunicorn", "portal.wsgi:application", "-w", WORKERS, "-b", "127.0.0.1:{port}",
               "--access-logfile", "/dev/null"]

# Each wrk thread owns the peers whose line number modulo the thread count is its own, so each peer's
# events go out in order (join, leave, join...). seq = "<thread>-<n>" makes each new event distinct.
WRK_SCRIPT = r"""
local threads, made = {}, 0
function setup(thread)
  made = made + 1
  thread:set("tid", made)
  table.insert(threads, thread)
end

local peers, joined, i, last_path, last_body = {}, {}, 0, nil, nil
sent, new, repeats, ok, bad = 0, 0, 0, 0, 0
local headers = {["Content-Type"] = "application/json", ["Authorization"] = HEADER}
function init(args)
  local k, count = 0, tonumber(args[2])
  for line in io.lines(args[1]) do
    if k % count == tid - 1 then peers[#peers + 1] = line end
    k = k + 1
  end
end

function request()
  sent = sent + 1
  if last_body ~= nil and math.random() < REPEATS then
    repeats = repeats + 1
    return wrk.format("POST", last_path, headers, last_body)
  end
  new = new + 1
  i = i % #peers + 1
  local room, peer = peers[i]:match("^(%S+) (%S+)$")
  joined[i] = not joined[i]
  last_path = BASE .. (joined[i] and "/joinPeer" or "/closePeer")
  last_body = string.format('{"roomId":"%s","peerId":"%s","displayName":"Bench %d","seq":"%d-%d"}',
                            room, peer, i, tid, new)
  return wrk.format("POST", last_path, headers, last_body)
end

function response(status, headers, body)
  if status >= 200 and status < 300 then ok = ok + 1 else bad = bad + 1 end
end

function done(summary, latency, requests)
  local total = {sent = 0, new = 0, repeats = 0, ok = 0, bad = 0}
  for _, thread in ipairs(threads) do
    for key, _ in pairs(total) do total[key] = total[key] + thread:get(key) end
  end
  io.write(string.format('COUNTS {"sent": %d, "new": %d, "repeats": %d, "ok": %d, "bad": %d}\n',
                         total.sent, total.new, total.repeats, total.ok, total.bad))
end
"""


def build_data() -> None:
    """Run in a subprocess with the portal's environment: the organization, account, webinar and its
    joined invitees. Prints the account's code and each invitee's "roomId peerId" as JSON."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from django.utils import timezone
    from tenant import organization_with_room, webinar

    from meetings.models import Meeting, ProviderAccount
    from meetings.providers.gcore.provider import room_id
    from meetings.services import invitations, joining

    owner, organization, room = organization_with_room("bench", "Bench")
    account = ProviderAccount.objects.create(organization=organization, name="Gcore", provider="gcore",
                                             jwt_secret="x" * 32, webhook_secret=HEADER, is_default=True)
    meeting = webinar(organization, room, owner, provider="gcore", max_broadcasters=10, max_watchers=2000)
    Meeting.objects.filter(pk=meeting.pk).update(provider_account=account)
    meeting.refresh_from_db()
    peers = []
    for n in range(INVITEES):
        invitation, token = invitations.invitation_create(meeting=meeting, email=f"viewer{n}@example.net",
                                                          role="viewer", send_email=False)
        now = timezone.now()
        joining.join(joining.check(joining.find_link(token), now), now)
        peers.append(f"{room_id(meeting)} {invitation.peer_id}")
    print(json.dumps({"account": account.code, "account_id": account.pk, "peers": peers}))


def fresh_database(env: dict) -> dict:
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {DATABASE}")
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    built = subprocess.run([sys.executable, __file__, "--build-data"], cwd=ROOT, env=env, capture_output=True,
                           text=True)
    if built.returncode:
        raise SystemExit(f"building the data failed:\n{built.stderr[-3000:]}")
    return json.loads(built.stdout.strip().splitlines()[-1])


def drive(url: str, data: dict, args, scratch: Path) -> dict:
    threads = 2
    (scratch / "peers.txt").write_text("\n".join(data["peers"]) + "\n")
    script = scratch / "events.lua"
    script.write_text(WRK_SCRIPT.replace("HEADER", json.dumps(HEADER)).replace("REPEATS", str(args.repeats))
                      .replace("BASE", json.dumps(f"/providers/gcore/{data['account']}/events")))
    command = ["wrk", "-t", str(threads), "-c", str(args.connections), "-d", f"{args.seconds}s", "--latency",
               "--timeout", "30s", "-s", str(script), url, str(scratch / "peers.txt"), str(threads)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    counts = json.loads(re.search(r"^COUNTS (.*)$", output, re.MULTILINE).group(1))
    return {"rate": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
            "p50": http_join._latency(output, "50%"), "p99": http_join._latency(output, "99%"), **counts}


def stored(account_id: int) -> dict:
    with psycopg.connect(f"{POSTGRES}/{DATABASE}") as connection:
        rows, distinct, unapplied = connection.execute(
            "SELECT count(*), count(DISTINCT payload->>'seq'), count(*) FILTER (WHERE NOT applied) "
            "FROM meetings_providerevent WHERE account_id = %s", [account_id]).fetchone()
    return {"rows": rows, "distinct": distinct, "unapplied": unapplied}


def check(run: dict, found: dict) -> list[str]:
    """What was lost or refused; empty when every event answered 2xx is stored."""
    unanswered = run["sent"] - run["ok"] - run["bad"]  # in flight when wrk stopped: stored or not
    problems = []
    if run["bad"]:
        problems.append(f"{run['bad']} deliveries refused")
    if not run["ok"] <= found["rows"] <= run["ok"] + unanswered:
        problems.append(f"{found['rows']} rows for {run['ok']} deliveries answered 2xx (+{unanswered} unanswered)")
    if not run["new"] - unanswered <= found["distinct"] <= run["new"]:
        problems.append(f"{found['distinct']} distinct events stored of {run['new']} sent ({unanswered} unanswered)")
    return problems


def report(base: dict, run: dict, found: dict, args) -> list[str]:
    print(f"\nwrk -t2 -c{args.connections} -d{args.seconds}s, {WORKERS} server processes each, "
          f"{args.repeats:.0%} repeats, {INVITEES} peers\n")
    print(f"{'what':58} {'req/s':>8} {'ratio':>6} {'p50':>9} {'p99':>9}")
    print(f"{'floor: one Django view, gunicorn':58} {base['rate']:8.0f} {1:6.2f} {base['p50']:>9} {base['p99']:>9}")
    print(f"{'Gcore events POST …/events/joinPeer|closePeer, gunicorn':58} {run['rate']:8.0f} "
          f"{run['rate'] / base['rate']:6.3f} {run['p50']:>9} {run['p99']:>9}")
    unanswered = run["sent"] - run["ok"] - run["bad"]
    print(f"\ndeliveries sent {run['sent']} ({run['new']} distinct events, {run['repeats']} repeats): "
          f"{run['ok']} answered 2xx, {run['bad']} refused, {unanswered} in flight when wrk stopped")
    print(f"rows written {found['rows']}, distinct events stored {found['distinct']} of {run['new']} sent")
    problems = check(run, found)
    print("nothing lost" if not problems else "LOST: " + "; ".join(problems), flush=True)
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--repeats", type=float, default=0.1, help="the share of deliveries that are repeats")
    parser.add_argument("--apply-timeout", type=int, default=300, help="seconds to wait for the worker to apply")
    parser.add_argument("--build-data", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_data:
        return build_data()
    http_join.ensure_wrk()
    scratch = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
    env = http_join.portal_env(str(scratch / "var"))
    print(f"building the data ({INVITEES} joined invitees)…", flush=True)
    data = fresh_database(env)

    floor = http_join.Server("floor", [sys.executable, "-m", "gunicorn", "floor_wsgi:application", "-w", WORKERS,
                                       "-b", "127.0.0.1:{port}", "--access-logfile", "/dev/null"], os.environ,
                             BENCH / "floor")
    try:
        base = http_join.wrk(floor.url, seconds=args.seconds, connections=args.connections, scratch=scratch)
    finally:
        floor.stop()

    server = http_join.Server("portal", [part.replace("{python}", sys.executable) for part in WEB_COMMAND], env, ROOT)
    worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "portal", "worker", "-c", "1", "-l", "WARNING"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        try:
            run = drive(server.url, data, args, scratch)
        finally:
            server.stop()  # gunicorn finishes the requests it is serving: afterwards the rows are final
        stopped = time.monotonic()
        found = stored(data["account_id"])
        problems = report(base, run, found, args)
        unapplied = found["unapplied"]
        while unapplied and time.monotonic() < stopped + args.apply_timeout:
            time.sleep(0.5)  # polling the worker's progress on the backlog, not a test's state
            unapplied = stored(data["account_id"])["unapplied"]
        waited = time.monotonic() - stopped
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    if unapplied:
        problems.append(f"{unapplied} events not applied {args.apply_timeout} s after the run")
        print(f"{unapplied} events still not applied after {waited:.1f} s")
    else:
        print(f"every join and leave applied {waited:.1f} s after wrk stopped "
              f"({found['unapplied']} were pending then)")
    import shutil

    shutil.rmtree(scratch, ignore_errors=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
