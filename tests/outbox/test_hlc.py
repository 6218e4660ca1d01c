"""The hybrid logical clock orders writes even when the wall clock misbehaves (SPEC §2.3)."""

import itertools

from hypothesis import given
from hypothesis import strategies as st

from tagshare.outbox.hlc import COUNTER_BITS, HybridLogicalClock, Version


class FakeWall:
    def __init__(self, readings: list[int]) -> None:
        self.readings = readings
        self.i = 0

    def __call__(self) -> int:
        value = self.readings[min(self.i, len(self.readings) - 1)]
        self.i += 1
        return value


wall_readings = st.lists(st.integers(min_value=0, max_value=2**40), min_size=1, max_size=200)


@given(wall_readings)
def test_timestamps_strictly_increase_whatever_the_wall_clock_does(readings):
    clock = HybridLogicalClock(FakeWall(readings))
    stamps = [clock.now() for _ in readings]
    assert all(a < b for a, b in itertools.pairwise(stamps))
    assert all(0 < s < 2**63 for s in stamps)


@given(wall_readings, st.lists(st.integers(min_value=0, max_value=2**56), max_size=20))
def test_after_observing_a_remote_timestamp_the_next_one_is_newer(readings, remotes):
    clock = HybridLogicalClock(FakeWall(readings))
    for remote in remotes:
        clock.observe(remote)
        assert clock.now() > remote


def test_timestamps_follow_the_wall_clock_when_it_moves_forward():
    clock = HybridLogicalClock(FakeWall([1000, 1000, 2000]))
    a, b, c = clock.now(), clock.now(), clock.now()
    assert a >> COUNTER_BITS == 1000 and b == a + 1
    assert c >> COUNTER_BITS == 2000


def test_a_wall_clock_stepping_back_does_not_move_versions_back():
    clock = HybridLogicalClock(FakeWall([5000, 4000, 4000]))
    first = clock.now()
    assert clock.now() > first and clock.now() >> COUNTER_BITS == 5000


@given(
    st.tuples(st.integers(0, 2**62), st.integers(1, 10**6)),
    st.tuples(st.integers(0, 2**62), st.integers(1, 10**6)),
)
def test_versions_are_ordered_by_timestamp_then_origin_nation(a, b):
    va, vb = Version(*a), Version(*b)
    if va.ts != vb.ts:
        assert (va < vb) == (va.ts < vb.ts)
    else:
        assert (va < vb) == (va.origin < vb.origin)
    assert Version.from_json(va.as_json()) == va


def test_next_after_is_newer_than_every_floor():
    clock = HybridLogicalClock(FakeWall([10]))
    far_future = (10**6) << COUNTER_BITS
    assert clock.next_after(far_future, 3) > far_future
