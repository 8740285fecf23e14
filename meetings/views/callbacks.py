"""The one endpoint hosted providers' servers post events to: `provider_callback`.

The provider's own package reads the request (Provider.parse_event): it checks that the call comes
from the provider and returns the events in it, or raises CallbackRefused. This view then keeps each
raw event once, by its dedupe key (a repeat with the same provider event id is stored once and
answered 200), in one statement, and has it applied after commit: joins and leaves by the worker,
many at a time (services/provider_events.py), anything else through the provider's apply_events.
Anything refused gets a 4xx with a JSON reason and writes nothing. Provider-specific endpoints that
answer a question (Gcore's access check) stay in the provider's package."""

import hashlib
import json
import logging
import time
import uuid
from functools import partial

from django.core.exceptions import RequestDataTooBig
from django.db import DataError, connection, transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ..models import ProviderAccount, ProviderEvent
from ..providers import PROVIDERS, get_provider
from ..providers.base import CallbackRefused, ParsedEvent
from ..services import provider_events
from ..services.provider_access import JOINED, LEFT

logger = logging.getLogger(__name__)
ACCOUNT_SECONDS = 2.0
_accounts: dict[tuple[str, str], tuple[float, ProviderAccount]] = {}
MAX_KEY_LENGTH = ProviderEvent._meta.get_field("dedupe_key").max_length
TABLE = ProviderEvent._meta.db_table


def _refused(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _account(provider_key: str, code: str) -> ProviderAccount | None:
    """The enabled account, as this process read it at most ACCOUNT_SECONDS ago: a provider sends
    many events a second, and each read costs a query and the secrets' decryption. An account
    disabled or changed elsewhere is refused within that; saved in this process, at once."""
    key, now = (provider_key, code), time.monotonic()
    read = _accounts.get(key)
    if read is not None and now - read[0] < ACCOUNT_SECONDS:
        return read[1]
    account = ProviderAccount.objects.select_related("organization").filter(
        code=code, provider=provider_key, enabled=True).order_by().first()
    if account is None:
        _accounts.pop(key, None)
        return None
    if len(_accounts) >= 1000:
        _accounts.clear()
    _accounts[key] = (now, account)
    return account


@receiver([post_save, post_delete], sender=ProviderAccount)
def _forget_accounts(**kwargs) -> None:
    _accounts.clear()


def _dedupe_key(parsed: ParsedEvent) -> str:
    key = parsed.dedupe_key
    if not key:
        # A provider that sends no event id (Gcore makes its own): nothing to tell a repeat by.
        return uuid.uuid4().hex
    if len(key) > MAX_KEY_LENGTH:
        return hashlib.sha256(key.encode()).hexdigest()
    return key


def _store(account: ProviderAccount, events: list[ParsedEvent]) -> list[str]:
    """Store the events not stored before, in one INSERT … ON CONFLICT DO NOTHING (a concurrent
    delivery of the same event may win); returns the kinds of those stored now."""
    rows, seen, now = [], set(), timezone.now()
    for parsed in events:
        key = _dedupe_key(parsed)
        if key not in seen:
            seen.add(key)
            rows.append((account.pk, key, parsed.kind, parsed.room_id, parsed.peer_id, json.dumps(parsed.payload),
                         now))
    if not rows:
        return []
    values = ", ".join(["(%s, %s, %s, %s, %s, %s::jsonb, %s, false)"] * len(rows))
    # The model's own table and columns; every value is a parameter.
    sql = (f"INSERT INTO {TABLE} (account_id, dedupe_key, kind, room_id, peer_id, payload, received_at, "  # noqa: S608
           f"applied) VALUES {values} ON CONFLICT (account_id, dedupe_key) DO NOTHING RETURNING kind")
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for row in rows for value in row])
        return [row[0] for row in cursor.fetchall()]


def _store_atomically(account: ProviderAccount, events: list[ParsedEvent]) -> list[str]:
    """One statement is its own transaction; inside a caller's, a savepoint keeps a refused statement
    from spoiling it."""
    if connection.in_atomic_block:
        with transaction.atomic():
            return _store(account, events)
    return _store(account, events)


@csrf_exempt  # called by the provider's servers; the provider's parse_event authenticates the call
@require_POST
def provider_callback(request, provider_key, account_code, **address):
    """Events of one provider account. `address` holds whatever else the provider's URL names (Gcore's
    …/events/<path_event>); its parse_event reads that from request.resolver_match."""
    if provider_key not in PROVIDERS:
        return _refused("unknown provider", 404)
    account = _account(provider_key, account_code)
    if account is None:
        return _refused("unknown account", 404)
    provider = get_provider(provider_key, account)
    try:
        events = provider.parse_event(request)
    except CallbackRefused as refused:
        return _refused(str(refused), refused.status)
    except RequestDataTooBig:
        return _refused("the body is too large", 413)
    try:
        stored = _store_atomically(account, events)
    except (DataError, ValueError) as error:
        # The provider's parser let through what the database cannot hold; nothing was kept.
        logger.warning("%s event for account %s cannot be stored: %s", provider_key, account.code, error)
        return _refused("the event cannot be stored", 400)
    if stored:
        kinds = set(stored)
        if kinds & {JOINED, LEFT}:
            # Joins and leaves are applied by the worker, many at a time (provider_events.schedule_apply);
            # the beat sweep applies whatever a lost message or a stopped worker left.
            transaction.on_commit(partial(provider_events.schedule_apply, account.pk))
        if kinds - {JOINED, LEFT}:
            # What the provider applies itself (a finished room closes open stays) comes after the joins
            # and leaves stored before it.
            provider_events.apply_pending(account.pk)
    provider.apply_events()  # this delivery's, and any an earlier delivery left unapplied
    return JsonResponse({"result": "recorded" if stored or not events else "already recorded"})
