#!/usr/bin/env python
"""Where a Gcore event delivery's time goes, in process (cProfile), on the database bench/webhooks.py
built (it leaves portal_bench_webhooks in place):

    .venv/bin/python bench/profile_webhooks.py [--requests 1000] [--apply]

Posts distinct join and leave events of the webinar's peers, as bench/webhooks.py's wrk script does,
through Django's test client with on-commit work run as in production, and prints the functions with
the most cumulative time, the portal's own first, and the SQL statements per delivery. --apply also
profiles applying what the deliveries stored (meetings.tasks.apply_provider_events), which production
runs in the worker."""

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.update({"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/portal_bench_webhooks",
                   "REDIS_URL": "redis://127.0.0.1:6379/13", "DEBUG": "0", "DJANGO_SETTINGS_MODULE": "portal.settings",
                   "DATABASE_CONN_MAX_AGE": "600", "ALLOWED_HOSTS": "testserver,127.0.0.1",
                   "SECRET_KEY": "bench-secret-key-" + "x" * 40,
                   "CREDENTIALS_KEYS": "Ae0xZ9Pq3rS4tU5vW6xY7zA8bC9dE0fG1hI2jK3lM4o="})  # as bench/http_join.py

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

HEADER = "Bearer bench-event-secret"  # bench/webhooks.py's


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--apply", action="store_true")
    args = parser.parse_args()
    from meetings.models import Invitation, ProviderAccount
    from meetings.providers.gcore.provider import room_id

    account = ProviderAccount.objects.get(name="Gcore", provider="gcore")
    invitations = list(Invitation.objects.filter(meeting__provider_account=account).select_related("meeting"))
    client, joined = Client(), {}
    base = f"/providers/gcore/{account.code}/events"

    def one(i):
        invitation = invitations[i % len(invitations)]
        joined[i % len(invitations)] = now_joined = not joined.get(i % len(invitations))
        body = {"roomId": room_id(invitation.meeting), "peerId": invitation.peer_id, "displayName": "Bench",
                "seq": f"profile-{os.getpid()}-{i}"}
        return client.post(base + ("/joinPeer" if now_joined else "/closePeer"), json.dumps(body),
                           content_type="application/json", HTTP_AUTHORIZATION=HEADER)

    for i in range(20):  # warm: imports, URL and provider caches
        one(i)
    queries = []
    with connection.execute_wrapper(lambda execute, sql, *rest: queries.append(sql) or execute(sql, *rest)):
        one(20)
    profile = cProfile.Profile()
    profile.enable()
    for i in range(21, 21 + args.requests):
        answer = one(i)
        assert answer.status_code == 200, (answer.status_code, answer.content[:300])
    if args.apply:
        from meetings import tasks

        tasks.apply_provider_events()
    profile.disable()
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out).sort_stats("cumulative")
    stats.print_stats(r"portal/|accounts/|meetings/|django/(db/models/sql|db/backends|core/handlers|middleware|"
                      r"contrib|core/cache)|psycopg|redis|kombu|celery", 50)
    print(out.getvalue()[:16000])
    print(f"SQL statements in one delivery: {len(queries)}")
    for sql in queries:
        print("  ", sql[:160])


if __name__ == "__main__":
    main()
