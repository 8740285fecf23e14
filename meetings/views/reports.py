"""Reports for hosts and organization admins: a meeting's attendance (with CSV), syncing a hosted
meeting on demand, and the organization's usage per month."""

import csv
from datetime import UTC

from django.contrib import messages
from django.http import HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts.models import Membership
from accounts.tenancy import organization_view

from ..providers import get_provider, provider_choices
from ..services import attendance
from ..services.sync import request_sync
from .hosts import _managed_meeting, _to_meeting_page

CSV_TIME = "%Y-%m-%d %H:%M:%S"


@organization_view(minimum_role=Membership.Role.HOST)
def meeting_sync(request, meeting_code):
    meeting = _managed_meeting(request, meeting_code)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if meeting.provider == "builtin" or meeting.provider_account is None:
        messages.error(request, _("This meeting is held on the built-in provider; there is nothing to sync."))
    else:
        request_sync(meeting)
        messages.success(request, _("Syncing with %(provider)s: recordings and attendance appear here when it "
                                    "is done.") % {"provider": get_provider(meeting.provider).name})
    return _to_meeting_page(meeting, "#attendance")


@organization_view(minimum_role=Membership.Role.HOST)
def attendance_csv(request, meeting_code):
    meeting = _managed_meeting(request, meeting_code)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"attendance-{meeting.code}-{timezone.now():%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow([_("Person"), _("Email"), _("Role"), _("Sessions"), _("First join (UTC)"), _("Last leave (UTC)"),
                     _("Minutes")])
    for row in attendance.attendance(meeting):
        writer.writerow([_safe(row.name), _safe(row.email), row.role, row.sessions,
                         row.first_join.astimezone(UTC).strftime(CSV_TIME),
                         row.last_leave.astimezone(UTC).strftime(CSV_TIME) if row.last_leave else "",
                         row.minutes])
    return response


def _safe(text: str) -> str:
    """Names come from invitees: keep a spreadsheet from reading one as a formula."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@organization_view(minimum_role=Membership.Role.ADMIN)
@require_GET
def usage(request):
    months = attendance.monthly_usage(request.organization)
    peak = max([m.participant_minutes for m in months] + [1])
    for index, month in enumerate(months):  # the chart's bars: 60 units a month, 110 high at most,
        month.x, month.height = index * 60 + 8, round(110 * month.participant_minutes / peak)
        month.y = 128 - month.height  # under a line for the value, above one for the month
    return render(request, "meetings/usage.html", {
        "tab": "usage", "months": months, "chart_width": len(months) * 60, "providers": _by_provider(months),
        "totals": {
            "meetings": sum(m.meetings for m in months),
            "participant_minutes": sum(m.participant_minutes for m in months),
            "recording_hours": sum(m.recording_hours for m in months)}})


def _by_provider(months) -> list[dict]:
    """The twelve months' meetings and minutes per provider, named as the provider names itself."""
    names = dict(provider_choices())
    totals: dict[str, dict] = {}
    for month in months:
        for key, usage in month.by_provider.items():
            row = totals.setdefault(key, {"name": names.get(key, key), "meetings": 0, "participant_minutes": 0})
            row["meetings"] += usage.meetings
            row["participant_minutes"] += usage.participant_minutes
    return sorted(totals.values(), key=lambda row: -row["participant_minutes"])
