"""Who calls the API, and what they may do.

Two ways in, one `Caller`:
- an organization's API key (`Authorization: Bearer mpk_…`): its organization, an admin's reach,
  its scopes. It works only while the admin who made it is still an admin there;
- a signed-in person from the portal's own pages (session cookie, CSRF enforced): the organization
  named by the X-Organization header (its slug), or the one they last used; a host gets read, write
  and links, an admin also members.
Everything else is 401 (no or a bad key) or 404 (an organization the person is not a member of).
"""

import copy
from dataclasses import dataclass

from rest_framework import authentication, exceptions, permissions

from accounts import api_keys
from accounts.models import ApiKey, Membership

HOST, ADMIN = Membership.Role.HOST, Membership.Role.ADMIN
SCOPES_BY_METHOD = {"GET": ApiKey.Scope.READ, "HEAD": ApiKey.Scope.READ, "OPTIONS": ApiKey.Scope.READ}


@dataclass(frozen=True)
class Caller:
    organization: object
    user: object
    membership: Membership
    scopes: frozenset
    api_key: ApiKey | None = None

    @property
    def identity(self) -> str:
        """Stable per caller: keys idempotency records and rate limits."""
        if self.api_key:
            return f"key:{self.api_key.prefix}"
        return f"user:{self.user.pk}:org:{self.organization.pk}"  # one person's organizations apart

    @property
    def is_admin(self) -> bool:
        return self.membership.has_role(ADMIN)


def _at_most_admin(membership: Membership) -> Membership:
    """A key has an admin's reach even when an owner made it: it never grants, takes or removes the
    owner role (a leaked key must not be able to take the organization over)."""
    if membership.role != Membership.Role.OWNER:
        return membership
    capped = copy.copy(membership)
    capped.role = ADMIN
    return capped


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise exceptions.AuthenticationFailed("Send the API key as `Authorization: Bearer <key>`.")
        key = api_keys.api_key_for(raw.strip())
        if key is None:
            raise exceptions.AuthenticationFailed("This API key is not valid, has expired or was revoked.")
        membership = Membership.objects.filter(organization=key.organization, user=key.created_by).first()
        if membership is None or not membership.has_role(ADMIN) or not key.created_by.is_active:
            raise exceptions.AuthenticationFailed("The admin who made this API key is no longer an admin of "
                                                  "the organization; an admin makes a new key.")
        api_keys.touch(key)
        return key.created_by, Caller(key.organization, key.created_by, _at_most_admin(membership),
                                      frozenset(key.scopes), key)

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class SessionAuthentication(authentication.SessionAuthentication):
    """The portal's own pages: the session cookie, with CSRF checked on every unsafe method."""

    def authenticate_header(self, request):  # a 401, not a 403, for a caller without credentials
        return 'Bearer realm="api"'


def caller_for_session(request) -> Caller:
    slug = request.headers.get("X-Organization") or request.session.get("active_organization")
    if not slug:
        raise exceptions.ValidationError({"organization": ["Name the organization in the X-Organization header."]})
    membership = (Membership.objects.select_related("organization")
                  .filter(organization__slug=slug, user=request.user).first())
    if membership is None:
        raise exceptions.NotFound("No such organization.")
    if not membership.has_role(HOST):
        raise exceptions.PermissionDenied("The API is for the organization's hosts and admins.")
    scopes = {ApiKey.Scope.READ, ApiKey.Scope.WRITE, ApiKey.Scope.LINKS}
    if membership.has_role(ADMIN):
        scopes.add(ApiKey.Scope.MEMBERS)
    return Caller(membership.organization, request.user, membership, frozenset(scopes))


class HasScope(permissions.BasePermission):
    """A view says what it needs with `scope` (the same for every method) or `scopes_by_method`;
    by default reads need `read` and everything else `write`."""

    def has_permission(self, request, view):
        caller = request.caller
        needed = getattr(view, "scopes_by_method", {}).get(request.method) or getattr(view, "scope", None) or \
            SCOPES_BY_METHOD.get(request.method, ApiKey.Scope.WRITE)
        needed = (needed,) if isinstance(needed, str) else needed
        missing = [scope for scope in needed if scope not in caller.scopes]
        if missing:
            raise exceptions.PermissionDenied(f"This needs the {', '.join(missing)} scope.", code="missing_scope")
        return True



from . import schema  # noqa: E402, F401  (registers how the schema describes these classes)
