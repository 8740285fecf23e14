from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.html import format_html

from accounts.admin import ORGANIZATION_FILTER, OrganizationScopedAdmin, SameOrganizationForm
from portal.site import absolute_reverse

from .forms import ACCOUNT_CANDIDATE_FIELDS, ProviderAccountForm, account_form_fields
from .models import (
    Invitation,
    JoinSession,
    Meeting,
    MeetingSync,
    Occurrence,
    ProviderAccount,
    Room,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from .services import accounts as account_services
from .services import invitations as invitation_services
from .services.sync import request_sync
from .webhooks import services as webhook_services


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
        access = absolute_reverse("gcore_access_check", obj.code)
        events = absolute_reverse("gcore_event", obj.code)
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


# --- Outgoing webhooks: read-only records; operators enable, disable and re-send ---------------------

class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    fields = ("number", "started_at", "duration_ms", "status_code", "error", "response_excerpt")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(OrganizationScopedAdmin):
    """Endpoints are made by organization admins in the portal (which checks the URL and shows the secret
    once); here they are read and switched on or off. The secret is never shown."""

    list_display = ("url", "organization", "enabled", "failing_since", "disabled_at", "created_at")
    list_filter = ("enabled", ORGANIZATION_FILTER)
    search_fields = ("url", "description", "code", "organization__name")
    fields = ("organization", "code", "url", "description", "events", "enabled", "failing_since", "disabled_at",
              "disabled_reason", "created_by", "created_at")
    readonly_fields = tuple(name for name in fields if name != "enabled")
    actions = ["enable", "disable"]
    list_select_related = ("organization",)

    def has_add_permission(self, request, *args):
        return False

    def save_model(self, request, obj, form, change):
        if "enabled" in form.changed_data:
            webhook_services.endpoint_update(endpoint=obj, url=obj.url, events_wanted=obj.events,
                                             description=obj.description, enabled=obj.enabled)
        else:
            super().save_model(request, obj, form, change)

    @admin.action(description="Enable the selected endpoints (their failures are forgiven)")
    def enable(self, request, queryset):
        for endpoint in queryset.filter(enabled=False):
            webhook_services.endpoint_enable(endpoint=endpoint)
        self.message_user(request, "The endpoints are enabled.", messages.SUCCESS)

    @admin.action(description="Disable the selected endpoints")
    def disable(self, request, queryset):
        for endpoint in queryset.filter(enabled=True):
            webhook_services.endpoint_update(endpoint=endpoint, url=endpoint.url, events_wanted=endpoint.events,
                                             description=endpoint.description, enabled=False)
        self.message_user(request, "The endpoints are disabled.", messages.SUCCESS)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(OrganizationScopedAdmin):
    list_display = ("event_type", "event_id", "endpoint", "organization", "status", "attempts", "last_status_code",
                    "created_at")
    list_filter = ("status", "event_type", ORGANIZATION_FILTER)
    search_fields = ("event_id", "code", "endpoint__url", "organization__name")
    fields = ("organization", "endpoint", "code", "event_id", "event_type", "status", "attempts", "next_attempt_at",
              "last_status_code", "last_error", "last_response", "created_at", "delivered_at", "resent_from", "body")
    readonly_fields = fields
    inlines = [WebhookAttemptInline]
    actions = ["resend"]
    list_select_related = ("organization", "endpoint")

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Send the selected deliveries again")
    def resend(self, request, queryset):
        sent = 0
        for delivery in queryset.select_related("endpoint"):
            try:
                webhook_services.resend(delivery=delivery)
                sent += 1
            except ValidationError as error:
                self.message_user(request, f"{delivery.event_id}: {' '.join(error.messages)}", messages.WARNING)
        self.message_user(request, f"{sent} deliveries are being sent again.", messages.SUCCESS)
