"""Reads for organizations and memberships."""

from django.db.models import QuerySet

from .models import IdentityProvider, Membership, Organization


def identity_providers_for_email(email: str) -> list[IdentityProvider]:
    """Enabled identity providers that claim the domain of this address."""
    domain = email.rsplit("@", 1)[-1].lower()
    candidates = (IdentityProvider.objects.select_related("organization")
                  .filter(enabled=True, allowed_email_domains__icontains=domain))
    return [idp for idp in candidates if domain in idp.email_domains()]


def organization_by_slug(slug: str) -> Organization | None:
    return Organization.objects.select_related("identity_provider").filter(slug=slug).first()


def membership_list(*, organization: Organization, search: str = "") -> QuerySet[Membership]:
    memberships = Membership.objects.of(organization).select_related("user").order_by("user__email")
    if search:
        memberships = memberships.filter(user__email__icontains=search) | memberships.filter(
            user__full_name__icontains=search)
    return memberships
