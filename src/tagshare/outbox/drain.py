"""Draining the outbox: claim pending events, hand them to the handlers, mark them processed.

Domain apps register handlers per event kind (sharing does, in its AppConfig.ready), so the
outbox knows nothing of what consumes it. A batch is claimed and processed in one transaction:
a worker that dies mid-batch commits nothing, and its events are claimed again. On PostgreSQL
`FOR UPDATE SKIP LOCKED` lets several workers drain side by side without taking the same event.
Handlers must be idempotent: replaying an event changes nothing (versions see to that).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Sequence

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from tagshare.idlists import many_ids
from tagshare.outbox.models import MAX_ATTEMPTS, OutboxEvent
from tagshare.outbox.services import register_wake_hook

logger = logging.getLogger(__name__)
Handler = Callable[[Sequence[OutboxEvent]], None]
_handlers: dict[str, list[Handler]] = {}
BATCH = 1000


def register(kind: str, handler: Handler) -> None:
    """Call `handler` with each claimed batch's events of `kind` (in id order)."""
    if handler not in _handlers.setdefault(kind, []):
        _handlers[kind].append(handler)


# Other periodic work that rides on the worker's loop (webhook deliveries register one), called
# once per turn outside any transaction; like handlers, registered by the apps that own it.
_ticks: list[Callable[[], object]] = []


def register_tick(tick: Callable[[], object]) -> None:
    if tick not in _ticks:
        _ticks.append(tick)


def run_ticks() -> None:
    for tick in list(_ticks):
        try:
            tick()
        except Exception:  # one failing tick must not stop the sync; the next turn tries again
            logger.exception("worker tick %r failed", tick)


def deliver(events: Sequence[OutboxEvent]) -> None:
    """Hand events to their handlers, grouped by kind in the order given, in one transaction.

    No claiming and no marking: that is drain_once's job. Tests use this to deliver events in
    orders and groupings of their choosing (handlers must not care)."""
    by_kind: dict[str, list[OutboxEvent]] = {}
    for event in events:
        by_kind.setdefault(event.kind, []).append(event)
    with transaction.atomic():
        for kind, batch in by_kind.items():
            for handler in _handlers.get(kind, []):
                handler(batch)


# An event that fails on its own is retried after 2, 4, 8 … seconds; after MAX_ATTEMPTS it is
# set aside (processed, with its error and attempt count kept) so that it cannot hold up the
# events behind it for ever. `tagshare outbox failed` lists them; daily reconciliation repairs links.


def drain_once(limit: int = BATCH) -> int:
    """Process up to `limit` pending events; returns how many were processed.

    A failing batch is rolled back and its events are processed one by one, each in its own
    transaction: one bad event (a clash nobody foresaw) must not stop every other sync."""
    claimed: list[int] = []
    try:
        return _drain(limit, claimed)
    except Exception:
        if not claimed:
            raise  # the claim itself failed (the database is gone): the caller retries
        logger.exception("outbox drain failed; the batch will be retried one event at a time")
    done = 0
    for event_id in claimed:
        try:
            done += _drain(1, [], only=event_id)
        except Exception as exc:
            logger.exception("outbox event %s failed", event_id)
            _record_failure(event_id, exc)
    return done


def _drain(limit: int, claimed: list[int], *, only: int | None = None) -> int:
    now = timezone.now()
    with transaction.atomic():
        pending = OutboxEvent.objects.filter(processed_at__isnull=True).filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)
        )
        if only is not None:
            pending = pending.filter(pk=only)
        pending = pending.order_by("id")
        if connection.features.has_select_for_update_skip_locked:
            pending = pending.select_for_update(skip_locked=True)
        events = list(pending[:limit])
        if not events:
            return 0
        claimed[:] = [e.pk for e in events]
        deliver(events)
        OutboxEvent.objects.filter(pk__in=many_ids(claimed)).update(processed_at=timezone.now())
    return len(events)


def _record_failure(event_id: int, exc: Exception) -> None:
    """Count the attempt and put the event off (or aside, after MAX_ATTEMPTS)."""
    try:
        with transaction.atomic():
            event = OutboxEvent.objects.select_for_update().filter(pk=event_id).first()
            if event is None or event.processed_at is not None:
                return
            event.attempts += 1
            event.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            now = timezone.now()
            if event.attempts >= MAX_ATTEMPTS:
                event.processed_at = now
                logger.error(
                    "outbox event %s set aside after %s attempts: %s",
                    event_id,
                    event.attempts,
                    event.last_error,
                )
            else:
                event.claimed_until = now + dt.timedelta(seconds=2**event.attempts)
            event.save(update_fields=["attempts", "last_error", "claimed_until", "processed_at"])
    except Exception:  # the database itself is failing: the event stays pending as it was
        logger.exception("could not record the failure of outbox event %s", event_id)


def next_retry_at() -> dt.datetime | None:
    """When the earliest put-off event may be tried again (None: nothing is put off)."""
    return (
        OutboxEvent.objects.filter(processed_at__isnull=True, claimed_until__isnull=False)
        .order_by("claimed_until")
        .values_list("claimed_until", flat=True)
        .first()
    )


def drain_until_idle(limit: int = BATCH, max_rounds: int = 10_000) -> int:
    """Drain until nothing is pending (handlers' own events included); returns events processed."""
    total = 0
    for _ in range(max_rounds):
        claimed = drain_once(limit)
        if not claimed:
            break
        total += claimed
    return total


class DrainFailed(RuntimeError):
    """Draining kept failing; nothing was lost (the failed batches rolled back)."""


class Worker:
    """A loop that drains, sleeping until woken by a commit that wrote events (or a timeout)."""

    def __init__(self, *, idle_seconds: float = 1.0) -> None:
        self.idle_seconds = idle_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        register_wake_hook(self._wake.set)

    def run(self, *, until_idle: bool = False, max_failures: int = 5) -> int:
        """Drain until stopped; with `until_idle`, until nothing is pending.

        A failed batch (a lock timeout, a deadlock, a dropped connection) rolls back and is
        retried. With `until_idle`, after `max_failures` failures in a row the worker gives up
        with `DrainFailed` rather than report a clean finish with events still pending.
        """
        total = 0
        failures = 0
        while not self._stop.is_set():
            try:
                claimed = drain_once()
                failures = 0
            except Exception as exc:
                logger.exception("outbox drain failed; the batch will be retried")
                failures += 1
                if until_idle and failures >= max_failures:
                    raise DrainFailed(
                        f"the outbox could not be drained ({failures} failed attempts in a row; "
                        f"last error: {exc}); its events are still pending and will be retried"
                    ) from exc
                self._stop.wait(self.idle_seconds * failures)
                connection.close()  # a broken connection is replaced on the next attempt
                run_ticks()
                continue
            run_ticks()
            total += claimed
            if claimed:
                continue
            if until_idle:
                retry_at = next_retry_at()
                if retry_at is None:
                    break
                # Put-off events are still pending: wait for them (they succeed or are set
                # aside after MAX_ATTEMPTS), rather than report a clean finish.
                self._stop.wait(max(0.0, (retry_at - timezone.now()).total_seconds()) + 0.05)
                continue
            self._wake.wait(self.idle_seconds)
            self._wake.clear()
        if threading.current_thread() is not threading.main_thread():
            connection.close()  # a worker thread's own connection; the caller's stays open
        return total

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="tagshare-worker", daemon=True)
        thread.start()
        return thread
