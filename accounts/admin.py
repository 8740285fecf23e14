from contextlib import contextmanager

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.utils.timezone import now

from portal import http
from portal.validators import public_hostname_problem

from . import oidc, services
from .models import ApiKey, IdentityProvider, Membership, MembershipInvitation, OIDCIdentity, Organization, User

ADMIN_ROLES = (Membership.Role.OWNER, Membership.Role.ADMIN)
GROUP_ROLES = (Membership.Role.ADMIN, Membership.Role.HOST, Membership.Role.MEMBER)
# Lists offer only the organizations of the rows the viewer may see, never every organization's name.
ORGANIZATION_FILTER = ("organization", admin.RelatedOnlyFieldListFilter)


def administered_organizations(user):
    return Organization.objects.filter(memberships__user=user, memberships__role__in=ADMIN_ROLES)


class SameOrganizationForm(forms.ModelForm):
    """Every object a tenant row points at belongs to the row's own organization, and every person it
    names is a member of it: no admin, superuser or not, can tie one organization's meeting to
    another's room, owner or provider account."""

    def clean(self):
        cleaned = super().clean()
        organization = cleaned.get("organization") or getattr(self.instance, "organization", None)
        if not isinstance(organization, Organization):
            return cleaned
        for name, value in list(cleaned.items()):
            field = self._meta.model._meta.get_field(name) if name in self._model_field_names() else None
            if field is None or not field.is_relation or field.related_model is Organization or value is None:
                continue
            for related in (value if hasattr(value, "__iter__") else [value]):
                if not _belongs_to(related, organization):
                    self.add_error(name, f"{related} is not part of {organization}.")
        return cleaned

    def _model_field_names(self) -> set[str]:
        return {f.name for f in self._meta.model._meta.get_fields()}


def _belongs_to(related, organization) -> bool:
    if isinstance(related, User):
        return related.memberships.filter(organization=organization).exists()
    related_organization_id = getattr(related, "organization_id", None)
    return related_organization_id is None or related_organization_id == organization.pk


class OrganizationScopedAdmin(admin.ModelAdmin):
    """Superusers see everything; other staff see only what belongs to organizations they administer."""

    form = SameOrganizationForm
    organization_lookup = "organization"  # how this model reaches Organization

    def _limited(self, request) -> bool:
        return not request.user.is_superuser

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if self._limited(request):
            queryset = queryset.filter(**{f"{self.organization_lookup}__in": administered_organizations(request.user)})
            queryset = queryset.distinct()
        return queryset

    def _may_administer(self, request, obj=None) -> bool:
        if not self._limited(request):
            return True
        if not request.user.is_active or not request.user.is_staff:
            return False
        if obj is None:
            return administered_organizations(request.user).exists()
        return self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_module_permission(self, request):
        return super().has_module_permission(request) or self._may_administer(request)

    def has_view_permission(self, request, obj=None):
        if self._limited(request):
            return self._may_administer(request, obj)
        return super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        if self._limited(request):
            return self._may_administer(request, obj)
        return super().has_change_permission(request, obj)

    def has_add_permission(self, request, *args):
        if self._limited(request):
            return self._may_administer(request)
        return super().has_add_permission(request, *args)

    def has_delete_permission(self, request, obj=None):
        if self._limited(request):
            return self._may_administer(request, obj)
        return super().has_delete_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Organization and self._limited(request):
            kwargs["queryset"] = administered_organizations(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class MembershipInline(admin.TabularInline):
    """Superusers attach people here. Other staff only read: adding an existing person to an
    organization is an invitation that person accepts (the portal's members page), and roles change
    through the membership admin, which keeps the owner rules."""

    model = Membership
    extra = 0
    fields = ("user", "role", "code", "created_at")
    readonly_fields = ("code", "created_at")
    autocomplete_fields = ("user",)

    def has_add_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(Organization)
class OrganizationAdmin(OrganizationScopedAdmin):
    organization_lookup = "pk"
    list_display = ("name", "slug", "timezone", "default_locale", "created_at")
    search_fields = ("name", "slug")
    list_filter = ("timezone", "default_locale")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [MembershipInline]

    def has_add_permission(self, request, *args):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(Membership)
class MembershipAdmin(OrganizationScopedAdmin):
    """Staff who are not superusers change roles and remove members under the portal's own rules
    (only owners grant or take the owner role; an organization keeps an owner); they cannot add."""

    list_display = ("user", "organization", "role", "created_at")
    list_filter = ("role", ORGANIZATION_FILTER)
    search_fields = ("user__email", "user__full_name", "organization__name", "organization__slug")
    autocomplete_fields = ("user", "organization")
    readonly_fields = ("code",)
    list_select_related = ("user", "organization")

    def has_add_permission(self, request, *args):
        return request.user.is_superuser

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser or obj is None:
            return self.readonly_fields
        return (*self.readonly_fields, "user", "organization")

    def _actor(self, request, membership) -> Membership | None:
        """The acting staff member's own membership in that organization; None for superusers."""
        if request.user.is_superuser:
            return None
        actor = Membership.objects.of(membership.organization).filter(user=request.user).first()
        if actor is None:
            raise PermissionDenied("You are not a member of this organization.")
        return actor

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        previous_role = Membership.objects.get(pk=obj.pk).role
        if obj.role == previous_role:
            return super().save_model(request, obj, form, change)
        wanted, obj.role = obj.role, previous_role
        with _refusals_as_message():
            services.membership_change_role(membership=obj, role=wanted, changed_by=self._actor(request, obj))

    def delete_model(self, request, obj):
        with _refusals_as_message():
            services.membership_remove(membership=obj, removed_by=self._actor(request, obj))

    def delete_queryset(self, request, queryset):
        for membership in queryset:
            self.delete_model(request, membership)

    def changeform_view(self, request, *args, **kwargs):
        return self._refused_as_message(request, super().changeform_view, *args, **kwargs)

    def delete_view(self, request, *args, **kwargs):
        return self._refused_as_message(request, super().delete_view, *args, **kwargs)

    def changelist_view(self, request, *args, **kwargs):  # its bulk delete action
        return self._refused_as_message(request, super().changelist_view, *args, **kwargs)

    def _refused_as_message(self, request, view, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except RuleRefused as refusal:
            self.message_user(request, str(refusal), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class RuleRefused(Exception):
    """A membership rule refused an admin's change; the message says which."""


@contextmanager
def _refusals_as_message():
    try:
        yield
    except (PermissionDenied, ValidationError) as refusal:
        raise RuleRefused(" ".join(getattr(refusal, "messages", [str(refusal)]))) from None


@admin.register(MembershipInvitation)
class MembershipInvitationAdmin(OrganizationScopedAdmin):
    """Invitations are made from the portal's members page (which emails the link); here they are
    only looked at or withdrawn."""

    list_display = ("email", "organization", "role", "created_at", "expires_at", "accepted_at")
    list_filter = ("role", ORGANIZATION_FILTER)
    search_fields = ("email", "organization__name")
    readonly_fields = ("code", "organization", "email", "role", "invited_by", "created_at", "expires_at",
                       "accepted_at")
    exclude = ("token_hash",)

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class IdentityProviderForm(SameOrganizationForm):
    issuer = forms.URLField(assume_scheme="https", max_length=200,
                            help_text=IdentityProvider._meta.get_field("issuer").help_text)
    client_secret = forms.CharField(
        required=False, widget=forms.PasswordInput(render_value=False),
        help_text="Write-only: stored encrypted and never shown again. Leave empty to keep the current secret.")

    class Meta:
        model = IdentityProvider
        fields = ["organization", "enabled", "issuer", "client_id", "client_secret", "scopes",
                  "allowed_email_domains", "groups_claim", "group_roles", "provision_unknown_users"]

    def clean_client_secret(self):
        # An empty field keeps the stored secret: the form never sends it back to the browser.
        return self.cleaned_data["client_secret"] or (self.instance.client_secret if self.instance.pk else "")

    def clean_group_roles(self):
        mapping = self.cleaned_data["group_roles"] or {}
        if not isinstance(mapping, dict):
            raise ValidationError('Use an object of group to role, e.g. {"admins": "admin"}.')
        if any(not group or len(group) > 200 or "\x00" in group for group in mapping):
            raise ValidationError("Group names are 1 to 200 characters, without NUL.")
        unknown = sorted({str(role) for role in mapping.values() if role not in GROUP_ROLES})
        if unknown:
            raise ValidationError(f"Unknown roles: {', '.join(unknown)}. Use admin, host or member: groups never "
                                  "grant owner, which only an owner gives.")
        return mapping

    def clean_allowed_email_domains(self):
        domains = [d.strip().lower().lstrip("@") for d in self.cleaned_data["allowed_email_domains"].split(",")
                   if d.strip()]
        for domain in domains:
            if problem := public_hostname_problem(domain, private_names_allowed=True):
                raise ValidationError(f"{domain}: {problem}")
        organization = self.cleaned_data.get("organization") or getattr(self.instance, "organization", None)
        for other in IdentityProvider.objects.exclude(organization=organization).exclude(allowed_email_domains=""):
            if claimed := sorted(set(domains) & set(other.email_domains())):
                raise ValidationError(f"{', '.join(claimed)} already belongs to another organization's identity "
                                      "provider.")
        return ", ".join(domains)

    def clean(self):
        cleaned = super().clean()
        issuer = cleaned.get("issuer")
        if issuer and cleaned.get("enabled"):
            try:
                oidc.discover(issuer, refresh=True)
            except http.OutboundError as error:
                self.add_error("issuer", f"Discovery failed: {error}")
        return cleaned


@admin.register(IdentityProvider)
class IdentityProviderAdmin(OrganizationScopedAdmin):
    """Only superusers (operators) set up identity providers: whoever controls one signs people in,
    so an organization's staff admin only looks."""

    def has_add_permission(self, request, *args):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    form = IdentityProviderForm
    list_display = ("organization", "issuer", "client_id", "enabled", "provision_unknown_users", "updated_at")
    list_filter = ("enabled", "provision_unknown_users")
    search_fields = ("organization__name", "organization__slug", "issuer", "client_id")
    autocomplete_fields = ("organization",)
    readonly_fields = ("code", "updated_at")
    list_select_related = ("organization",)


class OIDCIdentityInline(admin.TabularInline):
    model = OIDCIdentity
    extra = 0
    fields = ("issuer", "subject", "created_at", "last_login_at")
    readonly_fields = fields
    can_delete = True

    def has_add_permission(self, request, obj=None):
        return False


class UserMembershipInline(MembershipInline):
    fields = ("organization", "role", "code", "created_at")
    autocomplete_fields = ("organization",)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if not request.user.is_superuser:
            queryset = queryset.filter(organization__in=administered_organizations(request.user))
        return queryset


class UserOrganizationFilter(admin.SimpleListFilter):
    """People by organization, offering only organizations the viewer administers (a person may also
    belong to organizations the viewer must not learn of)."""

    title = "organization"
    parameter_name = "organization"

    def lookups(self, request, model_admin):
        organizations = Organization.objects.all() if request.user.is_superuser else administered_organizations(
            request.user)
        return [(str(o.pk), o.name) for o in organizations]

    def queryset(self, request, queryset):
        allowed = {value for value, _ in self.lookup_choices}
        if self.value() in allowed:
            return queryset.filter(memberships__organization__pk=self.value()).distinct()
        return queryset


class PortalUserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class PortalUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(OrganizationScopedAdmin, DjangoUserAdmin):
    organization_lookup = "memberships__organization"
    form = PortalUserChangeForm
    add_form = PortalUserCreationForm
    ordering = ("email",)
    list_display = ("email", "full_name", "is_active", "is_staff", "last_login")
    list_filter = ("is_active", "is_staff", "is_superuser", UserOrganizationFilter)
    search_fields = ("email", "full_name", "oidc_identities__subject")
    inlines = [UserMembershipInline, OIDCIdentityInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name", "timezone")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "usable_password", "password1", "password2")}),)
    readonly_fields = ("last_login", "date_joined")

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # Only superusers change another person's credentials, address or flags: an account may
            # belong to other organizations too, and its address decides who can sign in as it.
            fields += ["email", "password", "is_active", "is_staff", "is_superuser", "groups", "user_permissions"]
            if obj is not None and obj.pk != request.user.pk:
                fields += ["full_name", "timezone"]  # the name other organizations see, too
        return fields

    def has_add_permission(self, request, *args):
        # Staff add people through the portal's members page, which invites existing accounts.
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def user_change_password(self, request, id, form_url=""):
        if not request.user.is_superuser and str(id) != str(request.user.pk):
            raise PermissionDenied("Only superusers change another person's password.")
        return super().user_change_password(request, id, form_url)


@admin.register(ApiKey)
class ApiKeyAdmin(OrganizationScopedAdmin):
    """Keys are made on the organization's API keys page, where the key is shown once; here operators
    see them and revoke them. Only the hash is stored, so there is nothing secret to show."""

    list_display = ("name", "prefix", "organization", "scopes", "created_by", "created_at", "expires_at",
                    "last_used_at", "revoked_at")
    list_filter = (ORGANIZATION_FILTER,)
    search_fields = ("name", "prefix", "created_by__email")
    fields = ("organization", "name", "prefix", "scopes", "created_by", "created_at", "expires_at", "last_used_at",
              "revoked_at")
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request, queryset):
        revoked = queryset.filter(revoked_at__isnull=True).update(revoked_at=now())
        self.message_user(request, f"{revoked} key(s) revoked; calls with them now answer 401.")
