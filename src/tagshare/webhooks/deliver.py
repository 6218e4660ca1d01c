"""Sending due webhook deliveries: claim briefly, POST outside any transaction, record the result.

1. Claim: one short transaction picks due deliveries (`FOR UPDATE SKIP LOCKED` on PostgreSQL,
   as the outbox drain does, so several workers never take the same one), counts the attempt
   and moves `next_attempt_at` a lease ahead. No transaction stays open during HTTP calls.
2. Send: the claimed deliveries are POSTed as JSON all at once, on plain threads that touch no
   database, so a turn takes about as long as its slowest endpoint: at most the timeout.
3. Record: 2xx is delivered; anything else, or a network error, is retried after the next
   backoff step, and after the last attempt it is failed. A worker that dies between 1 and 3
   leaves its claims to expire, and they are sent again (receivers de-duplicate on the
   `Tagshare-Delivery` header).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from tagshare.webhooks import signing
from tagshare.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)

TIMEOUT = 5.0  # seconds, per connection attempt and per read
# Waits after attempts 1, 2, …; one more attempt than steps, then the delivery is failed.
BACKOFF = (
    dt.timedelta(seconds=30),
    dt.timedelta(minutes=2),
    dt.timedelta(minutes=10),
    dt.timedelta(hours=1),
    dt.timedelta(hours=6),
    dt.timedelta(hours=12),
    dt.timedelta(hours=24),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
# Longer than a whole turn of sends can take, so a claim never expires while it is being sent.
LEASE = dt.timedelta(minutes=2)
BATCH = 20
USER_AGENT = "Tagshare-Webhooks/1"


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer that is not 2xx: the endpoint's URL should be the final one
    (following it would turn the POST into a GET and lose the body)."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def deliver_due(now: dt.datetime | None = None, limit: int = BATCH) -> int:
    """Send up to `limit` deliveries due at `now`; returns how many were attempted."""
    now = now or timezone.now()
    claimed = _claim(now, limit)
    if not claimed:
        return 0
    endpoints = WebhookEndpoint.objects.select_related("nation").in_bulk(
        {d.endpoint_id for d in claimed}
    )
    # An endpoint removed since the claim took its deliveries with it: nothing to send.
    claimed = [d for d in claimed if d.endpoint_id in endpoints]
    requests = [_request(d, endpoints[d.endpoint_id], now) for d in claimed]
    if not requests:
        return 0
    if len(requests) == 1:
        outcomes = [_send(requests[0])]
    else:
        with ThreadPoolExecutor(max_workers=len(requests)) as pool:
            outcomes = list(pool.map(_send, requests))
    for delivery, outcome in zip(claimed, outcomes, strict=True):
        _record(delivery, outcome, now)
    return len(claimed)


def deliver_until_idle(now: dt.datetime | None = None, max_rounds: int = 50) -> int:
    """Send everything due (bounded, so a flood of events cannot hold one task forever)."""
    total = 0
    for _ in range(max_rounds):
        sent = deliver_due(now)
        total += sent
        if sent < BATCH:
            break
    return total


def worker_tick() -> None:
    """Registered with the outbox worker: called once per turn of its loop."""
    deliver_due()


def _claim(now: dt.datetime, limit: int) -> list[WebhookDelivery]:
    with transaction.atomic():
        due = WebhookDelivery.objects.filter(
            status=DeliveryStatus.PENDING, next_attempt_at__lte=now, endpoint__active=True
        ).order_by("next_attempt_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True, of=("self",))
        claimed = list(due[:limit])
        if claimed:
            WebhookDelivery.objects.filter(pk__in=[d.pk for d in claimed]).update(
                attempts=F("attempts") + 1, next_attempt_at=now + LEASE
            )
            for delivery in claimed:
                delivery.attempts += 1
    return claimed


@dataclass(frozen=True)
class _Request:
    url: str
    body: bytes
    headers: dict[str, str]


def body_of(delivery: WebhookDelivery, endpoint: WebhookEndpoint) -> bytes:
    """The JSON a receiver gets: the same bytes at every attempt, so its de-duplication holds."""
    envelope = {
        "id": delivery.pk,
        "type": delivery.event_type,
        "created_at": delivery.created_at.isoformat(),
        "nation": endpoint.nation.slug,
        "data": delivery.payload,
    }
    return json.dumps(envelope, separators=(",", ":"), sort_keys=True).encode()


def _request(delivery: WebhookDelivery, endpoint: WebhookEndpoint, now: dt.datetime) -> _Request:
    body = body_of(delivery, endpoint)
    timestamp = int(now.timestamp())
    return _Request(
        url=endpoint.url,
        body=body,
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Tagshare-Event": delivery.event_type,
            "Tagshare-Delivery": str(delivery.pk),
            signing.HEADER: signing.header(endpoint.secret, timestamp, body),
        },
    )


def _send(request: _Request) -> Outcome:
    http_request = urllib.request.Request(
        request.url, data=request.body, headers=request.headers, method="POST"
    )
    try:
        with _opener.open(http_request, timeout=TIMEOUT) as response:
            return Outcome(response.status, "")
    except urllib.error.HTTPError as exc:
        exc.close()
        return Outcome(exc.code, f"HTTP {exc.code} {exc.reason}"[:500])
    except Exception as exc:  # refused, timed out, bad TLS, bad URL: all worth a retry
        reason = getattr(exc, "reason", exc)
        return Outcome(None, f"{type(exc).__name__}: {reason}"[:500])


def _record(delivery: WebhookDelivery, outcome: Outcome, now: dt.datetime) -> None:
    changes: dict[str, Any] = {"last_status_code": outcome.status_code, "last_error": outcome.error}
    if outcome.ok:
        changes.update(status=DeliveryStatus.DELIVERED, delivered_at=now)
    elif delivery.attempts >= MAX_ATTEMPTS:
        changes.update(status=DeliveryStatus.FAILED)
        logger.warning(
            "webhook delivery %s to endpoint %s failed after %s attempts: %s",
            delivery.pk,
            delivery.endpoint_id,
            delivery.attempts,
            outcome.error,
        )
    else:
        changes.update(next_attempt_at=now + BACKOFF[delivery.attempts - 1])
    WebhookDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.PENDING).update(**changes)
