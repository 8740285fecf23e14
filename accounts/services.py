"""Writes for organizations and memberships. Views, admin and tasks call these; nothing else writes."""

import base64
import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.crypto import salted_hmac
from django.utils.timezone import now
from django.utils.translation import gettext as _

from portal import outbox

from .models import Membership, MembershipInvitation, Organization, User

Role = Membership.Role


def organization_create(*, name: str, slug: str, owner: User, timezone: str = "UTC") -> Organization:
    with transaction.atomic():
        organization = Organization.objects.create(name=name, slug=slug, timezone=timezone)
        Membership.objects.create(organization=organization, user=owner, role=Role.OWNER)
    return organization


def _check_may_manage(actor: Membership, target_role: str, new_role: str | None = None) -> None:
    if not actor.can_manage_members:
        raise PermissionDenied(_("Only owners and admins manage members."))
    touches_owner = Role.OWNER in (target_role, new_role)
    if touches_owner and actor.role != Role.OWNER:
        raise PermissionDenied(_("Only an owner can grant or take away the owner role."))


def _lock_owners(organization: Organization) -> list[Membership]:
    """Lock the organization's owner rows so two admins cannot remove the last two owners at once."""
    return list(Membership.objects.select_for_update().of(organization).filter(role=Role.OWNER))


INVITATION_DAYS = 14


def membership_add(*, organization: Organization, email: str, role: str, added_by: Membership | None,
                   full_name: str = "") -> Membership | MembershipInvitation:
    """Add a person by email. A new address gets an account, the membership and a set-password link.
    An account the portal already has is never attached silently (it may belong to other
    organizations): it gets an invitation to accept, and this returns that invitation."""
    if added_by is not None:
        _check_may_manage(added_by, Role.MEMBER, role)
    email = User.objects.normalize_email(email)
    with transaction.atomic():
        user = User.objects.select_for_update().filter(email=email).first()
        if user is not None:
            if Membership.objects.of(organization).filter(user=user).exists():
                raise ValidationError(_("%(email)s is already a member of %(name)s.") % {"email": email,
                                                                                           "name": organization.name})
            return _invite_existing_account(organization, email, role, added_by)
        user = User.objects.create_user(email, full_name=full_name)
        membership = Membership.objects.create(organization=organization, user=user, role=role)
        from .tasks import send_member_added_email

        outbox.enqueue(send_member_added_email, membership.pk)
    return membership


def _invite_existing_account(organization, email, role, added_by) -> MembershipInvitation:
    from .tasks import send_membership_invitation_email

    MembershipInvitation.objects.of(organization).filter(email=email, accepted_at__isnull=True).delete()
    invitation = MembershipInvitation(organization=organization, email=email, role=role,
                                      invited_by=added_by.user if added_by else None,
                                      expires_at=now() + timedelta(days=INVITATION_DAYS))
    invitation.token_hash = _hash(membership_invitation_token(invitation))
    invitation.save()
    outbox.enqueue(send_membership_invitation_email, invitation.pk)
    return invitation


def membership_invitation_token(invitation: MembershipInvitation) -> str:
    """Derived from the invitation's random code with a key of SECRET_KEY, so neither the database nor
    the task queue holds a usable link."""
    digest = salted_hmac("membership-invitation", invitation.code, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def membership_invitation_for_token(token: str) -> MembershipInvitation | None:
    return (MembershipInvitation.objects.select_related("organization")
            .filter(token_hash=_hash(token[:200])).first())


def membership_invitation_accept(*, invitation: MembershipInvitation, user: User) -> Membership:
    """The signed-in person accepts: they hold the link sent to the address, and are that account."""
    if not invitation.is_open:
        raise ValidationError(_("This invitation has expired or was already used. Ask for a new one."))
    if user.email != invitation.email:
        raise PermissionDenied(_("This invitation is for %(email)s. Sign in as that account to accept it.")
                               % {"email": invitation.email})
    with transaction.atomic():
        locked = MembershipInvitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.accepted_at is not None:
            raise ValidationError(_("This invitation was already used."))
        membership, _created = Membership.objects.get_or_create(organization=invitation.organization, user=user,
                                                         defaults={"role": invitation.role})
        locked.accepted_at = now()
        locked.save(update_fields=["accepted_at"])
    return membership


def membership_change_role(*, membership: Membership, role: str, changed_by: Membership | None) -> Membership:
    if role not in Role.values:
        raise ValidationError(_("Unknown role %(role)r.") % {"role": role})
    if changed_by is not None:
        _check_may_manage(changed_by, membership.role, role)
    with transaction.atomic():
        owners = _lock_owners(membership.organization)
        if membership.role == Role.OWNER and role != Role.OWNER and len(owners) <= 1:
            raise ValidationError(_("An organization keeps at least one owner: make someone else owner first."))
        membership.role = role
        membership.save(update_fields=["role"])
    return membership


def membership_remove(*, membership: Membership, removed_by: Membership | None) -> None:
    if removed_by is not None and removed_by.pk != membership.pk:
        _check_may_manage(removed_by, membership.role)
    with transaction.atomic():
        owners = _lock_owners(membership.organization)
        if membership.role == Role.OWNER and len(owners) <= 1:
            raise ValidationError(_("An organization keeps at least one owner: make someone else owner first."))
        membership.delete()


class SignInRefused(Exception):
    """Sign-in stops here; the message is shown to the person as it is."""


def _verified_email(claims: dict) -> str | None:
    if claims.get("email_verified") in (True, "true") and claims.get("email"):
        return User.objects.normalize_email(claims["email"])
    return None


def _in_allowed_domains(identity_provider, email: str | None) -> bool:
    """An identity provider speaks for the addresses of its organization's allowed domains only."""
    return email is not None and email.rsplit("@", 1)[-1] in identity_provider.email_domains()


def _belongs_elsewhere(user: User, organization: Organization) -> bool:
    return user.is_staff or user.memberships.exclude(organization=organization).exists()


def _user_for_new_identity(identity_provider, email: str | None) -> User:
    """Link a first sign-in to a user the portal already has, or create one when allowed.

    An existing account is linked by email only when it belongs to no other organization and is not
    an operator: otherwise one organization's identity provider could claim another's people. A new
    account is made only for an address of the organization's allowed domains, so an identity
    provider cannot reserve another organization's addresses.
    """
    organization = identity_provider.organization
    if email is None:
        raise SignInRefused(_("Your identity provider did not share a verified email address, "
                              "so the portal cannot create or find your account."))
    existing = User.objects.filter(email=email).first()
    if existing is None:
        if not identity_provider.provision_unknown_users:
            raise SignInRefused(_("You are not a member of %(name)s. Ask one of its admins to add you.")
                                % {"name": organization.name})
        if not _in_allowed_domains(identity_provider, email):
            raise SignInRefused(_("%(name)s creates accounts at first sign-in only for its own email "
                                  "domains. Ask one of its admins to add you.") % {"name": organization.name})
        return User.objects.create_user(email)
    privileged = existing.memberships.filter(organization=organization, role__in=(Role.OWNER, Role.ADMIN))
    if _belongs_elsewhere(existing, organization) or existing.oidc_identities.exists() or privileged.exists():
        # Owners and admins are linked by an operator: whoever controls the identity provider's
        # configuration would otherwise sign in as them.
        raise SignInRefused(_("An account with your email address already exists and cannot be linked "
                              "automatically. Ask an operator to link it."))
    return existing


def _sync_membership(identity_provider, user: User, groups: list[str]) -> Membership:
    organization = identity_provider.organization
    mapped_role = identity_provider.role_for_groups(groups) if identity_provider.group_roles else None
    membership = Membership.objects.of(organization).filter(user=user).first()
    if membership is None:
        if not identity_provider.provision_unknown_users:
            raise SignInRefused(_("You are not a member of %(name)s. Ask one of its admins to add you.")
                                % {"name": organization.name})
        return Membership.objects.create(organization=organization, user=user, role=mapped_role or Role.MEMBER)
    if identity_provider.group_roles and membership.role != Role.OWNER:  # owners change only by an owner
        wanted = mapped_role or Role.MEMBER
        if membership.role != wanted:
            try:
                membership_change_role(membership=membership, role=wanted, changed_by=None)
            except ValidationError:
                pass  # the last owner stays owner whatever the groups say
    return membership


def oidc_sign_in(*, identity_provider, claims: dict) -> tuple[User, Membership]:
    """The user and membership for verified ID-token claims, creating or updating them as the
    identity provider's settings allow. Raises SignInRefused with a message for the person."""
    from django.utils import timezone

    from .models import OIDCIdentity

    email = _verified_email(claims)
    domains = identity_provider.email_domains()
    if domains and (email is None or email.rsplit("@", 1)[-1] not in domains):
        raise SignInRefused(_("Your identity provider did not confirm an email address of a domain allowed "
                              "for %(name)s (%(domains)s).") % {"name": identity_provider.organization.name,
                                                               "domains": ", ".join(domains)})
    groups = claims.get(identity_provider.groups_claim, []) if identity_provider.groups_claim else []
    if isinstance(groups, str):
        groups = [groups]

    with transaction.atomic():
        identity = (OIDCIdentity.objects.select_for_update().select_related("user")
                    .filter(issuer=identity_provider.issuer, subject=claims["sub"]).first())
        if identity is None:
            user = _user_for_new_identity(identity_provider, email)
            identity = OIDCIdentity(user=user, issuer=identity_provider.issuer, subject=claims["sub"])
        user = identity.user
        if not user.is_active:
            raise SignInRefused(_("Your account is disabled. Contact your organization's admins."))
        membership = _sync_membership(identity_provider, user, groups)

        changed = []
        name = " ".join(str(claims.get("name") or "").split())[:User._meta.get_field("full_name").max_length]
        if name and name != user.full_name:
            user.full_name, changed = name, changed + ["full_name"]
        if (email and email != user.email and _in_allowed_domains(identity_provider, email)
                and not _belongs_elsewhere(user, identity_provider.organization)
                and not User.objects.filter(email=email).exists()):
            user.email, changed = email, changed + ["email"]
        if changed:
            user.save(update_fields=changed)
        identity.last_login_at = timezone.now()
        identity.save()
    return user, membership


def organization_update(*, organization: Organization, name: str, timezone: str, default_locale: str) -> Organization:
    organization.name, organization.timezone, organization.default_locale = name, timezone, default_locale
    organization.save(update_fields=["name", "timezone", "default_locale"])
    return organization


def describe_oidc_sign_in(*, identity_provider, claims: dict) -> dict:
    """What oidc_sign_in would do with these verified claims, for an owner's test sign-in: reads only,
    so nobody is signed in, created, linked or given a role."""
    from .models import OIDCIdentity

    email = _verified_email(claims)
    raw_groups = claims.get(identity_provider.groups_claim, []) if identity_provider.groups_claim else []
    if isinstance(raw_groups, str):
        raw_groups = [raw_groups]
    groups = [g for g in raw_groups if isinstance(g, str)] if isinstance(raw_groups, list) else []
    mapped = identity_provider.role_for_groups(groups) if identity_provider.group_roles else None
    role = mapped or Role.MEMBER
    domains = identity_provider.email_domains()
    identity = (OIDCIdentity.objects.select_related("user")
                .filter(issuer=identity_provider.issuer, subject=claims.get("sub")).first())
    organization = identity_provider.organization
    user = identity.user if identity else User.objects.filter(email=email).first() if email else None
    membership = Membership.objects.of(organization).filter(user=user).first() if user else None
    refusal = None
    if domains and (email is None or email.rsplit("@", 1)[-1] not in domains):
        refusal = _("No verified email address of an allowed domain (%(domains)s).") % {"domains": ", ".join(domains)}
    elif identity is None and email is None:
        refusal = _("No verified email address, so the portal cannot find or create the account.")
    elif membership is None and not identity_provider.provision_unknown_users:
        refusal = _("This person is not a member, and unknown people are not added at sign-in.")
    elif user is None and not _in_allowed_domains(identity_provider, email):
        refusal = _("Accounts are created at first sign-in only for addresses of the allowed email domains, "
                    "and none are set.")
    elif identity is None and user is not None and (
            _belongs_elsewhere(user, organization) or user.oidc_identities.exists()
            or (membership is not None and membership.is_admin)):
        refusal = _("An account with this email exists and would not be linked automatically: an operator links it.")
    if membership is not None and (membership.role == Role.OWNER or not identity_provider.group_roles):
        role = membership.role  # owners keep their role; without a mapping roles are not taken from groups
    return {
        "issuer": identity_provider.issuer, "subject": claims.get("sub", ""), "email": claims.get("email", ""),
        "email_verified": claims.get("email_verified") in (True, "true"), "name": claims.get("name", ""),
        "groups": groups, "mapped_role": mapped, "role": Membership.Role(role).label,
        "existing_account": user.email if user else None, "refusal": refusal,
    }


# --- Members in bulk -------------------------------------------------------------------------------

MAX_BULK_MEMBERS = 1000
EMAIL_LENGTH = User._meta.get_field("email").max_length
NAME_LENGTH = 120
_NAMED_ADDRESS = re.compile(r"(?P<name>.*?)\s*<(?P<email>[^<>]*)>")


@dataclass
class MemberRow:
    """One person of a pasted list or CSV, with what is wrong with it, and what adding it did."""
    line: int
    email: str
    name: str = ""
    role: str = ""
    problems: list[str] = field(default_factory=list)
    outcome: str = ""

    @property
    def accepted(self) -> bool:
        return not self.problems

    @property
    def role_label(self) -> str:
        """The role in words, or as typed when it is not one."""
        return dict(Membership.Role.choices).get(self.role, self.role)


def parse_member_lines(text: str) -> list[MemberRow]:
    """One person per line: `email`, `Name <email>`, either followed by `, role`."""
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        role = ""
        head, comma, tail = line.rpartition(",")
        if comma and "@" not in tail and "<" not in tail:
            line, role = head.strip(), tail.strip().lower()
        name, email = "", line
        if match := _NAMED_ADDRESS.fullmatch(line):
            name, email = match["name"].strip().strip('"').strip(), match["email"].strip()
        rows.append(MemberRow(line=number, email=email, name=name, role=role))
    return rows


def parse_member_csv(data: bytes) -> list[MemberRow]:
    """Rows of a CSV with the columns email, name, role (a header row names them; order free)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(_("The file is not UTF-8 text. Save it as CSV (UTF-8) and upload it again.")) from None
    if "\x00" in text:
        raise ValidationError(_("The file contains NUL characters; it is not a CSV text file."))
    reader = csv.DictReader(io.StringIO(text))
    try:
        columns = {name.strip().lower(): name for name in (reader.fieldnames or []) if name}
        if "email" not in columns:
            raise ValidationError(_("The first row must name the columns: email, name, role."))
        rows = []
        for number, record in enumerate(reader, start=2):
            def value(column, record=record):
                cell = record.get(columns[column]) if column in columns else ""
                return cell.strip() if isinstance(cell, str) else ""
            if not any(isinstance(v, str) and v.strip() for v in record.values()):
                continue  # a blank line
            rows.append(MemberRow(line=number, email=value("email"), name=value("name"), role=value("role").lower()))
    except csv.Error as error:
        raise ValidationError(_("The file is not valid CSV (%(error)s).") % {"error": error}) from None
    return rows


def memberships_add_in_bulk(*, organization: Organization, rows: list[MemberRow], added_by: Membership,
                            default_role: str = Role.MEMBER) -> tuple[list[MemberRow], bool]:
    """Check every row, then add all of them through membership_add, or none when any is refused.
    Returns (report, added)."""
    if len(rows) > MAX_BULK_MEMBERS:
        raise ValidationError(_("At most %(count)d people at once.") % {"count": MAX_BULK_MEMBERS})
    if not rows:
        raise ValidationError(_("There is nobody to add in what you gave."))
    members = set(Membership.objects.of(organization).values_list("user__email", flat=True))
    seen: dict[str, int] = {}
    for row in rows:
        row.email = User.objects.normalize_email(row.email)
        row.role = row.role or default_role
        if len(row.email) > EMAIL_LENGTH:
            row.problems.append(_("an address has at most %(count)d characters") % {"count": EMAIL_LENGTH})
        else:
            try:
                validate_email(row.email)
            except ValidationError:
                row.problems.append(_("not a valid email address"))
        if row.role not in Role.values:
            row.problems.append(_("unknown role “%(role)s”: use owner, admin, host or member")
                                % {"role": row.role[:30]})
        elif row.role == Role.OWNER and added_by.role != Role.OWNER:
            row.problems.append(_("only an owner can add an owner"))
        if len(row.name) > NAME_LENGTH:
            row.problems.append(_("a name has at most %(count)d characters") % {"count": NAME_LENGTH})
        elif any(ord(c) < 32 or ord(c) == 127 for c in row.name):
            row.problems.append(_("a name is one line without control characters"))
        if row.email in members:
            row.problems.append(_("already a member"))
        if row.email in seen:
            row.problems.append(_("also on line %(line)d") % {"line": seen[row.email]})
        seen.setdefault(row.email, row.line)
    if any(row.problems for row in rows):
        return rows, False
    try:
        with transaction.atomic():
            for row in rows:
                added = membership_add(organization=organization, email=row.email, role=row.role,
                                       added_by=added_by, full_name=row.name)
                row.outcome = "invited" if isinstance(added, MembershipInvitation) else "added"
    except (ValidationError, PermissionDenied) as error:  # someone added one of them meanwhile
        row.problems.extend(getattr(error, "messages", [str(error)]))
        return rows, False
    return rows, True
