"""Hybrid logical clock (SPEC §2.3): versions that order writes across nations and processes.

A timestamp packs wall-clock milliseconds (high 48 bits) and a counter (low 16 bits) into one
64-bit integer, so it compares as a plain integer and stores in a BIGINT. A version is the pair
(timestamp, origin nation id): equal timestamps are broken by the nation where the write happened.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import NamedTuple

COUNTER_BITS = 16
COUNTER_MASK = (1 << COUNTER_BITS) - 1
MAX_TIMESTAMP = (1 << 63) - 1


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


class Version(NamedTuple):
    """Totally ordered: timestamp first, then origin nation id."""

    ts: int
    origin: int

    def as_json(self) -> list[int]:
        return [self.ts, self.origin]

    @classmethod
    def from_json(cls, value: object) -> Version | None:
        if isinstance(value, list | tuple) and len(value) == 2:
            return cls(int(value[0]), int(value[1]))
        return None

    @property
    def millis(self) -> int:
        return self.ts >> COUNTER_BITS


ZERO = Version(0, 0)


class HybridLogicalClock:
    """Monotonic even when the wall clock steps back; `observe` folds in versions seen elsewhere."""

    def __init__(self, wall: Callable[[], int] = wall_ms) -> None:
        self._wall = wall
        self._last = 0
        self._lock = threading.Lock()

    def now(self) -> int:
        with self._lock:
            physical = self._wall() << COUNTER_BITS
            # Either the wall clock moved on (counter resets) or we tick the logical counter.
            self._last = max(self._last + 1, physical)
            if self._last > MAX_TIMESTAMP:
                raise OverflowError("hybrid logical clock overflowed 63 bits")
            return self._last

    def observe(self, remote_ts: int) -> None:
        with self._lock:
            self._last = max(self._last, remote_ts)

    def next_after(self, *floors: int) -> int:
        """A fresh timestamp strictly greater than every floor (e.g. a field's current version).

        Another process may have written a field with a timestamp ahead of this process's
        clock; a new write must still be newer than what it replaces.
        """
        for floor in floors:
            self.observe(floor)
        return self.now()


clock = HybridLogicalClock()
