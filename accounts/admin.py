from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import ValidationError

from portal import http

from . import oidc
from .models import IdentityProvider, Membership, OIDCIdentity, Organization, User

ADMIN_ROLES = (Membership.Role.OWNER, Membership.Role.ADMIN)


def administered_organizations(user):
    return Organization.objects.filter(memberships__user=user, memberships__role__in=ADMIN_ROLES)


class OrganizationScopedAdmin(admin.ModelAdmin):
    """Superusers see everything; other staff see only what belongs to organizations they administer."""

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
    model = Membership
    extra = 0
    fields = ("user", "role", "code", "created_at")
    readonly_fields = ("code", "created_at")
    autocomplete_fields = ("user",)


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
    list_display = ("user", "organization", "role", "created_at")
    list_filter = ("role", "organization")
    search_fields = ("user__email", "user__full_name", "organization__name", "organization__slug")
    autocomplete_fields = ("user", "organization")
    readonly_fields = ("code",)
    list_select_related = ("user", "organization")


class IdentityProviderForm(forms.ModelForm):
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
        unknown = sorted({role for role in mapping.values() if role not in Membership.Role.values})
        if unknown:
            raise ValidationError(f"Unknown roles: {', '.join(map(str, unknown))}. Use owner, admin, host or member.")
        return mapping

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
    list_filter = ("is_active", "is_staff", "is_superuser", "memberships__organization")
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
            fields += ["is_staff", "is_superuser", "groups", "user_permissions"]
        return fields
