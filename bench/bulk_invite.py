#!/usr/bin/env python
"""A CSV import of 500 and of 5,000 people into one meeting, in process on a fresh test database:
prints seconds, SQL statements and outbox rows for each, so growth with the row count shows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal REDIS_URL=redis://127.0.0.1:6379/15 \\
        .venv/bin/python bench/bulk_invite.py
"""

import time
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from setup import fresh_database  # sets Django up before any model is imported


def main():
    from tenant import organization_with_room

    with fresh_database():
        from meetings.services import invitations, scheduling
        from portal.models import PendingTask

        owner, organization, room = organization_with_room("bench", "Bench")
        print(f"{connection.vendor}")
        for count in (500, 5000):
            start = timezone.now() + timedelta(days=1)
            meeting = scheduling.meeting_schedule(
                organization=organization, room=room, owner=owner, title=f"Import {count}", start=start,
                end=start + timedelta(hours=1), timezone_name="UTC", kind="webinar", max_broadcasters=8,
                max_watchers=20)
            text = "Email,Name,Role\n" + "".join(f"p{count}-{n}@example.net,Person {n},viewer\n" for n in range(count))
            before = PendingTask.objects.count()
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                rows = invitations.parse_csv(text.encode())
                _, imported = invitations.invitations_import(meeting=meeting, rows=rows, invited_by=owner)
                took = time.perf_counter() - started
            assert imported
            print(f"{count:5} rows: {took:6.2f} s, {len(queries):3} SQL statements, "
                  f"{PendingTask.objects.count() - before} emails queued")


if __name__ == "__main__":
    main()
