from django.contrib import admin
from django.db import IntegrityError

from .models import PendingTask


@admin.register(PendingTask)
class PendingTaskAdmin(admin.ModelAdmin):
    """Operators see background work that is open, failed or done (superusers only: rows of every
    organization). A failed row has its last error; "Send again" retries it from scratch."""

    list_display = ("task", "args", "state", "attempts", "dispatches", "worker", "created_at", "due_at", "last_error")
    list_filter = ("task", ("done_at", admin.EmptyFieldListFilter), ("failed_at", admin.EmptyFieldListFilter))
    search_fields = ("task", "key", "last_error")
    readonly_fields = [field.name for field in PendingTask._meta.fields]
    actions = ["send_again"]

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Send failed work again")
    def send_again(self, request, queryset):
        from django.utils import timezone

        from . import outbox

        sent = 0
        for row in queryset.filter(failed_at__isnull=False, done_at__isnull=True):
            try:
                PendingTask.objects.filter(pk=row.pk).update(failed_at=None, attempts=0, dispatches=0,
                                                            due_at=timezone.now())
            except IntegrityError:  # the same work was asked for again since, and is open
                continue
            sent += outbox.dispatch(row.pk)
        self.message_user(request, f"{sent} failed task(s) sent again.")
