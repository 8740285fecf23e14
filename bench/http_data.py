#!/usr/bin/env python
"""Build bench/http_join.py's data in the database DATABASE_URL names (already migrated): an
organization with Gcore accounts signing HS256 and RS256, a webinar on each whose join window is
open with INVITEES invitees, and BACKGROUND more invitations in other meetings so the join path's
lookups run on a realistically large table. Prints the invitees' link tokens as JSON."""

import json
import os
import secrets
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

from django.utils import timezone  # noqa: E402

INVITEES = int(os.environ.get("BENCH_INVITEES", "500"))
BACKGROUND = int(os.environ.get("BENCH_BACKGROUND_INVITATIONS", "100000"))


def webinar(organization, owner, room, account, title):
    from meetings.models import Meeting
    from meetings.services import invitations, scheduling

    start = timezone.now() + timedelta(minutes=5)
    meeting = scheduling.meeting_schedule(organization=organization, room=room, owner=owner, title=title,
                                          start=start, end=start + timedelta(hours=3), timezone_name="UTC",
                                          provider="gcore", kind="webinar", max_broadcasters=10, max_watchers=2000)
    Meeting.objects.filter(pk=meeting.pk).update(provider_account=account)
    return [invitations.invitation_create(meeting=meeting, email=f"{title.lower()}{n}@example.net", role="viewer",
                                          send_email=False)[1] for n in range(INVITEES)]


def background(organization, owner, room):
    """BACKGROUND invitations with links in 100-person meetings, written in bulk (their tokens unused)."""
    from meetings import links
    from meetings.models import Invitation, JoinLink, Meeting, Occurrence

    start = timezone.now() + timedelta(days=30)
    meetings = Meeting.objects.bulk_create([
        Meeting(organization=organization, room=room, owner=owner, title=f"Background {n}", timezone="UTC",
                start=start, end=start + timedelta(hours=1), max_broadcasters=8, max_watchers=20)
        for n in range(BACKGROUND // 100)])
    Occurrence.objects.bulk_create([Occurrence(meeting=m, start=m.start, end=m.end, original_start=m.start)
                                    for m in meetings])
    for first in range(0, len(meetings), 50):
        batch = [Invitation(organization=organization, meeting=meeting, email=f"b{meeting.pk}-{n}@example.net",
                            display_name=f"Person {n}", role="participant", timezone="UTC")
                 for meeting in meetings[first:first + 50] for n in range(100)]
        Invitation.objects.bulk_create(batch)
        JoinLink.objects.bulk_create([
            JoinLink(organization=organization, meeting_id=i.meeting_id, invitation=i,
                     token_hash=links.token_hash(secrets.token_urlsafe(32))) for i in batch])


def main():
    from accounts.models import Organization, User
    from meetings.models import ProviderAccount
    from meetings.services import scheduling
    from meetings.services.accounts import generate_rsa_pair

    owner = User.objects.create_user("bench@example.net")
    organization = Organization.objects.create(name="Bench", slug="bench")
    room = scheduling.room_create(organization=organization, owner=owner, name="Room", max_broadcasters=8,
                                  max_watchers=20)
    hs256 = ProviderAccount.objects.create(organization=organization, name="HS", provider="gcore",
                                           jwt_secret="x" * 32, is_default=True)
    rs256 = generate_rsa_pair(ProviderAccount.objects.create(organization=organization, name="RS",
                                                             provider="gcore"))
    background(organization, owner, room)
    print(json.dumps({"HS256": webinar(organization, owner, room, hs256, "HS"),
                      "RS256": webinar(organization, owner, room, rs256, "RS")}))


if __name__ == "__main__":
    main()
