"""iCalendar documents: invitation and update (METHOD:REQUEST), cancellation (METHOD:CANCEL), and a
person's feed (METHOD:PUBLISH). One UID per meeting or series; SEQUENCE grows with every change."""

import zoneinfo
from datetime import UTC, datetime

from django.utils.translation import gettext as _
from icalendar import Calendar, Event, vCalAddress, vRecur, vText

from .models import Meeting, Occurrence

PRODID = "-//Meeting portal//EN"
ATTENDEE_ROLES = {"host": "CHAIR", "moderator": "CHAIR", "viewer": "OPT-PARTICIPANT"}


def _calendar(method: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    return calendar


def _local(moment: datetime, tz: str) -> datetime:
    return moment.astimezone(zoneinfo.ZoneInfo(tz))


def _address(email: str, name: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    address.params["cn"] = vText(name or email)
    return address


def _event(meeting: Meeting, *, join_url: str, invitation=None, status: str = "CONFIRMED") -> Event:
    event = Event()
    event.add("uid", meeting.ical_uid)
    event.add("sequence", meeting.ical_sequence)
    event.add("dtstamp", datetime.now(UTC))
    event.add("summary", meeting.title)
    description = meeting.description.strip()
    if join_url:
        join_label = _("Join:")  # outside the f-string, where makemessages finds it
        description = f"{description}\n\n{join_label} {join_url}".strip()
        event.add("url", join_url)
    event.add("description", description)
    event.add("location", join_url or _("Online"))
    event.add("status", status)
    event.add("organizer", _address(meeting.owner.email, meeting.owner.display_name))
    if invitation is not None and invitation.email:
        attendee = _address(invitation.email, invitation.display_name)
        attendee.params["role"] = ATTENDEE_ROLES.get(invitation.role, "REQ-PARTICIPANT")
        attendee.params["partstat"] = "NEEDS-ACTION"
        attendee.params["rsvp"] = "FALSE"
        event.add("attendee", attendee)
    return event


def _series_events(meeting: Meeting, occurrences: list[Occurrence], *, join_url: str, invitation) -> list[Event]:
    """The series event (with its rule and cancelled dates) and one event per occurrence edited on its own."""
    master = _event(meeting, join_url=join_url, invitation=invitation)
    master.add("dtstart", _local(meeting.start, meeting.timezone))
    master.add("dtend", _local(meeting.end, meeting.timezone))
    events = [master]
    if not meeting.rrule:
        return events
    master.add("rrule", vRecur.from_ical(meeting.rrule))
    cancelled = [_local(o.original_start, meeting.timezone) for o in occurrences if o.status == "cancelled"]
    if cancelled:
        master.add("exdate", cancelled)
    for occurrence in occurrences:
        if occurrence.modified and occurrence.status != "cancelled":
            moved = _event(meeting, join_url=join_url, invitation=invitation)
            moved["summary"] = vText(occurrence.title)
            moved.add("recurrence-id", _local(occurrence.original_start, meeting.timezone))
            moved.add("dtstart", _local(occurrence.start, meeting.timezone))
            moved.add("dtend", _local(occurrence.end, meeting.timezone))
            events.append(moved)
    return events


def invitation_ics(meeting: Meeting, *, invitation, join_url: str) -> bytes:
    calendar = _calendar("REQUEST")
    for event in _series_events(meeting, list(meeting.occurrences.all()), join_url=join_url, invitation=invitation):
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def cancellation_ics(meeting: Meeting, *, invitation, occurrence: Occurrence | None = None) -> bytes:
    """The whole meeting, or one occurrence of a series (by its RECURRENCE-ID), is cancelled."""
    calendar = _calendar("CANCEL")
    event = _event(meeting, join_url="", invitation=invitation, status="CANCELLED")
    target = occurrence or meeting
    if occurrence is not None and meeting.rrule:
        event.add("recurrence-id", _local(occurrence.original_start, meeting.timezone))
    event.add("dtstart", _local(target.start, meeting.timezone))
    event.add("dtend", _local(target.end, meeting.timezone))
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def feed_ics(entries: list[tuple[Meeting, str]]) -> bytes:
    """A person's upcoming meetings, each with their own join link where they have one."""
    calendar = _calendar("PUBLISH")
    calendar.add("x-wr-calname", _("Meetings"))
    for meeting, join_url in entries:
        for event in _series_events(meeting, list(meeting.occurrences.all()), join_url=join_url, invitation=None):
            calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()
