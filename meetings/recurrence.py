"""Recurring meetings: the RRULE a host's choices describe, and the occurrences it yields.

Occurrences are computed in the meeting's own timezone, so a 09:00 weekly meeting stays at 09:00
local time across daylight-saving changes.
"""

import zoneinfo
from datetime import date, datetime, time

from dateutil.rrule import rrulestr

MAX_OCCURRENCES = 200
WEEKDAYS = [("MO", "Mon"), ("TU", "Tue"), ("WE", "Wed"), ("TH", "Thu"), ("FR", "Fri"), ("SA", "Sat"), ("SU", "Sun")]


def build_rrule(*, frequency: str, weekdays: list[str], count: int | None, until: date | None, tz: str) -> str:
    """frequency is "", "daily", "weekly" or "monthly"; ends after count occurrences or on until."""
    if not frequency:
        return ""
    parts = [f"FREQ={frequency.upper()}"]
    if frequency == "weekly" and weekdays:
        parts.append("BYDAY=" + ",".join(day for day, _ in WEEKDAYS if day in weekdays))
    if count:
        parts.append(f"COUNT={count}")
    elif until:
        last_moment = datetime.combine(until, time(23, 59, 59), tzinfo=zoneinfo.ZoneInfo(tz))
        parts.append("UNTIL=" + last_moment.astimezone(zoneinfo.ZoneInfo("UTC")).strftime("%Y%m%dT%H%M%SZ"))
    return ";".join(parts)


def occurrence_starts(*, rrule: str, start: datetime, tz: str) -> list[datetime]:
    """Every start of the series, aware, first one included; at most MAX_OCCURRENCES."""
    local_start = start.astimezone(zoneinfo.ZoneInfo(tz))
    if not rrule:
        return [start]
    starts = []
    for moment in rrulestr(rrule, dtstart=local_start):
        starts.append(moment)
        if len(starts) >= MAX_OCCURRENCES:
            break
    return starts


def describe(rrule: str) -> str:
    """A short human description of the rule for pages and emails."""
    if not rrule:
        return ""
    fields = dict(part.split("=", 1) for part in rrule.split(";"))
    days = dict(WEEKDAYS)
    text = {"DAILY": "Every day", "WEEKLY": "Every week", "MONTHLY": "Every month"}.get(fields["FREQ"], "Repeats")
    if "BYDAY" in fields:
        text += " on " + ", ".join(days[d] for d in fields["BYDAY"].split(","))
    if "COUNT" in fields:
        text += f", {fields['COUNT']} times"
    elif "UNTIL" in fields:
        text += f", until {fields['UNTIL'][:4]}-{fields['UNTIL'][4:6]}-{fields['UNTIL'][6:8]}"
    return text
