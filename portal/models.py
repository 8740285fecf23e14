from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .crypto import EncryptedTextField


class PendingTask(models.Model):
    """Work that must happen, written in the same transaction as the change that needs it (the
    outbox, portal/outbox.py). Celery carries it out; the row is what makes sure it happens."""

    task = models.CharField(max_length=200, help_text=_("The Celery task's name."))
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    key = models.CharField(max_length=200, blank=True,
                           help_text=_("Work asked for again while this is open joins it instead (e.g. a sync)."))
    lease_seconds = models.PositiveIntegerField(help_text=_("How long one run may take before it is sent again."))
    created_at = models.DateTimeField(auto_now_add=True)
    due_at = models.DateTimeField(help_text=_("When the sweep sends it (again) if it is not done by then."))
    dispatches = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0, help_text=_("Runs that failed."))
    worker = models.CharField(max_length=200, blank=True, help_text=_("The worker that last started it."))
    started_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True, help_text=_("Given up after its last attempt."))
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["due_at"], condition=Q(done_at__isnull=True, failed_at__isnull=True),
                                name="pending_task_open_due")]
        constraints = [models.UniqueConstraint(fields=["key"], condition=Q(
            done_at__isnull=True, failed_at__isnull=True) & ~Q(key=""), name="one_open_pending_task_per_key")]

    def __str__(self):
        return f"{self.task}{self.args}"

    @property
    def state(self) -> str:
        if self.done_at:
            return "done"
        if self.failed_at:
            return "failed"
        return "running" if self.started_at else "queued"


class IdempotentRequest(models.Model):
    """The first answer to a POST sent with an Idempotency-Key, kept so a retry gets it again instead
    of doing the work twice (portal/api/idempotency.py). Keys are per API caller."""

    caller = models.CharField(max_length=100, help_text=_("The API key's prefix or the signed-in user."))
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text=_("SHA-256 of the method, path and body."))
    status = models.PositiveSmallIntegerField()
    body = EncryptedTextField(blank=True, help_text=_("The answer as JSON, encrypted: it may hold join links."))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["caller", "key"], name="one_answer_per_idempotency_key")]
        indexes = [models.Index(fields=["created_at"], name="idempotent_request_age")]

    def __str__(self):
        return f"{self.caller} {self.key}"
