"""Reads for meetings: what a person sees on the dashboard and on a meeting's page."""

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from accounts.models import Membership

from .models import Invitation, Meeting, Occurrence

CLOSED = [Occurrence.Status.ENDED, Occurrence.Status.CANCELLED]


def meetings_for(*, organization, user, membership: Membership, everything: bool = False) -> QuerySet[Meeting]:
    """Meetings a person owns, co-hosts or is invited to; an admin may ask for all of them."""
    meetings = Meeting.objects.of(organization)
    if everything and membership.has_role(Membership.Role.ADMIN):
        return meetings
    return meetings.filter(
        Q(owner=user) | Q(co_hosts=user) | Q(invitations__user=user, invitations__revoked_at__isnull=True)
    ).distinct()


def upcoming_occurrences(meetings: QuerySet[Meeting], now) -> QuerySet[Occurrence]:
    return (Occurrence.objects.filter(meeting__in=meetings, end__gt=now).exclude(status=Occurrence.Status.ENDED)
            .select_related("meeting").order_by("start"))


def past_occurrences(meetings: QuerySet[Meeting], now) -> QuerySet[Occurrence]:
    return (Occurrence.objects.filter(meeting__in=meetings).filter(Q(end__lte=now) | Q(status=Occurrence.Status.ENDED))
            .select_related("meeting").order_by("-start"))


def invitees(meeting: Meeting) -> QuerySet[Invitation]:
    """A meeting's invitations, with whether each person is in the room now and, if so, the live
    state of their stay (kept by the built-in room's socket, or a provider's bridge and events)."""
    live = Q(sessions__ended_at__isnull=True)
    return (meeting.invitations.annotate(
        in_room=Count("sessions", filter=live),
        connection_lost=Count("sessions", filter=live & Q(sessions__connected=False,
                                                          sessions__disconnected_at__isnull=False)),
        mic_on=Count("sessions", filter=live & Q(sessions__audio_on=True)),
        camera_on=Count("sessions", filter=live & Q(sessions__video_on=True)),
        sharing=Count("sessions", filter=live & Q(sessions__screen_on=True)))
        .order_by("display_name", "pk"))


def invitee_state(invitation) -> str:
    """Where an invitee stands, as the API names it."""
    if invitation.revoked_at:
        return "revoked"
    if invitation.removed_at:
        return "removed"
    if getattr(invitation, "in_room", 0):
        if invitation.connection_lost:
            return "in the room · connection lost"
        devices = [name for name, on in (("mic on", invitation.mic_on), ("camera on", invitation.camera_on),
                                         ("sharing screen", invitation.sharing)) if on]
        return " · ".join(["in the room", *devices])
    if invitation.first_joined_at:
        return "joined"
    if invitation.first_opened_at:
        return "link opened"
    return "invited"


def invitee_state_in_words(invitation) -> str:
    """Where an invitee stands, in words for the meeting's page."""
    if invitation.revoked_at:
        return _("Link withdrawn")
    if invitation.removed_at:
        return _("Removed from the room")
    if getattr(invitation, "in_room", 0):
        if invitation.connection_lost:
            return _("In the room · connection lost")
        devices = [name for name, on in ((_("microphone on"), invitation.mic_on),
                                         (_("camera on"), invitation.camera_on),
                                         (_("sharing the screen"), invitation.sharing)) if on]
        return " · ".join([_("In the room"), *devices])
    if invitation.first_joined_at:
        return _("Joined earlier")
    if invitation.first_opened_at:
        return _("Opened the link")
    return _("Invited")
