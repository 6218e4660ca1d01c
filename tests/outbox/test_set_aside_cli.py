"""`tagshare outbox failed|retry`: an operator sees the events a worker gave up on, and retries them."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tagshare.outbox import drain
from tagshare.outbox.models import OutboxEvent

KIND = "tag.deleted"  # no handler of the product listens to it


class Handler:
    """Fails while `broken` (the bug or clash an operator then fixes); records what it applied."""

    def __init__(self) -> None:
        self.broken = True
        self.applied: list[int] = []

    def __call__(self, events: Sequence[OutboxEvent]) -> None:
        for event in events:
            if self.broken and event.payload.get("fragile"):
                raise RuntimeError("the receiving profile is locked by a migration [/step 2]")
            self.applied.append(event.pk)


@pytest.fixture
def handler() -> Iterator[Handler]:
    handler = Handler()
    drain.register(KIND, handler)
    yield handler
    drain._handlers[KIND].remove(handler)


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("outbox", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _listed_ids(out: str) -> list[int]:
    return [int(line.split("│")[1]) for line in out.splitlines() if line.startswith("│")]


def _set_aside(**payload: object) -> OutboxEvent:
    event = OutboxEvent.objects.create(nation_id=1, kind=KIND, payload=payload)
    for _ in range(drain.MAX_ATTEMPTS):
        OutboxEvent.objects.filter(pk=event.pk).update(claimed_until=None)  # its time has come
        drain.drain_once()
    event.refresh_from_db()
    assert event.processed_at is not None and event.attempts == drain.MAX_ATTEMPTS
    return event


@pytest.mark.django_db
def test_failed_lists_set_aside_events_with_their_error(handler):
    assert "No set-aside events" in run("failed")
    bad = _set_aside(fragile=True)
    fine = OutboxEvent.objects.create(nation_id=1, kind=KIND, payload={})
    drain.drain_once()
    out = run("failed")
    assert _listed_ids(out) == [bad.pk]  # not `fine`, which was applied
    assert KIND in out and "locked by a migration [/step 2]" in out  # shown as written
    assert fine.pk != bad.pk


@pytest.mark.django_db
def test_retry_puts_an_event_back_and_the_worker_applies_it(handler):
    bad = _set_aside(fragile=True)
    handler.broken = False  # the operator fixed the cause
    assert "Put 1 event back" in run("retry", str(bad.pk))
    assert drain.drain_once() == 1
    assert handler.applied == [bad.pk]
    assert "No set-aside events" in run("failed")


@pytest.mark.django_db
def test_retry_all_and_its_errors(handler):
    first, second = _set_aside(fragile=True), _set_aside(fragile=True)
    with pytest.raises(CommandError, match="or --all"):
        run("retry")
    with pytest.raises(CommandError, match="or --all"):
        run("retry", str(first.pk), "--all")
    with pytest.raises(CommandError, match="are numbers; not: x1"):
        run("retry", "x1")
    with pytest.raises(CommandError, match=f"No set-aside event with id {second.pk + 100}"):
        run("retry", str(first.pk), str(second.pk + 100))
    first.refresh_from_db()
    assert first.processed_at is not None  # nothing was retried
    handler.broken = False
    assert "Put 2 events back" in run("retry", "--all")
    assert drain.drain_once() == 2
    assert sorted(handler.applied) == [first.pk, second.pk]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("raw", "message"),
    [("²", "are numbers; not: ²"), ("9" * 20, f"No set-aside event with id {'9' * 20} ")],
    ids=["other-digits", "20-digits"],
)
def test_retry_with_an_odd_id_is_a_one_line_error(raw, message):
    # "²" passes isdigit() but not int(); 20 digits overflow SQLite: both were tracebacks.
    with pytest.raises(CommandError, match=message):
        run("retry", raw)
