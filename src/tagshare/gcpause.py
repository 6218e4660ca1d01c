"""Pausing Python's cyclic garbage collector around bulk work.

A sync batch or an import chunk allocates hundreds of thousands of small dicts, lists and
tuples (field versions, history entries, rows) that form no reference cycles. Each allocation
burst triggers collections that walk every live object — a fifth of a sync batch's Python time,
spent finding nothing. Reference counting still frees everything as usual; the collector runs
again when the last bulk section ends (sections on other threads are counted, so one thread
ending does not restart it under another). A long section calls `sweep()` now and then: it
collects only the young objects, so the odd cycle (a traceback, a query's internals) is still
freed and memory stays flat, while the million long-lived entries of an import are not walked.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_active = 0
_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    global _active, _was_enabled
    with _lock:
        if _active == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0 and _was_enabled:
                gc.enable()


YOUNG = 500_000  # objects: a sweep visits each young one, alive or not


def sweep_if_grown(young: int = YOUNG) -> None:
    """`sweep`, once the young generations hold `young` objects: a long section calls this
    often. A sweep's cost is the young objects it walks — the rows in flight at that moment
    among them, however many rows went by since the last one — so sweeping every few thousand
    rows walked the same in-flight rows again and again (5 s of a million-row import)."""
    if _active and gc.get_count()[0] >= young:
        gc.collect(1)


def sweep() -> None:
    """While paused, collect the two young generations (their survivors move to the old one,
    which is left alone until the collector restarts)."""
    if _active:
        gc.collect(1)
