"""Webhook endpoints an organization registers, the deliveries of events to them and every attempt."""

import secrets

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.tenancy import TenantModel
from portal.crypto import EncryptedTextField
from portal.validators import validate_no_nul, validate_single_line

EVENT_TYPES = (
    "meeting.scheduled", "meeting.updated", "meeting.cancelled", "meeting.started", "meeting.ended",
    "meeting.reopened", "participant.joined", "participant.left", "recording.ready", "invitation.opened",
)
EVENT_CHOICES = [(name, name) for name in EVENT_TYPES]
URL_MAX_LENGTH = 500


def new_signing_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def new_event_id() -> str:
    return "evt_" + secrets.token_urlsafe(16)


class WebhookEndpoint(TenantModel):
    """Where an organization wants events sent. The signing secret is made by the portal, encrypted at
    rest and shown once (on creation and when rolled)."""

    url = models.URLField(max_length=URL_MAX_LENGTH, validators=[validate_no_nul])
    description = models.CharField(max_length=200, blank=True, validators=[validate_single_line])
    events = models.JSONField(default=list, help_text=_("The event types sent here."))
    secret = EncryptedTextField(default=new_signing_secret, editable=False)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    # Deliveries failing with no success since this moment; a success clears it.
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return self.url

    def wants(self, event_type: str) -> bool:
        return self.enabled and event_type in self.events


class WebhookDelivery(TenantModel):
    """One event for one endpoint. `body` is the exact JSON sent (every attempt signs the same bytes)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.CharField(max_length=40, default=new_event_id, db_index=True)
    event_type = models.CharField(max_length=40, choices=EVENT_CHOICES)
    body = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    last_response = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    resent_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["endpoint", "-created_at"]),
                   models.Index(fields=["endpoint"], condition=Q(status="pending"), name="webhook_delivery_pending")]
        verbose_name_plural = "webhook deliveries"

    def __str__(self):
        return f"{self.event_type} {self.event_id} → {self.endpoint_id} ({self.status})"


class WebhookAttempt(models.Model):
    """One try of a delivery: what the receiver answered (or why nothing came back), and how long it took."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="one_webhook_attempt_per_number")]

    def __str__(self):
        return f"attempt {self.number} of {self.delivery_id}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
