"""`Idempotency-Key` on POST: a retried create answers what the first one answered, never doing the
work twice.

The first request with a key records its answer in the same transaction as the work it did, so the
two are kept or lost together. A concurrent twin blocks on the row's unique key until the first
commits, then answers the recorded result. The same key with another method, path or body is
refused (422): it is a client bug, not a retry. Errors are not recorded (nothing was done, so the
retry runs again). Keys are per caller and kept IDEMPOTENCY_KEY_HOURS."""

import hashlib
import json
from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.response import Response

from portal.models import IdempotentRequest

from .errors import ApiError

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = IdempotentRequest._meta.get_field("key").max_length


def _fingerprint(request) -> str:
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    digest.update(request.body)
    return digest.hexdigest()


def _replay(record: IdempotentRequest, fingerprint: str) -> Response:
    if record.fingerprint != fingerprint:
        raise ApiError(f"This {HEADER} was used for another request; use a new key for a new request.",
                       code="idempotency_key_reused", status_code=422)
    response = Response(json.loads(record.body) if record.body else None, status=record.status)
    response["Idempotent-Replayed"] = "true"
    return response


def idempotent(handler):
    """For a POST handler of an API view (after authentication: keys are the caller's)."""

    @wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get(HEADER, "")
        if not key:
            return handler(view, request, *args, **kwargs)
        if len(key) > MAX_KEY_LENGTH or not key.isprintable() or not key.isascii():
            raise ApiError(f"{HEADER} is at most {MAX_KEY_LENGTH} printable ASCII characters.",
                           code="invalid_idempotency_key", status_code=400)
        caller, fingerprint = request.caller.identity, _fingerprint(request)
        kept_since = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)
        existing = IdempotentRequest.objects.filter(caller=caller, key=key, created_at__gte=kept_since).first()
        if existing is not None:
            return _replay(existing, fingerprint)
        with transaction.atomic():
            IdempotentRequest.objects.filter(caller=caller, key=key, created_at__lt=kept_since).delete()
            try:
                with transaction.atomic():
                    record = IdempotentRequest.objects.create(caller=caller, key=key, fingerprint=fingerprint,
                                                              status=0)
            except IntegrityError:  # a twin committed first while this one waited on the key
                record = None
            if record is None:
                return _replay(IdempotentRequest.objects.get(caller=caller, key=key), fingerprint)
            response = handler(view, request, *args, **kwargs)
            if response.status_code >= 400:
                transaction.set_rollback(True)
                return response
            # Kept encrypted: an answer may carry join links, which the portal otherwise keeps only hashed.
            record.status, record.body = response.status_code, json.dumps(response.data, cls=DjangoJSONEncoder)
            record.save(update_fields=["status", "body"])
        return response

    return wrapper


def forget_old() -> int:
    """Beat: drop records older than the window."""
    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)
    return IdempotentRequest.objects.filter(created_at__lt=cutoff).delete()[0]
