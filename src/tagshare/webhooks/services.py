"""Webhook writes: endpoints (admins only, in their own nation) and enqueuing deliveries.

Deliveries are written in the transaction of the change that caused the event, like outbox
events: a change that rolls back sends nothing, and a committed one is never lost (deliver.py
sends what is due, after commit, from a worker).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from tagshare.errors import NotFound, ValidationFailed
from tagshare.nations.actors import Actor, require_admin
from tagshare.nations.models import Nation
from tagshare.webhooks import signing
from tagshare.webhooks.models import (
    SUBSCRIBABLE,
    EventType,
    WebhookDelivery,
    WebhookEndpoint,
)

URL_MAX = 2000
_url_validator = URLValidator(schemes=["http", "https"])
Event = tuple[int, str, dict[str, Any]]  # (nation id, event type, data)


def _clean_url(url: str) -> str:
    url = (url or "").strip()
    if len(url) > URL_MAX:
        raise ValidationFailed(f"The URL is longer than {URL_MAX} characters.", errors={"url": url})
    try:
        _url_validator(url)
    except ValidationError:
        raise ValidationFailed(
            "Enter a full http:// or https:// URL, such as https://example.org/tagshare-hook.",
            errors={"url": "not an http(s) URL"},
        ) from None
    return url


def _clean_event_types(event_types: Iterable[str] | None) -> list[str]:
    chosen = list(dict.fromkeys(str(t).strip() for t in event_types or [] if str(t).strip()))
    unknown = [t for t in chosen if t not in SUBSCRIBABLE]
    if unknown:
        raise ValidationFailed(
            f"Unknown event type(s): {', '.join(unknown)}. Choose from {', '.join(SUBSCRIBABLE)}, "
            "or none for all of them.",
            errors={"event_types": ", ".join(unknown)},
        )
    return chosen


def webhook_create(
    *, nation: Nation, actor: Actor, url: str, event_types: Iterable[str] | None = None
) -> WebhookEndpoint:
    """A new endpoint with a server-made secret; `endpoint.secret` is for the caller to show once."""
    require_admin(actor, nation, "add webhooks")
    return WebhookEndpoint.objects.create(
        nation=nation,
        url=_clean_url(url),
        secret=signing.new_secret(),
        event_types=_clean_event_types(event_types),
        created_by=actor.user,
    )


def access_webhook_by_id(nation: Nation, webhook_id: int | str) -> WebhookEndpoint:
    """This nation's endpoint; another nation's answers exactly like a missing one."""
    try:
        pk = int(webhook_id)
    except (TypeError, ValueError):
        raise NotFound(f"Webhook {webhook_id!r} not found.") from None
    endpoint = (
        WebhookEndpoint.objects.filter(pk=pk, nation=nation).first() if 0 < pk < 2**63 else None
    )
    if endpoint is None:
        raise NotFound(f"Webhook {webhook_id} not found.")
    return endpoint


def webhook_delete(*, nation: Nation, actor: Actor, endpoint: WebhookEndpoint) -> None:
    """The endpoint goes, with its deliveries (pending ones are never sent)."""
    if endpoint.nation_id != nation.pk:
        raise NotFound(f"Webhook {endpoint.pk} not found.")
    require_admin(actor, nation, "remove webhooks")
    endpoint.delete()


def webhook_test(*, nation: Nation, actor: Actor, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Queue a `ping` to this endpoint alone, whatever it subscribes to."""
    if endpoint.nation_id != nation.pk:
        raise NotFound(f"Webhook {endpoint.pk} not found.")
    require_admin(actor, nation, "test webhooks")
    return WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_type=EventType.PING,
        payload={"webhook_id": endpoint.pk, "message": "A test delivery from Tagshare."},
        next_attempt_at=timezone.now(),
    )


def subscribed_nations(nation_ids: Iterable[int] | None, event_type: str) -> set[int]:
    """Which of these nations (None: of all) have an active endpoint for `event_type`, so that
    callers can skip building events nobody listens to."""
    endpoints = WebhookEndpoint.objects.filter(active=True)
    if nation_ids is not None:
        ids = set(nation_ids)
        if not ids:
            return set()
        endpoints = endpoints.filter(nation_id__in=ids)
    return {endpoint.nation_id for endpoint in endpoints if endpoint.wants(event_type)}


def webhook_enqueue(nation_id: int, event_type: str, data: dict[str, Any]) -> int:
    """One delivery per active endpoint of the nation that wants `event_type`; returns how many."""
    return webhook_enqueue_many([(nation_id, event_type, data)])


def webhook_enqueue_many(events: Iterable[Event]) -> int:
    """Many events at once: one query for the endpoints, one bulk insert for the deliveries."""
    events = list(events)
    if not events:
        return 0
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(
            "webhook deliveries must be written inside the transaction of the change"
        )
    endpoints: dict[int, list[WebhookEndpoint]] = {}
    for endpoint in WebhookEndpoint.objects.filter(
        nation_id__in={nation_id for nation_id, _, _ in events}, active=True
    ):
        endpoints.setdefault(endpoint.nation_id, []).append(endpoint)
    now = timezone.now()
    rows = [
        WebhookDelivery(
            endpoint=endpoint,
            event_type=event_type,
            payload=data,
            next_attempt_at=now,
        )
        for nation_id, event_type, data in events
        for endpoint in endpoints.get(nation_id, [])
        if endpoint.wants(event_type)
    ]
    WebhookDelivery.objects.bulk_create(rows, batch_size=1000)
    return len(rows)
