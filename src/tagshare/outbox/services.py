"""Writing outbox events: always inside the caller's transaction, worker wake-up after commit."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db import transaction

from tagshare.dbcopy import Prepared, RowStore, Table, store_for_connection
from tagshare.outbox.models import MAX_ATTEMPTS, OutboxEvent

EVENT_TABLE = Table.of(OutboxEvent, with_id=False).without("last_error")

# Hooks called after commit when events were written (the embedded worker registers one).
_wake_hooks: list[Callable[[], None]] = []


def register_wake_hook(hook: Callable[[], None]) -> None:
    if hook not in _wake_hooks:
        _wake_hooks.append(hook)


def _wake() -> None:
    for hook in list(_wake_hooks):
        hook()


def emit(*, nation_id: int, kind: str, person_id: int | None, payload: dict[str, Any]) -> None:
    """Record an event with the change that caused it. Must run inside the change's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox events must be written inside the transaction of the change")
    OutboxEvent.objects.create(nation_id=nation_id, kind=kind, person_id=person_id, payload=payload)
    transaction.on_commit(_wake)


def emit_many(events: Iterable[OutboxEvent]) -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox events must be written inside the transaction of the change")
    OutboxEvent.objects.bulk_create(list(events), batch_size=2000)
    transaction.on_commit(_wake)


def event_row(
    nation_id: int, person_id: int | None, kind: str, payload_json: str, created_at: Any
) -> tuple[Any, ...]:
    """One new event as a plain row for `emit_rows`: the bulk paths build thousands of these,
    with the payload already JSON text and `created_at` adapted by the dbcopy store."""
    return (nation_id, person_id, kind, payload_json, created_at, None, 0, None)


def emit_rows(rows: list[tuple[Any, ...]] | Prepared, *, store: RowStore | None = None) -> None:
    """Record many events built with `event_row` (COPY on PostgreSQL), in the change's transaction.

    `store`: the caller's, when it writes in the background (dbcopy `in_background`); `rows`
    may come prepared by it for EVENT_TABLE."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox events must be written inside the transaction of the change")
    if rows:
        (store or store_for_connection()).insert(EVENT_TABLE, rows)
        transaction.on_commit(_wake)


def outbox_set_aside() -> Any:
    """Events the drainer gave up on (MAX_ATTEMPTS failures), newest first, with their error."""
    return OutboxEvent.objects.filter(
        processed_at__isnull=False, attempts__gte=MAX_ATTEMPTS
    ).order_by("-id")


def outbox_retry(event_ids: Iterable[int] | None = None) -> int:
    """Put set-aside events (those given, or all) back in the queue; returns how many.

    Safe to repeat: applying an event writes a value only when its version is newer, so an event
    that did land after all changes nothing the second time. The error text is kept until the
    event is processed again.
    """
    chosen = outbox_set_aside()
    if event_ids is not None:
        chosen = chosen.filter(pk__in=list(event_ids))
    with transaction.atomic():
        count = chosen.update(processed_at=None, attempts=0, claimed_until=None)
        if count:
            transaction.on_commit(_wake)
    return count
