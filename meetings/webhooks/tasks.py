"""Celery tasks of outgoing webhooks (registered through meetings.tasks)."""

from celery import shared_task
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.i18n import language_of
from accounts.models import User
from portal import outbox
from portal.mail import templated_email
from portal.site import absolute_reverse

from . import services
from .models import WebhookEndpoint


@shared_task(acks_late=True)
@outbox.pending_task(exclusive=True, max_attempts=5)
def deliver_webhook(delivery_id: int) -> None:
    """One attempt of one delivery. Exclusive: the outbox row is locked while the receiver is called
    and the attempt is recorded, with the next try queued, in the same transaction, so two copies of
    this message never both send. A failed attempt is no task failure: the delivery's own schedule
    (services.retry_schedule) queues the next one."""
    services.attempt(delivery_id)


@shared_task(acks_late=True)
@outbox.pending_task(exclusive=True, max_attempts=6)
def send_endpoint_disabled_email(endpoint_id: int, user_id: int) -> None:
    endpoint = WebhookEndpoint.objects.select_related("organization").filter(pk=endpoint_id).first()
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if endpoint is None or user is None or endpoint.enabled:  # deleted or enabled again meanwhile
        return
    with translation.override(language_of(user, endpoint.organization)):
        context = {"user": user, "endpoint": endpoint, "organization": endpoint.organization,
                   "endpoint_url": absolute_reverse("webhook_endpoint", endpoint.organization.slug, endpoint.code)}
        templated_email("meetings/email/webhook_disabled", context, to=user.email,
                        subject=_("Webhook endpoint disabled in %(organization)s")
                        % {"organization": endpoint.organization.name}).send()
