"""One event that keeps failing must not hold up the events behind it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest
from django.utils import timezone

from tagshare.outbox import drain
from tagshare.outbox.models import OutboxEvent

KIND = "tag.deleted"  # no handler of the product listens to it


@pytest.fixture
def failing_handler() -> Iterator[list[int]]:
    """A handler that fails on events whose payload says so; records what it handled."""
    handled: list[int] = []

    def handler(events: Sequence[OutboxEvent]) -> None:
        for event in events:
            if event.payload.get("fail"):
                raise RuntimeError("this event cannot be applied")
            handled.append(event.pk)

    drain.register(KIND, handler)
    yield handled
    drain._handlers[KIND].remove(handler)


def _event(**payload: object) -> OutboxEvent:
    return OutboxEvent.objects.create(nation_id=1, kind=KIND, payload=payload)


@pytest.mark.django_db
def test_a_failing_event_is_put_off_and_the_others_are_processed(failing_handler):
    good1, bad, good2 = _event(), _event(fail=True), _event()
    assert drain.drain_once() == 2
    # (the first, whole-batch attempt handled good1 too, then rolled back with the batch)
    assert failing_handler[-2:] == [good1.pk, good2.pk]
    processed = OutboxEvent.objects.filter(processed_at__isnull=False)
    assert set(processed.values_list("pk", flat=True)) == {good1.pk, good2.pk}
    bad.refresh_from_db()
    assert bad.processed_at is None and bad.attempts == 1
    assert "this event cannot be applied" in bad.last_error
    assert bad.claimed_until is not None and bad.claimed_until > timezone.now()
    assert drain.drain_once() == 0  # put off: not tried again at once


@pytest.mark.django_db
def test_an_event_that_always_fails_is_set_aside_after_its_attempts(failing_handler):
    bad = _event(fail=True)
    for attempt in range(1, drain.MAX_ATTEMPTS + 1):
        OutboxEvent.objects.filter(pk=bad.pk).update(claimed_until=None)  # its time has come
        drain.drain_once()
        bad.refresh_from_db()
        assert bad.attempts == attempt
    assert bad.processed_at is not None  # set aside, with what went wrong kept
    assert bad.last_error.startswith("RuntimeError")
    assert drain.next_retry_at() is None


@pytest.mark.django_db
def test_until_idle_waits_for_a_put_off_event_that_then_succeeds(failing_handler):
    bad = _event(fail=True)
    drain.drain_once()
    OutboxEvent.objects.filter(pk=bad.pk).update(payload={})  # whatever failed is fixed
    assert drain.Worker(idle_seconds=0.01).run(until_idle=True) == 1
    bad.refresh_from_db()
    assert bad.processed_at is not None and failing_handler == [bad.pk]
    assert bad.attempts == 1  # the failure stays on record
