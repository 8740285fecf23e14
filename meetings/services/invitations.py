"""Invitations: invite people, import a list, change roles, revoke and re-issue links."""

import csv
import io
import logging
from dataclasses import dataclass, field
from email.utils import getaddresses
from functools import partial

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from portal import outbox
from portal.validators import validate_single_line

from .. import links, presence, realtime
from ..models import INTERPRETATION_LANGUAGES, ROLES_BY_KIND, Invitation, JoinLink, JoinSession, Meeting, Role
from ..providers import get_provider
from ..providers.base import ProviderError
from . import joining

logger = logging.getLogger(__name__)
BULK_BATCH = 500  # rows per INSERT in a bulk import

LANGUAGE_CODES = {code for code, _ in INTERPRETATION_LANGUAGES}
MAX_IMPORT_ROWS = 5000  # an import is a few batched statements however long (bench/bulk_invite.py)


def default_role(meeting: Meeting) -> str:
    return Role.VIEWER if meeting.kind == "webinar" else Role.PARTICIPANT


def _check_role(meeting: Meeting, role: str, language: str) -> None:
    if role not in ROLES_BY_KIND[meeting.kind]:
        allowed = ", ".join(ROLES_BY_KIND[meeting.kind])
        raise ValidationError(_("%(role)s is not a role in this meeting; use one of %(allowed)s.")
                              % {"role": repr(role), "allowed": allowed})
    if role == Role.INTERPRETER and language not in LANGUAGE_CODES:
        codes = ", ".join(f"{code} ({name})" for code, name in INTERPRETATION_LANGUAGES)
        raise ValidationError(_("An interpreter needs the language they speak into, as one of these codes: "
                                "%(codes)s.") % {"codes": codes})


NAME_LENGTH = Invitation._meta.get_field("display_name").max_length
EMAIL_LENGTH = Invitation._meta.get_field("email").max_length


def fitted_name(name: str) -> str:
    """A name taken from a profile or an address, cut to what an invitation holds."""
    return name if len(name) <= NAME_LENGTH else name[:NAME_LENGTH - 1] + "…"


def _check_name(name: str) -> None:
    if len(name) > NAME_LENGTH:
        raise ValidationError(_("A name has at most %(count)d characters.") % {"count": NAME_LENGTH})
    validate_single_line(name)


def _issue_link(invitation: Invitation) -> str:
    token = links.invitation_token(invitation)
    JoinLink.objects.create(organization_id=invitation.organization_id, meeting_id=invitation.meeting_id,
                            invitation=invitation, token_hash=links.token_hash(token),
                            generation=invitation.link_generation)
    return token


def _queue_email(invitation: Invitation, kind: str = "invitation") -> None:
    from ..tasks import send_meeting_email

    Invitation.objects.filter(pk=invitation.pk).update(email_status=Invitation.EmailStatus.QUEUED, email_error="")
    outbox.enqueue(send_meeting_email, invitation.pk, kind, None)


def _new_invitation(meeting, email, display_name, role, language, user, invited_by) -> Invitation:
    """An unsaved invitation, its name and time zone taken from the person's account when they have one."""
    return Invitation(
        organization=meeting.organization, meeting=meeting, user=user, email=email,
        display_name=display_name or fitted_name(user.display_name if user else email.split("@")[0]),
        role=role, language=language if role == Role.INTERPRETER else "",
        timezone=(user.timezone if user and user.timezone else meeting.organization.timezone),
        invited_by=invited_by)


def invitation_create(*, meeting: Meeting, email: str, display_name: str = "", role: str = "",
                      language: str = "", invited_by=None, send_email: bool = True) -> tuple[Invitation, str]:
    """Invite one person; returns the invitation and its link token (shown to the host once)."""
    email = User.objects.normalize_email(email)
    if len(email) > EMAIL_LENGTH:
        raise ValidationError(_("An address has at most %(count)d characters.") % {"count": EMAIL_LENGTH})
    validate_email(email)
    role = role or default_role(meeting)
    _check_role(meeting, role, language)
    _check_name(display_name)
    if meeting.invitations.filter(email=email).exists():
        raise ValidationError(_("%(email)s is already invited.") % {"email": email})
    user = User.objects.filter(email=email, memberships__organization=meeting.organization).first()
    with transaction.atomic():
        invitation = _new_invitation(meeting, email, display_name, role, language, user, invited_by)
        invitation.save()
        token = _issue_link(invitation)
        if send_email:
            _queue_email(invitation)
    return invitation, token


@dataclass
class ImportRow:
    line: int
    email: str
    name: str = ""
    role: str = ""
    language: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return not self.problems

    @property
    def role_label(self) -> str:
        """The role in words, or as typed when it is not one."""
        return dict(Role.choices).get(self.role, self.role)


def parse_csv(data: bytes) -> list[ImportRow]:
    """Rows of a CSV with the columns email, name, role, language (header row required; order free)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(_("The file is not UTF-8 text. Save it as CSV (UTF-8) and upload it again.")) from None
    reader = csv.DictReader(io.StringIO(text))
    columns = {name.strip().lower(): name for name in (reader.fieldnames or [])}
    if "email" not in columns:
        raise ValidationError(_("The first row must name the columns: email, name, role, language."))
    rows = []
    for number, record in enumerate(reader, start=2):
        def value(column, record=record):
            return (record.get(columns[column]) or "").strip() if column in columns else ""
        if not any((v or "").strip() for v in record.values() if isinstance(v, str)):
            continue  # blank line
        rows.append(ImportRow(line=number, email=value("email"), name=value("name"),
                              role=value("role").lower(), language=value("language").lower()))
    return rows


def parse_pasted(text: str, role: str, language: str = "") -> list[ImportRow]:
    """Addresses pasted one per line or separated by commas or semicolons; "Name <address>" works."""
    entries = [part for line in text.splitlines() for part in line.replace(";", ",").split(",") if part.strip()]
    rows = []
    for number, entry in enumerate(entries, start=1):
        name, address = getaddresses([entry])[0]
        rows.append(ImportRow(line=number, email=address or entry.strip(), name=name, role=role, language=language))
    return rows


def invitations_import(*, meeting: Meeting, rows: list[ImportRow], invited_by) -> tuple[list[ImportRow], bool]:
    """Check every row; import all of them, or none when any row is refused. Returns (report, imported)."""
    if len(rows) > MAX_IMPORT_ROWS:
        raise ValidationError(_("At most %(count)d people at once.") % {"count": MAX_IMPORT_ROWS})
    if not rows:
        raise ValidationError(_("There is nobody to invite in what you gave."))
    already = set(meeting.invitations.values_list("email", flat=True))
    seen: dict[str, int] = {}
    for row in rows:
        row.email = User.objects.normalize_email(row.email)
        row.role = row.role or default_role(meeting)
        try:
            validate_email(row.email)
        except ValidationError:
            row.problems.append(_("not a valid email address"))
        try:
            _check_role(meeting, row.role, row.language)
        except ValidationError as error:
            row.problems.extend(error.messages)
        try:
            _check_name(row.name)
        except ValidationError as error:
            row.problems.extend(error.messages)
        if len(row.email) > EMAIL_LENGTH:
            row.problems.append(_("an address has at most %(count)d characters") % {"count": EMAIL_LENGTH})
        if row.email in already:
            row.problems.append(_("already invited"))
        if row.email in seen:
            row.problems.append(_("also on line %(line)d") % {"line": seen[row.email]})
        seen.setdefault(row.email, row.line)
    if any(row.problems for row in rows):
        return rows, False
    _create_in_bulk(meeting, rows, invited_by)
    return rows, True


def _create_in_bulk(meeting: Meeting, rows: list[ImportRow], invited_by) -> None:
    """Every row's invitation, link and queued email in a few statements, however many rows: a
    5,000-row list costs the same handful of queries as a 5-row one (batched inserts)."""
    from ..tasks import send_meeting_email

    users = {user.email: user for user in User.objects.filter(
        email__in=[row.email for row in rows], memberships__organization=meeting.organization)}
    invitations = [_new_invitation(meeting, row.email, row.name, row.role, row.language, users.get(row.email),
                                   invited_by) for row in rows]
    for invitation in invitations:
        invitation.email_status = Invitation.EmailStatus.QUEUED
    try:
        with transaction.atomic():
            Invitation.objects.bulk_create(invitations, batch_size=BULK_BATCH)
            JoinLink.objects.bulk_create([
                JoinLink(organization_id=meeting.organization_id, meeting=meeting, invitation=invitation,
                         token_hash=links.token_hash(links.invitation_token(invitation)),
                         generation=invitation.link_generation) for invitation in invitations], batch_size=BULK_BATCH)
            outbox.enqueue_many(send_meeting_email, [[invitation.pk, "invitation", None] for invitation in invitations])
    except IntegrityError:  # someone invited one of them in the meantime: the list goes in whole or not at all
        raise ValidationError(_("Some of these people were invited at the same moment; send the list again.")) from None


def invitation_change_role(*, invitation: Invitation, role: str, language: str = "") -> Invitation:
    meeting = invitation.meeting
    if not meeting.occurrences.exclude(status__in=["ended", "cancelled"]).exists():
        raise ValidationError(_("The meeting has ended; roles can no longer change."))
    _check_role(meeting, role, language)
    invitation.role = role
    invitation.language = language if role == Role.INTERPRETER else ""
    invitation.save(update_fields=["role", "language"])
    transaction.on_commit(partial(_role_reaches_room, invitation))
    # A built-in room's socket holds the rights it connected with: it takes the new ones and its page
    # reloads (the server stops sending a demoted moderator's page the waiting and removed lists).
    realtime.send_after_commit(realtime.invitation_group(invitation.pk), {"type": "rights"})
    return invitation


def _role_reaches_room(invitation: Invitation) -> None:
    """Someone in the provider's room gets the new role's rights now, not at their next join."""
    meeting = invitation.meeting
    if meeting.provider_account_id is None or not invitation.sessions.filter(
            ended_at__isnull=True, started_at__lte=timezone.now()).exists():
        return
    try:
        get_provider(meeting.provider, meeting.provider_account).role_changed(meeting=meeting, invitation=invitation)
    except ProviderError as error:  # their next join carries the new rights anyway
        logger.warning("The new role of an invitee of meeting %s did not reach the provider's room yet: %s",
                       meeting.code, error)


def _end_sessions(invitation: Invitation, reason: str) -> None:
    live = JoinSession.objects.filter(invitation=invitation, ended_at__isnull=True)
    leaving = list(live.values_list("pk", flat=True))
    live.update(ended_at=timezone.now(), end_reason=reason, connected=False)
    joining.sessions_left(leaving)
    realtime.send_after_commit(realtime.invitation_group(invitation.pk), {"type": "ended", "reason": reason})
    presence.announce(leaving)


def invitation_revoke(*, invitation: Invitation) -> None:
    now = timezone.now()
    with transaction.atomic():
        invitation.revoked_at = now
        invitation.save(update_fields=["revoked_at"])
        JoinLink.objects.filter(invitation=invitation, revoked_at__isnull=True).update(revoked_at=now)
        _end_sessions(invitation, JoinSession.EndReason.REMOVED)
        joining.tell_hosted_provider(invitation.meeting, "remove", invitation.pk)


def invitation_remove_from_room(*, invitation: Invitation) -> bool:
    """Take someone out of the room now; their link answers 401 until they are let back in."""
    session = invitation.sessions.filter(ended_at__isnull=True).select_related("occurrence__meeting").first()
    with transaction.atomic():
        if session is not None:
            joining.remove_from_room(session)
        else:  # not in the portal's view of the room, but maybe still connected at the provider
            Invitation.objects.filter(pk=invitation.pk).update(removed_at=timezone.now())
            joining.tell_hosted_provider(invitation.meeting, "remove", invitation.pk)
    return session is not None


def invitation_readmit(*, invitation: Invitation) -> None:
    Invitation.objects.filter(pk=invitation.pk).update(removed_at=None)
    presence.announce_removed(invitation.meeting_id)


def invitation_reissue(*, invitation: Invitation, send_email: bool = True) -> str:
    """A new link for the same person (same peer id); the old link stops working."""
    with transaction.atomic():
        JoinLink.objects.filter(invitation=invitation, revoked_at__isnull=True).update(revoked_at=timezone.now())
        invitation.link_generation += 1
        invitation.revoked_at = None
        invitation.save(update_fields=["link_generation", "revoked_at"])
        token = _issue_link(invitation)
        if send_email and invitation.email:
            _queue_email(invitation)
    return token


def invitation_resend(*, invitation: Invitation) -> None:
    _queue_email(invitation)


OPEN_LINK_CEILING = 100_000


def open_link_most(meeting: Meeting) -> int:
    """The most viewers an open link may promise: what the provider holds, and the meeting's own limit."""
    limits = [OPEN_LINK_CEILING, get_provider(meeting.provider).capabilities.max_watchers or OPEN_LINK_CEILING]
    if meeting.max_watchers:
        limits.append(meeting.max_watchers)
    return min(limits)


def open_link_create(*, meeting: Meeting, capacity: int) -> str:
    """One open viewer link for a webinar; creating a new one revokes the previous one."""
    if meeting.kind != "webinar":
        raise ValidationError(_("Only webinars have an open viewer link."))
    if capacity < 1:
        raise ValidationError(_("Give the open link a capacity of at least 1."))
    most = open_link_most(meeting)
    if capacity > most:
        raise ValidationError(_("This webinar holds at most %(most)s viewers at once (its video provider's and "
                                "its own limit), so the open link cannot promise %(capacity)s.")
                              % {"most": most, "capacity": capacity})
    with transaction.atomic():
        previous = JoinLink.objects.filter(meeting=meeting, invitation__isnull=True)
        latest = previous.aggregate(latest=Max("generation"))["latest"]
        generation = 0 if latest is None else latest + 1
        previous.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        token = links.open_link_token(meeting, generation)
        JoinLink.objects.create(organization=meeting.organization, meeting=meeting, token_hash=links.token_hash(token),
                                generation=generation, capacity=capacity)
    return token


def open_link_revoke(*, meeting: Meeting) -> None:
    JoinLink.objects.filter(meeting=meeting, invitation__isnull=True, revoked_at__isnull=True).update(
        revoked_at=timezone.now())
