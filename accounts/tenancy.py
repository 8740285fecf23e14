"""Tenancy: the one way organization-owned rows are reached.

Every organization-owned model derives from TenantModel, so it has an ``organization`` and a random
public ``code``. Views get the organization from the ``organization_view`` decorator below, then
reach rows only through ``Model.objects.of(organization)`` or ``get_scoped_or_404``: another
organization's row answers 404, exactly like a row that does not exist.
"""

import secrets
import zoneinfo
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def new_public_code() -> str:
    return secrets.token_urlsafe(9)


class TenantQuerySet(models.QuerySet):
    def of(self, organization):
        return self.filter(organization=organization)


class TenantModel(models.Model):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="%(class)ss")
    code = models.CharField(max_length=16, unique=True, default=new_public_code, editable=False)

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True


def get_scoped_or_404(queryset_or_model, organization, **lookup):
    queryset = queryset_or_model
    if isinstance(queryset_or_model, type):
        queryset = queryset_or_model.objects.all()
    try:
        return queryset.of(organization).get(**lookup)
    except queryset.model.DoesNotExist:
        raise Http404 from None


# What the 403 page says when a member's role is too low for a page.
ROLE_REQUIRED = {
    "member": _("This page is for the organization's members."),
    "host": _("This page is for the organization's hosts, admins and owners."),
    "admin": _("This page is for the organization's admins and owners."),
    "owner": _("This page is for the organization's owners."),
}


def organization_view(minimum_role: str = "member"):
    """Resolve ``/o/<org_slug>/...`` once: sets request.organization and request.membership.

    Someone who is not a member gets 404, as if the organization did not exist; a member whose role
    is too low gets 403 (they know the organization exists).
    """
    from .i18n import activate_for
    from .models import Membership

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request, org_slug, *args, **kwargs):
            membership = (Membership.objects.select_related("organization")
                          .filter(organization__slug=org_slug, user=request.user).first())
            if membership is None:
                raise Http404("No such organization.")
            if not membership.has_role(minimum_role):
                raise PermissionDenied(ROLE_REQUIRED.get(minimum_role, ROLE_REQUIRED["member"]))
            request.organization = membership.organization
            request.membership = membership
            if request.session.get("active_organization") != org_slug:
                request.session["active_organization"] = org_slug
            if request.session.get("organization_timezone") != membership.organization.timezone:
                request.session["organization_timezone"] = membership.organization.timezone
            if not request.user.timezone:
                timezone.activate(zoneinfo.ZoneInfo(membership.organization.timezone))
            activate_for(request, membership.organization)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
