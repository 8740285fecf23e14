"""Writes for organizations and memberships. Views, admin and tasks call these; nothing else writes."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from .models import Membership, Organization, User

Role = Membership.Role


def organization_create(*, name: str, slug: str, owner: User, timezone: str = "UTC") -> Organization:
    with transaction.atomic():
        organization = Organization.objects.create(name=name, slug=slug, timezone=timezone)
        Membership.objects.create(organization=organization, user=owner, role=Role.OWNER)
    return organization


def _check_may_manage(actor: Membership, target_role: str, new_role: str | None = None) -> None:
    if not actor.can_manage_members:
        raise PermissionDenied("Only owners and admins manage members.")
    touches_owner = Role.OWNER in (target_role, new_role)
    if touches_owner and actor.role != Role.OWNER:
        raise PermissionDenied("Only an owner can grant or take away the owner role.")


def _lock_owners(organization: Organization) -> list[Membership]:
    """Lock the organization's owner rows so two admins cannot remove the last two owners at once."""
    return list(Membership.objects.select_for_update().of(organization).filter(role=Role.OWNER))


def membership_add(*, organization: Organization, email: str, role: str, added_by: Membership | None,
                   full_name: str = "") -> Membership:
    if added_by is not None:
        _check_may_manage(added_by, Role.MEMBER, role)
    email = User.objects.normalize_email(email)
    with transaction.atomic():
        user = User.objects.filter(email=email).first() or User.objects.create_user(email, full_name=full_name)
        if Membership.objects.of(organization).filter(user=user).exists():
            raise ValidationError(f"{email} is already a member of {organization.name}.")
        membership = Membership.objects.create(organization=organization, user=user, role=role)
        from .tasks import send_member_added_email

        transaction.on_commit(lambda: send_member_added_email.delay(membership.pk))
    return membership


def membership_change_role(*, membership: Membership, role: str, changed_by: Membership | None) -> Membership:
    if role not in Role.values:
        raise ValidationError(f"Unknown role {role!r}.")
    if changed_by is not None:
        _check_may_manage(changed_by, membership.role, role)
    with transaction.atomic():
        owners = _lock_owners(membership.organization)
        if membership.role == Role.OWNER and role != Role.OWNER and len(owners) <= 1:
            raise ValidationError("An organization keeps at least one owner: make someone else owner first.")
        membership.role = role
        membership.save(update_fields=["role"])
    return membership


def membership_remove(*, membership: Membership, removed_by: Membership | None) -> None:
    if removed_by is not None and removed_by.pk != membership.pk:
        _check_may_manage(removed_by, membership.role)
    with transaction.atomic():
        owners = _lock_owners(membership.organization)
        if membership.role == Role.OWNER and len(owners) <= 1:
            raise ValidationError("An organization keeps at least one owner: make someone else owner first.")
        membership.delete()


class SignInRefused(Exception):
    """Sign-in stops here; the message is shown to the person as it is."""


def _verified_email(claims: dict) -> str | None:
    if claims.get("email_verified") in (True, "true") and claims.get("email"):
        return User.objects.normalize_email(claims["email"])
    return None


def _user_for_new_identity(identity_provider, email: str | None) -> User:
    """Link a first sign-in to a user the portal already has, or create one when allowed.

    An existing account is linked by email only when it belongs to no other organization and is not
    an operator: otherwise one organization's identity provider could claim another's people.
    """
    organization = identity_provider.organization
    if email is None:
        raise SignInRefused("Your identity provider did not share a verified email address, "
                            "so the portal cannot create or find your account.")
    existing = User.objects.filter(email=email).first()
    if existing is None:
        if not identity_provider.provision_unknown_users:
            raise SignInRefused(f"You are not a member of {organization.name}. Ask one of its admins to add you.")
        return User.objects.create_user(email)
    other_orgs = existing.memberships.exclude(organization=organization).exists()
    if other_orgs or existing.is_staff or existing.oidc_identities.exists():
        raise SignInRefused("An account with your email address already exists and cannot be linked "
                            "automatically. Ask an operator to link it.")
    return existing


def _sync_membership(identity_provider, user: User, groups: list[str]) -> Membership:
    organization = identity_provider.organization
    mapped_role = identity_provider.role_for_groups(groups) if identity_provider.group_roles else None
    membership = Membership.objects.of(organization).filter(user=user).first()
    if membership is None:
        if not identity_provider.provision_unknown_users:
            raise SignInRefused(f"You are not a member of {organization.name}. Ask one of its admins to add you.")
        return Membership.objects.create(organization=organization, user=user, role=mapped_role or Role.MEMBER)
    if identity_provider.group_roles:
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
        raise SignInRefused("Your identity provider did not confirm an email address of a domain allowed "
                            f"for {identity_provider.organization.name} ({', '.join(domains)}).")
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
            raise SignInRefused("Your account is disabled. Contact your organization's admins.")
        membership = _sync_membership(identity_provider, user, groups)

        changed = []
        name = (claims.get("name") or "").strip()
        if name and name != user.full_name:
            user.full_name, changed = name, changed + ["full_name"]
        if email and email != user.email and not User.objects.filter(email=email).exists():
            user.email, changed = email, changed + ["email"]
        if changed:
            user.save(update_fields=changed)
        identity.last_login_at = timezone.now()
        identity.save()
    return user, membership
