#!/usr/bin/env python
"""Cost of the join path with a 500-invitee meeting: the pre-join page (GET /j/<token>) and joining
(POST), in-process through Django's handler, on a fresh test database (PostgreSQL when DATABASE_URL
points there, else SQLite). Prints requests per second and SQL queries per request.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal REDIS_URL=redis://127.0.0.1:6379/15 \\
        .venv/bin/python bench/join_path.py
"""

import statistics
import time
from datetime import timedelta

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from setup import fresh_database  # sets Django up before any model is imported

INVITEES = 500
REQUESTS = 300


def measure(label, make_request):
    timings, queries = [], []
    for i in range(REQUESTS):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = make_request(i)
            timings.append(time.perf_counter() - started)
        assert response.status_code in (200, 302), (label, response.status_code)
        queries.append(len(captured))
    print(f"{label:<34} {REQUESTS / sum(timings):8.0f} req/s   median {statistics.median(timings) * 1000:6.2f} ms"
          f"   queries/request max {max(queries)}")


def main():
    with fresh_database():
        from accounts.models import Organization, User
        from meetings.models import Meeting
        from meetings.services import invitations, scheduling

        owner = User.objects.create_user("bench-owner@example.net")
        organization = Organization.objects.create(name="Bench", slug="bench")
        room = scheduling.room_create(organization=organization, owner=owner, name="Bench room",
                                      max_broadcasters=8, max_watchers=20)
        start = timezone.now() + timedelta(minutes=5)
        meeting = scheduling.meeting_schedule(organization=organization, room=room, owner=owner, title="Bench",
                                              start=start, end=start + timedelta(hours=1), timezone_name="UTC")
        # Measure the join path, not the built-in provider's cap of 8: let everyone in.
        Meeting.objects.filter(pk=meeting.pk).update(max_broadcasters=0)
        meeting.refresh_from_db()
        tokens = [invitations.invitation_create(meeting=meeting, email=f"p{n}@example.net", send_email=False)[1]
                  for n in range(INVITEES)]
        print(f"{connection.vendor}, meeting of {INVITEES} invitees, {REQUESTS} requests each")
        # One client (its handler loads the middleware once, as a server process does); a join is a new
        # browser, so its cookies are cleared first.
        browser = Client()

        def join(i):
            browser.cookies.clear()
            return browser.post(f"/j/{tokens[i % INVITEES]}")

        measure("pre-join page (GET)", lambda i: browser.get(f"/j/{tokens[i % INVITEES]}"))
        measure("join, first time (POST)", join)
        measure("join again, taking over (POST)", join)


if __name__ == "__main__":
    main()
