#!/usr/bin/env python
"""Where the join path's time goes, in process (cProfile), on the database bench/http_join.py built:

    .venv/bin/python bench/profile_join.py [prejoin|join|room] [--requests 300]

Run bench/http_join.py first (it leaves portal_bench in place). Prints the functions with the most
cumulative time, the portal's own first."""

import argparse
import cProfile
import io
import os
import pstats
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.update({"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/portal_bench",
                   "REDIS_URL": "redis://127.0.0.1:6379/8", "DEBUG": "0", "DJANGO_SETTINGS_MODULE": "portal.settings",
                   "JOIN_RATE_PER_IP": "1000000000", "JOIN_RATE_PER_LINK": "1000000000",
                   "ROOM_PAGE_LOADS_PER_STAY": "1000000000", "DATABASE_CONN_MAX_AGE": "600",
                   "ALLOWED_HOSTS": "testserver,127.0.0.1", "SECRET_KEY": "bench-secret-key-" + "x" * 40,
                   "CREDENTIALS_KEYS": "Ae0xZ9Pq3rS4tU5vW6xY7zA8bC9dE0fG1hI2jK3lM4o="})  # as bench/http_join.py

import django  # noqa: E402

django.setup()

from django.test import Client  # noqa: E402

CSRF = "benchbenchbenchbenchbenchbench12"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=("prejoin", "join", "room"))
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    from meetings import links
    from meetings.models import Invitation

    invitations = list(Invitation.objects.filter(meeting__title="HS").order_by("pk")[:50])
    tokens = [links.invitation_token(invitation) for invitation in invitations]
    clients = []
    for token in tokens:
        client = Client()
        client.cookies["csrftoken"] = CSRF
        if args.what == "room":
            client.post(f"/j/{token}", {"csrfmiddlewaretoken": CSRF})
        clients.append(client)

    def one(i):
        token, client = tokens[i % len(tokens)], clients[i % len(clients)]
        if args.what == "prejoin":
            return client.get(f"/j/{token}")
        if args.what == "join":
            return client.post(f"/j/{token}", {"csrfmiddlewaretoken": CSRF})
        return client.get(f"/j/{token}/room/")

    for i in range(len(clients) + 20):  # warm: each client's handler, imports, template and URL caches
        one(i)
    profile = cProfile.Profile()
    profile.enable()
    for i in range(args.requests):
        answer = one(i)
        assert answer.status_code in (200, 302), answer.status_code
    profile.disable()
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out).sort_stats("cumulative")
    stats.print_stats(r"portal/|accounts/|meetings/|django/(template|db/models/sql|middleware|contrib)", 45)
    print(out.getvalue()[:14000])


if __name__ == "__main__":
    main()
