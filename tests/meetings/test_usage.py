"""The usage page counts meetings where people met, in the month they met, per provider by name."""

import uuid
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from meetings.models import JoinSession, Occurrence, Presence
from meetings.providers import provider_choices
from meetings.services.attendance import monthly_usage
from meetings.services.scheduling import occurrence_end

from ..factories import GcoreMeetingFactory, InvitationFactory, MeetingFactory, ProviderAccountFactory

# Mid-month, so sittings a few days either side stay in one month whatever day the suite runs on.
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=timezone.get_fixed_timezone(0))


def joined(meeting, started, minutes):
    sitting = meeting.occurrences.get()
    return JoinSession.objects.create(organization=meeting.organization, invitation=InvitationFactory(meeting=meeting),
                                      occurrence=sitting, key_hash=uuid.uuid4().hex, started_at=started,
                                      ended_at=started + timedelta(minutes=minutes))


def this_month(acme, now=NOW):
    return monthly_usage(acme, now=now)[-1]


@pytest.fixture
def at_now(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)


def test_a_meeting_ended_before_its_scheduled_start_counts_when_it_was_held(acme, alice, at_now):
    # Scheduled for next month; the host opened it early today, people met, and the host ended it.
    meeting = MeetingFactory(organization=acme, owner=alice.user, start=NOW + timedelta(days=20),
                             end=NOW + timedelta(days=20, hours=1))
    joined(meeting, NOW - timedelta(minutes=40), 30)
    occurrence_end(occurrence=meeting.occurrences.get())

    june = this_month(acme)
    assert (june.meetings, round(june.participant_minutes)) == (1, 30)
    # When its scheduled start has passed, it is not counted a second time in July.
    months = monthly_usage(acme, now=NOW + timedelta(days=25))
    assert [(m.month.month, m.meetings) for m in months[-2:]] == [(6, 1), (7, 0)]


def test_a_meeting_ended_before_its_start_with_nobody_in_it_never_counts(acme, alice, at_now):
    meeting = MeetingFactory(organization=acme, owner=alice.user, start=NOW + timedelta(hours=2),
                             end=NOW + timedelta(hours=3))
    occurrence_end(occurrence=meeting.occurrences.get())
    assert meeting.occurrences.get().status == Occurrence.Status.ENDED

    later = NOW + timedelta(days=1)  # its scheduled time is over
    assert (this_month(acme, later).meetings, this_month(acme, later).participant_minutes) == (0, 0)


def test_held_meetings_count_once_and_cancelled_ones_never(acme, alice, at_now):
    held = MeetingFactory(organization=acme, owner=alice.user, start=NOW - timedelta(days=2),
                          end=NOW - timedelta(days=2, hours=-1))
    joined(held, held.start, 20)
    joined(held, held.start + timedelta(minutes=5), 10)  # a second person: still one meeting
    cancelled = MeetingFactory(organization=acme, owner=alice.user, start=NOW - timedelta(days=1),
                               end=NOW - timedelta(days=1, hours=-1))
    joined(cancelled, cancelled.start, 15)
    cancelled.occurrences.update(status=Occurrence.Status.CANCELLED)

    assert this_month(acme).meetings == 1


def test_usage_by_provider_uses_the_providers_names(client, acme, alice, at_now):
    builtin = MeetingFactory(organization=acme, owner=alice.user, start=NOW - timedelta(days=3),
                             end=NOW - timedelta(days=3, hours=-1))
    joined(builtin, builtin.start, 25)
    hosted = GcoreMeetingFactory(organization=acme, owner=alice.user, provider_account=ProviderAccountFactory(
        organization=acme), start=NOW - timedelta(days=1), end=NOW - timedelta(days=1, hours=-1))
    Presence.objects.create(organization=acme, meeting=hosted, occurrence=hosted.occurrences.get(), peer_id="p",
                            source="statistics", joined_at=hosted.start, left_at=hosted.start + timedelta(minutes=45))

    client.force_login(alice.user)
    page = client.get("/o/acme/usage/").content.decode()

    names = {key: str(name) for key, name in provider_choices()}
    rows = page.split('id="usage-providers"')[1]
    assert names["gcore"] in rows and names["builtin"] in rows
    assert rows.index(names["gcore"]) < rows.index(names["builtin"])  # most minutes first
    assert ">builtin<" not in rows and ">gcore<" not in rows
    assert "one ended before its scheduled start counts when it was held" in page
