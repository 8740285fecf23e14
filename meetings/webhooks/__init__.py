"""Outgoing webhooks: organization admins register endpoints for events; every event that happens is
recorded as a signed delivery per matching endpoint in the transaction that made it happen, then sent
by a Celery task through the outbox (portal/outbox.py) and retried with backoff for about a day.

    events.py    the event types and `emit(organization, type, data)`; the public payload builders
    signing.py   the Portal-Signature header (HMAC-SHA256 over "{timestamp}.{body}")
    services.py  endpoints (create, edit, roll secret, enable) and deliveries (attempt, retry, resend,
                 disable an endpoint that keeps failing)
    tasks.py     the Celery tasks (deliver, tell the admins an endpoint was disabled)
    models.py    WebhookEndpoint, WebhookDelivery, WebhookAttempt (imported by meetings.models)
"""
