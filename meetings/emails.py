"""The emails invitees get: invitation, update, reminder and cancellation, each in HTML and plain
text with an iCalendar attachment carrying the person's own join link."""

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from portal.site import absolute_reverse

from . import calendar, links
from .models import Invitation, Occurrence
from .recurrence import describe

SUBJECTS = {
    "invitation": "Invitation: {title}",
    "update": "Updated: {title}",
    "reminder": "Starting soon: {title}",
    "cancel": "Cancelled: {title}",
}


def join_url(invitation: Invitation) -> str:
    return absolute_reverse("join", links.invitation_token(invitation))


def build_message(invitation: Invitation, kind: str, occurrence: Occurrence | None = None) -> EmailMultiAlternatives:
    meeting = invitation.meeting
    url = join_url(invitation)
    next_sitting = occurrence or meeting.occurrences.exclude(status__in=["ended", "cancelled"]).first()
    context = {"invitation": invitation, "meeting": meeting, "kind": kind, "join_url": url,
               "occurrence": next_sitting, "recurrence": describe(meeting.rrule), "timezone": invitation.timezone,
               "cancelled_one": kind == "cancel" and occurrence is not None}
    title = occurrence.title if occurrence else meeting.title
    message = EmailMultiAlternatives(
        subject=SUBJECTS[kind].format(title=" ".join(title.split())),  # titles saved before they had to be one line
        body=render_to_string("meetings/email/meeting.txt", context),
        to=[invitation.email],
        reply_to=[meeting.owner.email],
    )
    message.attach_alternative(render_to_string("meetings/email/meeting.html", context), "text/html")
    if kind == "cancel":
        ics, method = calendar.cancellation_ics(meeting, invitation=invitation, occurrence=occurrence), "CANCEL"
    else:
        ics, method = calendar.invitation_ics(meeting, invitation=invitation, join_url=url), "REQUEST"
    message.attach("invite.ics", ics, f"text/calendar; charset=utf-8; method={method}")
    return message
