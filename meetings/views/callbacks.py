"""The one endpoint hosted providers' servers post events to: `provider_callback`.

The provider's own package reads the request (Provider.parse_event): it checks that the call comes
from the provider and returns the events in it, or raises CallbackRefused. This view then keeps each
raw event once, by its dedupe key (a repeat with the same provider event id is stored once and
answered 200), and applies it after commit: joins and leaves here, anything else through the
provider's apply_events. Anything refused gets a 4xx with a JSON reason and writes
nothing. Provider-specific endpoints that answer a question (Gcore's access check) stay in the
provider's package."""

import hashlib
import logging
import uuid
from functools import partial

from django.core.exceptions import RequestDataTooBig
from django.db import DataError, IntegrityError, transaction
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ..models import ProviderAccount, ProviderEvent
from ..providers import PROVIDERS, get_provider
from ..providers.base import CallbackRefused, ParsedEvent
from ..services.provider_access import JOINED, LEFT, apply_event

logger = logging.getLogger(__name__)
MAX_KEY_LENGTH = ProviderEvent._meta.get_field("dedupe_key").max_length


def _refused(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _dedupe_key(parsed: ParsedEvent) -> str:
    key = parsed.dedupe_key
    if not key:
        # A provider that sends no event id (Gcore makes its own): nothing to tell a repeat by.
        return uuid.uuid4().hex
    if len(key) > MAX_KEY_LENGTH:
        return hashlib.sha256(key.encode()).hexdigest()
    return key


def _store(account: ProviderAccount, events: list[ParsedEvent]) -> list[ProviderEvent]:
    """The events not stored before, stored now (inside the caller's transaction)."""
    stored, seen = [], set()
    for parsed in events:
        key = _dedupe_key(parsed)
        if key in seen or ProviderEvent.objects.filter(account=account, dedupe_key=key).exists():
            continue
        seen.add(key)
        try:
            with transaction.atomic():  # a savepoint: a concurrent delivery of the same event may win
                stored.append(ProviderEvent.objects.create(
                    account=account, dedupe_key=key, kind=parsed.kind, room_id=parsed.room_id,
                    peer_id=parsed.peer_id, payload=parsed.payload))
        except IntegrityError:
            continue
    return stored


@csrf_exempt  # called by the provider's servers; the provider's parse_event authenticates the call
@require_POST
def provider_callback(request, provider_key, account_code, **address):
    """Events of one provider account. `address` holds whatever else the provider's URL names (Gcore's
    …/events/<path_event>); its parse_event reads that from request.resolver_match."""
    if provider_key not in PROVIDERS:
        return _refused("unknown provider", 404)
    account = ProviderAccount.objects.select_related("organization").filter(
        code=account_code, provider=provider_key, enabled=True).first()
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
        with transaction.atomic():
            stored = _store(account, events)
            for event in stored:
                if event.kind in (JOINED, LEFT):
                    transaction.on_commit(partial(apply_event, event))
    except (DataError, ValueError) as error:
        # The provider's parser let through what the database cannot hold; nothing was kept.
        logger.warning("%s event for account %s cannot be stored: %s", provider_key, account.code, error)
        return _refused("the event cannot be stored", 400)
    provider.apply_events()  # this delivery's, and any an earlier delivery left unapplied
    return JsonResponse({"result": "recorded" if stored or not events else "already recorded"})
