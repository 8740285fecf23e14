"""Resolving a join link and joining: the checks, in the order DESIGN.md gives, each with its status.

Opening a link (the pre-join page) reads only; joining writes the join session. Both cost a fixed,
small number of queries whatever the size of the meeting.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, Count, F, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal import outbox

from .. import links, presence, realtime
from ..models import WATCHER_ROLES, Invitation, JoinLink, JoinSession, Kind, Meeting, Occurrence
from ..webhooks import events as webhook_events


class JoinDenied(Exception):
    """Why a link cannot be used now; `status` is the HTTP status (the Gcore access-check codes)."""

    TAMPERED = ("tampered", 403, _("This link is not valid"), _(
        "The link was changed or cut short. Open it again from your invitation email, or copy all of it."))
    UNKNOWN = ("unknown", 404, _("No such meeting link"), _(
        "This link does not belong to any meeting. Check that you copied all of it, or ask the host for a new one."))
    REVOKED = ("revoked", 401, _("This link was withdrawn"), _(
        "The host withdrew this link or sent you a newer one. Use the link from your latest invitation email, or "
        "ask the host."))
    REMOVED = ("removed", 401, _("You were removed from this meeting"), _(
        "A moderator removed you from this meeting. You can come back if a moderator lets you in again."))
    TOO_EARLY = ("too_early", 425, _("The meeting has not started yet"),
                 _("The link opens shortly before the meeting starts."))
    CANCELLED = ("cancelled", 423, _("This meeting was cancelled"), _("The host cancelled this meeting."))
    ENDED = ("ended", 423, _("This meeting has ended"), _("There is no upcoming sitting of this meeting."))
    EXPIRED = ("expired", 423, _("This link has expired"), _(
        "The time this link was valid for is over. Ask the host for a new one."))
    FULL = ("full", 423, _("The meeting is full"), _(
        "The meeting has as many people as it can hold. Try again when someone leaves."))

    def __init__(self, reason: tuple, *, link: JoinLink | None = None, starts_at: datetime | None = None):
        self.code, self.status, self.title, self.message = reason
        self.link = link
        self.starts_at = starts_at
        super().__init__(self.code)


def opens_before() -> timedelta:
    return timedelta(minutes=settings.JOIN_OPENS_MINUTES_BEFORE)


def _grace() -> timedelta:
    return timedelta(minutes=settings.JOIN_GRACE_MINUTES_AFTER)


def find_link(token: str) -> JoinLink:
    """The link for a token, with its invitation and meeting (one query)."""
    if not links.is_well_formed(token):
        raise JoinDenied(JoinDenied.TAMPERED)
    digest = links.token_hash(token)
    try:  # get(), not first(): a unique hash needs no ORDER BY, which cost a tenth of the pre-join page
        link = JoinLink.objects.select_related("invitation", "meeting", "meeting__organization").get(
            token_hash=digest)
    except JoinLink.DoesNotExist:
        link = None
    if link is None or not links.hashes_match(token, link.token_hash):
        raise JoinDenied(JoinDenied.UNKNOWN)
    return link


def sitting_for(meeting: Meeting, now: datetime) -> Occurrence | None:
    """The occurrence open for joining now, else the next one (one query)."""
    return (meeting.occurrences.filter(end__gt=now - _grace())
            .exclude(status__in=[Occurrence.Status.ENDED, Occurrence.Status.CANCELLED])
            .order_by("start").first())


@dataclass
class Admission:
    link: JoinLink
    invitation: Invitation | None  # None for an open viewer link until the person joins
    occurrence: Occurrence


def check(link: JoinLink, now: datetime) -> Admission:
    """Every check that does not need a count: link, revocation, window, meeting state."""
    invitation, meeting = link.invitation, link.meeting
    if link.revoked_at is not None or (invitation is not None and invitation.revoked_at is not None):
        raise JoinDenied(JoinDenied.REVOKED, link=link)
    if invitation is not None and invitation.removed_at is not None:
        raise JoinDenied(JoinDenied.REMOVED, link=link)
    if invitation is not None and invitation.valid_until is not None and now > invitation.valid_until:
        raise JoinDenied(JoinDenied.EXPIRED, link=link)
    if meeting.status == Meeting.Status.CANCELLED:
        raise JoinDenied(JoinDenied.CANCELLED, link=link)
    occurrence = sitting_for(meeting, now)
    if occurrence is None:
        raise JoinDenied(JoinDenied.ENDED, link=link)
    opens = occurrence.start - opens_before()
    if invitation is not None and invitation.valid_from is not None:
        opens = max(opens, invitation.valid_from)
    if now < opens:
        raise JoinDenied(JoinDenied.TOO_EARLY, link=link, starts_at=occurrence.start)
    return Admission(link=link, invitation=invitation, occurrence=occurrence)


def _check_capacity(admission: Admission, role: str, counts: dict) -> None:
    meeting, link = admission.link.meeting, admission.link
    if link.invitation is None and counts["open_link"] >= link.capacity:
        raise JoinDenied(JoinDenied.FULL, link=link)
    if role in WATCHER_ROLES and meeting.kind == Kind.WEBINAR:
        if meeting.max_watchers and counts["watchers"] - counts["mine_watching"] >= meeting.max_watchers:
            raise JoinDenied(JoinDenied.FULL, link=link)
    elif (meeting.max_broadcasters
          and counts["broadcasters"] - counts["mine_broadcasting"] >= meeting.max_broadcasters):
        raise JoinDenied(JoinDenied.FULL, link=link)


def join(admission: Admission, now: datetime, *, guest_name: str = "") -> tuple[JoinSession, str]:
    """Join the sitting `check` admitted to: a new join session, ending an earlier one of the same
    person. Returns the session and the secret the browser keeps for it.
    """
    for attempt in (1, 2):
        try:
            with transaction.atomic():  # the earlier stay ends only if the new one is made
                session, secret, taking_over = _join(admission, now, guest_name)
            break
        except IntegrityError:
            # Two joins of one link raced and the other one committed first; joining again takes it over,
            # as a second join always does.
            if attempt == 2:
                raise
    if taking_over:
        realtime.send_after_commit(realtime.invitation_group(session.invitation_id),
                                   {"type": "replaced", "keep": session.pk})
    return session, secret


def _join(admission: Admission, now: datetime, guest_name: str) -> tuple[JoinSession, str, bool]:
    link, invitation, occurrence = admission.link, admission.invitation, admission.occurrence
    role = invitation.role if invitation else "viewer"
    # First, and in every join: marks the sitting live and locks its row until commit, so joins of one
    # sitting count its people one after another and two cannot both take its last place. The join
    # that makes it live knows it did (meeting.started is emitted once).
    became_live = occurrence.status == Occurrence.Status.SCHEDULED and Occurrence.objects.filter(
        pk=occurrence.pk, status=Occurrence.Status.SCHEDULED).update(status=Occurrence.Status.LIVE)
    if not became_live:
        Occurrence.objects.filter(pk=occurrence.pk).update(status=Case(
            When(status=Occurrence.Status.SCHEDULED, then=Value(Occurrence.Status.LIVE)), default=F("status")))
    live = JoinSession.objects.filter(occurrence=occurrence, ended_at__isnull=True)
    watcher = Q(invitation__role__in=WATCHER_ROLES)
    mine = Q(invitation=invitation) if invitation else Q(pk__in=[])
    counts = live.aggregate(
        watchers=Count("pk", filter=watcher), broadcasters=Count("pk", filter=~watcher),
        mine_watching=Count("pk", filter=mine & watcher), mine_broadcasting=Count("pk", filter=mine & ~watcher),
        open_link=Count("pk", filter=Q(invitation__source=Invitation.Source.OPEN_LINK)))
    _check_capacity(admission, role, counts)
    taking_over = bool(counts["mine_watching"] or counts["mine_broadcasting"])

    if invitation is None:
        invitation = Invitation.objects.create(
            organization_id=link.organization_id, meeting=link.meeting, display_name=guest_name or "Guest",
            role="viewer", source=Invitation.Source.OPEN_LINK, timezone=link.meeting.timezone, first_joined_at=now)
    elif taking_over:
        # The same link joined again: this join takes over and the earlier page is told why.
        JoinSession.objects.filter(invitation=invitation, ended_at__isnull=True).update(
            ended_at=now, end_reason=JoinSession.EndReason.REPLACED, connected=False)
    if invitation.first_joined_at is None:
        Invitation.objects.filter(pk=invitation.pk, first_joined_at__isnull=True).update(first_joined_at=now)

    secret = links.new_session_key()
    admitted = not link.meeting.waiting_room or invitation.is_moderating
    session = JoinSession.objects.create(
        organization_id=link.organization_id, invitation=invitation, occurrence=occurrence,
        key_hash=links.token_hash(secret), admitted=admitted, started_at=now)
    _emit_joined(session, invitation, occurrence, link.meeting, became_live=bool(became_live))
    return session, secret, taking_over


def _emit_joined(session, invitation, occurrence, meeting, *, became_live: bool) -> None:
    if became_live:
        occurrence.status = Occurrence.Status.LIVE
        webhook_events.emit(meeting.organization_id, "meeting.started",
                            lambda: webhook_events.meeting_data(meeting, occurrence))
    webhook_events.emit(meeting.organization_id, "participant.joined", lambda: {
        **webhook_events.participant_data(meeting, invitation, occurrence=occurrence, at=session.started_at),
        "source": "portal"})


def sessions_left(session_ids) -> None:
    """participant.left for stays that just ended (read back, so each says when and why)."""
    if not session_ids:
        return
    sessions = (JoinSession.objects.filter(pk__in=list(session_ids), ended_at__isnull=False)
                .select_related("invitation", "occurrence__meeting__room", "occurrence__meeting__owner"))
    organization_ids = {s.organization_id for s in sessions}
    if not any(webhook_events.wants(pk, "participant.left") for pk in organization_ids):
        return
    for stay in sessions:
        meeting = stay.occurrence.meeting
        webhook_events.emit(stay.organization_id, "participant.left", {
            **webhook_events.participant_data(meeting, stay.invitation, occurrence=stay.occurrence,
                                              at=stay.ended_at, reason=stay.end_reason),
            "source": "portal"})


def session_belongs_to(session: JoinSession, link: JoinLink) -> bool:
    """A session opened through this link (an open viewer link's guests have their own invitations)."""
    if link.invitation_id:
        return session.invitation_id == link.invitation_id
    return session.invitation.meeting_id == link.meeting_id and session.invitation.source == Invitation.Source.OPEN_LINK


def end_session(session: JoinSession, reason: str) -> None:
    """End a stay now and tell its pages why."""
    ended = JoinSession.objects.filter(pk=session.pk, ended_at__isnull=True).update(
        ended_at=timezone.now(), end_reason=reason, connected=False)
    if ended:
        realtime.send_after_commit(realtime.session_group(session.pk), {"type": "ended", "reason": reason})
        presence.announce([session.pk])
        if webhook_events.wants(session.organization_id, "participant.left"):
            sessions_left([session.pk])


def remove_from_room(session: JoinSession) -> None:
    """A moderator removes someone: their link answers 401 until a moderator lets them back."""
    Invitation.objects.filter(pk=session.invitation_id).update(removed_at=timezone.now())
    end_session(session, JoinSession.EndReason.REMOVED)
    presence.announce_removed(session.occurrence.meeting_id)
    tell_hosted_provider(session.occurrence.meeting, "remove", session.invitation_id)


def tell_hosted_provider(meeting: Meeting, action: str, invitation_id: int | None = None) -> None:
    """After commit, have a worker carry "remove" or "close" into a hosted provider's live room."""
    if meeting.provider == "builtin" or meeting.provider_account_id is None:
        return
    from ..tasks import tell_provider

    outbox.enqueue(tell_provider, meeting.pk, action, invitation_id)


def session_for_secret(secret: str) -> JoinSession | None:
    if not secret or len(secret) > 100:
        return None
    return (JoinSession.objects.select_related("invitation", "occurrence", "occurrence__meeting")
            .filter(key_hash=links.token_hash(secret)).first())


def leave(session: JoinSession) -> None:
    end_session(session, JoinSession.EndReason.LEFT)


def mark_opened(link: JoinLink) -> None:
    """The pre-join page was seen in a browser (its script reports it; mail previewers run none)."""
    if link.invitation_id:
        opened = Invitation.objects.filter(pk=link.invitation_id, first_opened_at__isnull=True).update(
            first_opened_at=timezone.now())
        if opened and webhook_events.wants(link.organization_id, "invitation.opened"):
            invitation = Invitation.objects.select_related("meeting__room", "meeting__owner").get(pk=link.invitation_id)
            webhook_events.emit(link.organization_id, "invitation.opened", {
                **webhook_events.meeting_data(invitation.meeting),
                "invitation": webhook_events.invitation_data(invitation), "at": invitation.first_opened_at})


# The room page pings every 15 s: a socket silent this long has died without a word.
SOCKET_SILENT_AFTER = timedelta(seconds=60)


def socket_seen(session_id: int) -> None:
    """The stay's room socket is alive now (it connected, or it pinged)."""
    JoinSession.objects.filter(pk=session_id, ended_at__isnull=True).update(
        connected=True, disconnected_at=None, last_seen_at=timezone.now())


def end_abandoned_sessions(*, grace: timedelta, silent_after: timedelta = SOCKET_SILENT_AFTER) -> int:
    """Stays whose room page dropped and did not come back within the grace have left, at the moment
    they dropped. A socket that stopped pinging without disconnecting (its handler never ran: a
    crash, a killed process) dropped when it was last seen."""
    now = timezone.now()
    silent = JoinSession.objects.filter(ended_at__isnull=True, connected=True, last_seen_at__lt=now - silent_after)
    dropped = set(silent.values_list("pk", flat=True))
    silent.update(connected=False, disconnected_at=F("last_seen_at"))  # a ping in between wins
    abandoned = JoinSession.objects.filter(ended_at__isnull=True, connected=False, disconnected_at__lt=now - grace)
    leaving = list(abandoned.values_list("pk", flat=True))
    count = JoinSession.objects.filter(pk__in=leaving, ended_at__isnull=True, connected=False).update(
        ended_at=F("disconnected_at"), end_reason=JoinSession.EndReason.LEFT)
    sessions_left(leaving)
    presence.announce(dropped | set(leaving))
    return count


# What an embedded provider room's bridge reports about the person's own connection and devices.
# "readyToJoin" only says the room can be joined now (the room page then calls the bridge's "join").
BRIDGE_CONNECTED = {"join"}
BRIDGE_DISCONNECTED = {"peerClosed", "connectionFailed", "connectionClosed", "disconnected"}
BRIDGE_DEVICES = {"switchOnCamera": ("video_on", True), "switchOffCamera": ("video_on", False),
                  "switchOnMic": ("audio_on", True), "switchOffMic": ("audio_on", False),
                  "switchOnShare": ("screen_on", True), "switchOffShare": ("screen_on", False)}
BRIDGE_EVENTS = BRIDGE_CONNECTED | BRIDGE_DISCONNECTED | set(BRIDGE_DEVICES)


def apply_bridge_event(session: JoinSession, event: str, peer_id: str = "") -> bool:
    """Move the live state of one's own join session from the provider iframe's bridge. Each page
    reports only its own person: events about another peer are ignored (theirs reports them)."""
    if event not in BRIDGE_EVENTS or session.ended_at or (peer_id and peer_id != session.invitation.peer_id):
        return False
    live = JoinSession.objects.filter(pk=session.pk, ended_at__isnull=True)
    if event in BRIDGE_CONNECTED:
        live.update(connected=True, disconnected_at=None)
    elif event in BRIDGE_DISCONNECTED:
        # Beat ends the stay at this moment if the page does not come back within the grace.
        live.filter(connected=True).update(connected=False, disconnected_at=timezone.now())
    else:
        field, value = BRIDGE_DEVICES[event]
        live.update(**{field: value})
    return True
