"""Recurring meetings: the RRULE a host's choices describe, and the occurrences it yields.

Occurrences are computed in the meeting's own timezone, so a 09:00 weekly meeting stays at 09:00
local time across daylight-saving changes.
"""

import zoneinfo
from datetime import date, datetime, time

from dateutil.rrule import rrulestr
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

MAX_OCCURRENCES = 200
WEEKDAYS = [("MO", gettext_lazy("Mon")), ("TU", gettext_lazy("Tue")), ("WE", gettext_lazy("Wed")),
            ("TH", gettext_lazy("Thu")), ("FR", gettext_lazy("Fri")), ("SA", gettext_lazy("Sat")),
            ("SU", gettext_lazy("Sun"))]


def build_rrule(*, frequency: str, weekdays: list[str], count: int | None, until: date | None, tz: str) -> str:
    """frequency is "", "daily", "weekly" or "monthly"; ends after count occurrences or on until."""
    if not frequency:
        return ""
    parts = [f"FREQ={frequency.upper()}"]
    if frequency == "weekly" and weekdays:
        parts.append("BYDAY=" + ",".join(day for day, _label in WEEKDAYS if day in weekdays))
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


def _fields(rrule: str) -> dict:
    return dict(part.split("=", 1) for part in rrule.split(";"))


def choices_of(rrule: str, tz: str) -> dict:
    """The schedule form's repeat choices that build_rrule turns back into this rule."""
    if not rrule:
        return {"frequency": "", "weekdays": [], "count": None, "until": None}
    fields = _fields(rrule)
    until = None
    if "UNTIL" in fields:
        moment = datetime.strptime(fields["UNTIL"], "%Y%m%dT%H%M%SZ").replace(tzinfo=zoneinfo.ZoneInfo("UTC"))
        until = moment.astimezone(zoneinfo.ZoneInfo(tz)).date()
    return {"frequency": fields["FREQ"].lower(), "weekdays": fields.get("BYDAY", "").split(",") if "BYDAY" in fields
            else [], "count": int(fields["COUNT"]) if "COUNT" in fields else None, "until": until}


def describe(rrule: str) -> str:
    """A short human description of the rule for pages and emails."""
    if not rrule:
        return ""
    fields = _fields(rrule)
    days = dict(WEEKDAYS)
    text = {"DAILY": _("Every day"), "WEEKLY": _("Every week"), "MONTHLY": _("Every month")}.get(
        fields["FREQ"], _("Repeats"))
    if "BYDAY" in fields:
        text = _("%(rule)s on %(days)s") % {"rule": text,
                                            "days": ", ".join(str(days[d]) for d in fields["BYDAY"].split(","))}
    if "COUNT" in fields:
        count = int(fields["COUNT"])
        text = ngettext("%(rule)s, %(count)d time", "%(rule)s, %(count)d times", count) % {"rule": text,
                                                                                          "count": count}
    elif "UNTIL" in fields:
        until = f"{fields['UNTIL'][:4]}-{fields['UNTIL'][4:6]}-{fields['UNTIL'][6:8]}"
        text = _("%(rule)s, until %(date)s") % {"rule": text, "date": until}
    return text
