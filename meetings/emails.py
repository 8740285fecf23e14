"""The emails invitees get: invitation, update, reminder and cancellation, each in HTML and plain
text with an iCalendar attachment carrying the person's own join link."""

from django.core.mail import EmailMultiAlternatives
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from accounts.i18n import language_of
from portal.mail import templated_email
from portal.site import absolute_reverse

from . import calendar, links
from .models import Invitation, Occurrence
from .recurrence import describe

SUBJECTS = {
    "invitation": _("Invitation: %(title)s"),
    "update": _("Updated: %(title)s"),
    "reminder": _("Starting soon: %(title)s"),
    "cancel": _("Cancelled: %(title)s"),
}


def join_url(invitation: Invitation) -> str:
    return absolute_reverse("join", links.invitation_token(invitation))


def build_message(invitation: Invitation, kind: str, occurrence: Occurrence | None = None) -> EmailMultiAlternatives:
    """The email in the invitee's language (their own, else the organization's), with the time in their zone
    and, when it differs, in the meeting's."""
    meeting = invitation.meeting
    with translation.override(language_of(invitation.user, meeting.organization)):
        url = join_url(invitation)
        next_sitting = occurrence or meeting.occurrences.exclude(status__in=["ended", "cancelled"]).first()
        context = {"invitation": invitation, "meeting": meeting, "organization": meeting.organization, "kind": kind,
                   "join_url": url, "occurrence": next_sitting, "recurrence": describe(meeting.rrule),
                   "timezone": invitation.timezone, "cancelled_one": kind == "cancel" and occurrence is not None}
        title = occurrence.title if occurrence else meeting.title
        # " ".join: titles saved before they had to be one line
        message = templated_email("meetings/email/meeting", context, to=invitation.email,
                                  subject=SUBJECTS[kind] % {"title": " ".join(title.split())},
                                  reply_to=[meeting.owner.email])
        if kind == "cancel":
            ics, method = calendar.cancellation_ics(meeting, invitation=invitation, occurrence=occurrence), "CANCEL"
        else:
            ics, method = calendar.invitation_ics(meeting, invitation=invitation, join_url=url), "REQUEST"
    message.attach("invite.ics", ics, f"text/calendar; charset=utf-8; method={method}")
    return message
