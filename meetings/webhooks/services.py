"""Endpoints (create, edit, roll the secret, enable, delete) and deliveries (one attempt, the retry
schedule, re-sending, disabling an endpoint that keeps failing)."""

import logging
import time
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership
from portal import http, outbox

from . import events, signing
from .models import URL_MAX_LENGTH, WebhookAttempt, WebhookDelivery, WebhookEndpoint, new_signing_secret

logger = logging.getLogger(__name__)

EXCERPT_LENGTH = 500


def retry_schedule() -> tuple[int, ...]:
    """The waits after each failed attempt (settings.WEBHOOK_RETRY_SCHEDULE_SECONDS)."""
    return tuple(settings.WEBHOOK_RETRY_SCHEDULE_SECONDS)


def disable_after() -> timedelta:
    return timedelta(seconds=settings.WEBHOOK_DISABLE_AFTER_SECONDS)


def _timeout() -> float:
    return settings.WEBHOOK_TIMEOUT_SECONDS


# --- Endpoints -----------------------------------------------------------------------------------

def url_problem(url: str) -> str | None:
    """Why the portal will not send to `url`, or None. The same destination rules as every outbound
    request (portal.http): http(s) only, and no private, loopback or link-local address unless
    OUTBOUND_ALLOW_PRIVATE_ADDRESSES."""
    if "\x00" in url:
        return _("Remove the NUL character.")
    if len(url) > URL_MAX_LENGTH:
        return _("A webhook URL has at most %(limit)d characters.") % {"limit": URL_MAX_LENGTH}
    if not url.isascii() or any(ord(c) < 33 or ord(c) == 127 for c in url):
        return _("Use the URL's ASCII form: xn-- for international host names, percent-escapes in the path, "
                 "no spaces.")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return _("Give an http:// or https:// URL, like https://example.com/hooks/portal.")
    if parts.username or parts.password:
        return _("Put no user name or password in the URL: every delivery is signed instead.")
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return _("That port is not a number.")
    try:
        http._check_destination(url)
    except http.BlockedAddress:
        return _("That address is private to a network (or this machine). Webhooks go only to public "
                 "addresses.")
    except http.OutboundError as error:
        return _("The portal cannot send to that URL: %(error)s.") % {"error": error}
    return None


def _clean_events(chosen) -> list[str]:
    return [name for name in events.EVENT_TYPES if name in set(chosen)]


def _changed(endpoint: WebhookEndpoint) -> None:
    transaction.on_commit(lambda: events.forget_subscriptions(endpoint.organization_id))
    events.forget_subscriptions(endpoint.organization_id)


def endpoint_create(*, organization, url: str, events_wanted, description: str = "", created_by=None
                    ) -> WebhookEndpoint:
    if problem := url_problem(url):
        raise ValidationError({"url": problem})
    endpoint = WebhookEndpoint.objects.create(organization=organization, url=url, description=description,
                                              events=_clean_events(events_wanted), created_by=created_by)
    _changed(endpoint)
    return endpoint


def endpoint_update(*, endpoint: WebhookEndpoint, url: str, events_wanted, description: str = "",
                    enabled: bool | None = None) -> WebhookEndpoint:
    if url != endpoint.url and (problem := url_problem(url)):
        raise ValidationError({"url": problem})
    endpoint.url, endpoint.description, endpoint.events = url, description, _clean_events(events_wanted)
    fields = ["url", "description", "events"]
    if enabled is not None and enabled != endpoint.enabled:
        _set_enabled(endpoint, enabled)
        fields += ["enabled", "failing_since", "disabled_at", "disabled_reason"]
    endpoint.save(update_fields=fields)
    _changed(endpoint)
    return endpoint


def _set_enabled(endpoint: WebhookEndpoint, enabled: bool) -> None:
    endpoint.enabled = enabled
    endpoint.failing_since = None
    endpoint.disabled_at = None if enabled else timezone.now()
    endpoint.disabled_reason = "" if enabled else "Disabled by an admin."


def endpoint_enable(*, endpoint: WebhookEndpoint) -> None:
    """Send to it again; its earlier failures are forgiven (deliveries given up stay so: re-send them)."""
    _set_enabled(endpoint, True)
    endpoint.save(update_fields=["enabled", "failing_since", "disabled_at", "disabled_reason"])
    _changed(endpoint)


def endpoint_roll_secret(*, endpoint: WebhookEndpoint) -> str:
    """A new signing secret, used from the next attempt on; returned once to be shown once."""
    endpoint.secret = new_signing_secret()
    endpoint.save(update_fields=["secret"])
    return endpoint.secret


def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    organization_id = endpoint.organization_id
    endpoint.delete()  # its deliveries go with it; a queued attempt then finds nothing to do
    transaction.on_commit(lambda: events.forget_subscriptions(organization_id))
    events.forget_subscriptions(organization_id)


# --- Deliveries ----------------------------------------------------------------------------------

def resend(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send the same event (same id and body, so a receiver that saw it can tell) once more, with a
    fresh retry schedule."""
    from .tasks import deliver_webhook

    if not delivery.endpoint.enabled:
        raise ValidationError(_("The endpoint is disabled: enable it first."))
    with transaction.atomic():
        again = WebhookDelivery.objects.create(
            organization_id=delivery.organization_id, endpoint=delivery.endpoint, event_id=delivery.event_id,
            event_type=delivery.event_type, body=delivery.body, resent_from=delivery)
        # One copy of an event keeps retrying, not two: a delivery still waiting stops for its re-send.
        WebhookDelivery.objects.filter(pk=delivery.pk, status=WebhookDelivery.Status.PENDING).update(
            status=WebhookDelivery.Status.CANCELLED, next_attempt_at=None,
            last_error=f"Re-sent as delivery {again.code}.")
        outbox.enqueue(deliver_webhook, again.pk)
    return again


def _excerpt(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace")
    return "".join(c if c.isprintable() or c in "\n\t" else "\ufffd" for c in text)[:EXCERPT_LENGTH]


def _post(endpoint: WebhookEndpoint, delivery: WebhookDelivery) -> tuple[int | None, str, str]:
    """One POST; returns (status code or None, response excerpt, error)."""
    body = delivery.body.encode()
    headers = {
        "Content-Type": "application/json",
        signing.HEADER: signing.header_value(endpoint.secret, int(time.time()), body),
        "Portal-Event-Id": delivery.event_id,
        "Portal-Event-Type": delivery.event_type,
        "Portal-Delivery": delivery.code,
    }
    try:
        response = http.request("POST", endpoint.url, data=body, headers=headers, retries=False,
                                timeout=_timeout(), stream=True)
    except http.OutboundError as error:
        return None, "", str(error)[:300]
    try:
        raw = response.raw.read(EXCERPT_LENGTH * 4, decode_content=True) or b""
    except Exception as error:  # noqa: BLE001 - the status arrived; a body cut short is only noted
        raw = f"(response body unreadable: {error.__class__.__name__})".encode()
    finally:
        response.close()
    return response.status_code, _excerpt(raw), ""


def attempt(delivery_id: int) -> None:
    """Try one delivery once. Runs inside the outbox's exclusive transaction (tasks.deliver_webhook),
    so the attempt, the next try and the task's completion commit together."""
    from .tasks import deliver_webhook

    delivery = (WebhookDelivery.objects.select_for_update(of=("self",)).select_related("endpoint")
                .filter(pk=delivery_id).first())
    if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
        return  # deleted with its endpoint, or already finished
    endpoint = delivery.endpoint
    if not endpoint.enabled:
        delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.CANCELLED, None
        delivery.last_error = "Not sent: the endpoint is disabled."
        delivery.save(update_fields=["status", "next_attempt_at", "last_error"])
        return
    started_at, clock = timezone.now(), time.monotonic()
    status_code, excerpt, error = _post(endpoint, delivery)
    finished_at = timezone.now()
    number = delivery.attempts + 1
    WebhookAttempt.objects.create(delivery=delivery, number=number, started_at=started_at,
                                  duration_ms=round((time.monotonic() - clock) * 1000), status_code=status_code,
                                  response_excerpt=excerpt, error=error)
    delivery.attempts, delivery.last_status_code = number, status_code
    delivery.last_response, delivery.last_error = excerpt, error
    if status_code is not None and 200 <= status_code < 300:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = (
            WebhookDelivery.Status.DELIVERED, finished_at, None)
        WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=False).update(failing_since=None)
    else:
        if not error:
            delivery.last_error = f"The receiver answered {status_code}."
        schedule = retry_schedule()
        if number <= len(schedule):
            delivery.next_attempt_at = finished_at + timedelta(seconds=schedule[number - 1])
            outbox.enqueue(deliver_webhook, delivery.pk, not_before=delivery.next_attempt_at)
        else:
            delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.FAILED, None
            delivery.last_error = f"Gave up after {number} attempts: {delivery.last_error}"[:300]
    delivery.save()
    if delivery.status != WebhookDelivery.Status.DELIVERED:
        _note_failure(endpoint, finished_at)


def _note_failure(endpoint: WebhookEndpoint, now) -> None:
    """Remember since when the endpoint fails; one that has not taken a delivery for
    WEBHOOK_DISABLE_AFTER_SECONDS (a day) is disabled and its organization's admins are told."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=now)
    failing_since = WebhookEndpoint.objects.filter(pk=endpoint.pk).values_list("failing_since", flat=True).first()
    if failing_since is None or now - failing_since < disable_after():
        return
    hours = round((now - failing_since).total_seconds() / 3600)
    disabled = WebhookEndpoint.objects.filter(pk=endpoint.pk, enabled=True).update(
        enabled=False, disabled_at=now,
        disabled_reason=f"Disabled automatically: every delivery failed for {hours} hours.")
    if not disabled:
        return
    WebhookDelivery.objects.filter(endpoint_id=endpoint.pk, status=WebhookDelivery.Status.PENDING).update(
        status=WebhookDelivery.Status.CANCELLED, next_attempt_at=None,
        last_error="Not sent: the endpoint was disabled.")
    _changed(endpoint)
    logger.warning("webhook endpoint %s of organization %s disabled after failing for %s hours",
                   endpoint.code, endpoint.organization_id, hours)
    from .tasks import send_endpoint_disabled_email

    admins = Membership.objects.filter(
        organization_id=endpoint.organization_id,
        role__in=[Membership.Role.ADMIN, Membership.Role.OWNER], user__is_active=True,
    ).values_list("user_id", flat=True)
    outbox.enqueue_many(send_endpoint_disabled_email, [[endpoint.pk, user_id] for user_id in admins])
