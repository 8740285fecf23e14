from django.conf import settings
from django.contrib import admin, messages
from django.db import models
from django.urls import reverse
from django.utils.html import format_html

from accounts.admin import ORGANIZATION_FILTER, OrganizationScopedAdmin, SameOrganizationForm

from .forms import ACCOUNT_CANDIDATE_FIELDS, ProviderAccountForm, account_form_fields
from .models import Invitation, JoinSession, Meeting, MeetingSync, Occurrence, ProviderAccount, Room
from .services import accounts as account_services
from .services import invitations as invitation_services
from .services.sync import request_sync


@admin.register(Room)
class RoomAdmin(OrganizationScopedAdmin):
    list_display = ("name", "organization", "owner", "kind", "provider", "created_at")
    list_filter = ("kind", "provider", ORGANIZATION_FILTER)
    search_fields = ("name", "owner__email", "organization__name")
    autocomplete_fields = ("organization", "owner", "co_hosts")
    readonly_fields = ("code",)
    list_select_related = ("organization", "owner")


class OccurrenceInline(admin.TabularInline):
    model = Occurrence
    extra = 0
    fields = ("start", "end", "status", "modified", "title_override")
    readonly_fields = ("modified",)
    show_change_link = False


class MeetingSyncInline(admin.StackedInline):
    model = MeetingSync
    fields = ("requested_at", "last_run_at", "last_success_at", "last_error", "result")
    readonly_fields = fields
    can_delete = False
    verbose_name = verbose_name_plural = "Provider sync"

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Meeting)
class MeetingAdmin(OrganizationScopedAdmin):
    list_display = ("title", "organization", "kind", "start", "status", "provider", "owner")
    list_filter = ("status", "kind", "provider", ORGANIZATION_FILTER)
    search_fields = ("title", "description", "owner__email", "invitations__email")
    autocomplete_fields = ("organization", "room", "owner", "co_hosts")
    readonly_fields = ("code", "ical_uid", "ical_sequence", "created_at", "updated_at")
    date_hierarchy = "start"
    inlines = [OccurrenceInline, MeetingSyncInline]
    list_select_related = ("organization", "owner")
    actions = ["sync_now"]

    @admin.action(description="Sync recordings and attendance from the provider now")
    def sync_now(self, request, queryset):
        hosted = queryset.exclude(provider="builtin").filter(provider_account__isnull=False)
        for meeting in hosted:
            request_sync(meeting)
        skipped = queryset.count() - hosted.count()
        note = f"; {skipped} on the built-in provider have nothing to sync." if skipped else "."
        self.message_user(request, f"Sync queued for {hosted.count()} meeting(s){note}")


class JoinSessionInline(admin.TabularInline):
    model = JoinSession
    extra = 0
    fields = ("occurrence", "started_at", "ended_at", "end_reason", "admitted")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Invitation)
class InvitationAdmin(OrganizationScopedAdmin):
    list_display = ("display_name", "email", "meeting", "role", "email_status", "first_joined_at", "revoked_at")
    list_filter = ("role", "email_status", "source", "meeting__status", "meeting__provider", ORGANIZATION_FILTER)
    search_fields = ("email", "display_name", "meeting__title", "peer_id")
    readonly_fields = ("code", "peer_id", "link_generation", "first_opened_at", "first_joined_at", "email_status",
                       "email_error", "email_sent_at", "created_at", "invited_by", "user", "meeting", "source")
    fields = ("meeting", "user", "email", "display_name", "role", "language", "timezone", "valid_from", "valid_until",
              "revoked_at", "removed_at", *readonly_fields[:-3])
    inlines = [JoinSessionInline]
    actions = ["revoke_links", "resend_invitations"]
    list_select_related = ("meeting",)

    def has_add_permission(self, request, *args):
        return False  # people are invited from the meeting's page, which issues their link

    @admin.action(description="Withdraw the links of the selected invitations")
    def revoke_links(self, request, queryset):
        for invitation in queryset.filter(revoked_at__isnull=True):
            invitation_services.invitation_revoke(invitation=invitation)
        self.message_user(request, "The links were withdrawn.", messages.SUCCESS)

    @admin.action(description="Send the selected invitations again")
    def resend_invitations(self, request, queryset):
        count = 0
        for invitation in queryset.filter(revoked_at__isnull=True).exclude(email=""):
            invitation_services.invitation_resend(invitation=invitation)
            count += 1
        self.message_user(request, f"{count} invitations are being sent again.", messages.SUCCESS)


class AdminProviderAccountForm(SameOrganizationForm, ProviderAccountForm):
    """The portal's account form with the organization: the same join-mode and account_problems checks,
    so admin cannot save what the portal refuses."""

    class Meta(ProviderAccountForm.Meta):
        fields = ["organization", *ProviderAccountForm.Meta.fields]


@admin.register(ProviderAccount)
class ProviderAccountAdmin(OrganizationScopedAdmin):
    form = AdminProviderAccountForm
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ("name", "organization", "provider", "meet_domain", "jwt_algorithm", "is_default", "enabled")
    list_filter = ("provider", "jwt_algorithm", "enabled", ORGANIZATION_FILTER)
    search_fields = ("name", "meet_domain", "organization__name")
    readonly_fields = ("code", "jwt_public_key", "callback_urls", "key_version", "updated_at")
    actions = ["generate_key_pair"]

    def get_fields(self, request, obj=None):
        # Only the fields some registered provider asks for (the form drops the others).
        used = set(account_form_fields())
        return [name for name in super().get_fields(request, obj)
                if name not in ACCOUNT_CANDIDATE_FIELDS or name in used]

    @admin.display(description="Register with the provider")
    def callback_urls(self, obj):
        if not obj.pk:
            return "Save the account first."
        base = settings.SITE_URL.rstrip("/")
        access = base + reverse("gcore_access_check", args=[obj.code])
        events = base + reverse("gcore_event", args=[obj.code])
        return format_html("Access check URL (accessUrl): <code>{}</code>, with the access secret as its "
                           "Authorization header (authorizationAccess).<br>Events URL (apiEvent): <code>{}</code>, "
                           "with the webhook secret as its header (authEvent).", access, events)

    def save_model(self, request, obj, form, change):
        previous = ProviderAccount.objects.get(pk=obj.pk) if change else None
        account_services.provider_account_save(obj, previous=previous)

    @admin.action(description="Generate a new RSA key pair (then register its public key with the provider)")
    def generate_key_pair(self, request, queryset):
        for account in queryset:
            account_services.generate_rsa_pair(account)
        self.message_user(request, "New key pairs were made; each account's page shows the public key.",
                          messages.SUCCESS)
