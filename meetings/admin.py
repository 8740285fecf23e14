from django.contrib import admin, messages

from accounts.admin import OrganizationScopedAdmin

from .models import Invitation, JoinSession, Meeting, Occurrence, Room
from .services import invitations as invitation_services


@admin.register(Room)
class RoomAdmin(OrganizationScopedAdmin):
    list_display = ("name", "organization", "owner", "kind", "provider", "created_at")
    list_filter = ("kind", "provider", "organization")
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


@admin.register(Meeting)
class MeetingAdmin(OrganizationScopedAdmin):
    list_display = ("title", "organization", "kind", "start", "status", "provider", "owner")
    list_filter = ("status", "kind", "provider", "organization")
    search_fields = ("title", "description", "owner__email", "invitations__email")
    autocomplete_fields = ("organization", "room", "owner", "co_hosts")
    readonly_fields = ("code", "ical_uid", "ical_sequence", "created_at", "updated_at")
    date_hierarchy = "start"
    inlines = [OccurrenceInline]
    list_select_related = ("organization", "owner")


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
    list_filter = ("role", "email_status", "source", "meeting__status", "meeting__provider", "organization")
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
