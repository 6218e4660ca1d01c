"""Where a benchmark's database time goes, statement by statement.

`with statement_times() as times:` counts every SQL statement Django runs in this process
(every thread, every connection) by its shape — literals and numbers folded, so a batch's
statement counts as one however many batches run it — with its number of runs and total
seconds. `top(times, n)` gives the n costliest. On PostgreSQL's parallel reconcile threads the
seconds add up across threads, so they can exceed the wall-clock time of the phase.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_NUMBERS = re.compile(r"\b\d+(?:\.\d+)?\b")
_STRINGS = re.compile(r"'[^']*'")
_SPACES = re.compile(r"\s+")
_ID_LISTS = re.compile(r"\((?:N, )+N\)")


def shape(sql: str) -> str:
    """The statement with its literals folded: one entry per statement of the code."""
    text = _SPACES.sub(" ", _STRINGS.sub("'…'", _NUMBERS.sub("N", sql))).strip()
    return _ID_LISTS.sub("(N, …)", text)


@contextmanager
def statement_times() -> Iterator[dict[str, list[float]]]:
    from django.db.backends import utils

    times: dict[str, list[float]] = {}
    lock = threading.Lock()
    wrapper = utils.CursorWrapper
    # Django's private executors (under every cursor's execute), absent from the type stubs.
    names = ("_execute", "_executemany")
    originals = [getattr(wrapper, name) for name in names]

    def timed(original: Any) -> Any:
        def run(self: Any, sql: str, *args: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(self, sql, *args)
            finally:
                seconds = time.perf_counter() - started
                key = shape(sql)
                with lock:
                    entry = times.setdefault(key, [0, 0.0])
                    entry[0] += 1
                    entry[1] += seconds

        return run

    for name, original in zip(names, originals, strict=True):
        setattr(wrapper, name, timed(original))
    try:
        yield times
    finally:
        for name, original in zip(names, originals, strict=True):
            setattr(wrapper, name, original)


def top(times: dict[str, list[float]], n: int, width: int = 150) -> list[dict[str, Any]]:
    ranked = sorted(times.items(), key=lambda item: -item[1][1])[:n]
    return [
        {"seconds": round(seconds, 2), "runs": int(runs), "statement": text[:width]}
        for text, (runs, seconds) in ranked
    ]
