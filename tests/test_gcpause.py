"""The collector pause of the bulk paths: it must always give the collector back."""

import gc
import threading

import pytest

from tagshare.gcpause import collector_paused, sweep


def test_the_collector_runs_again_after_a_bulk_section_even_when_it_fails():
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        assert not gc.isenabled()
        raise RuntimeError("a batch failed")
    assert gc.isenabled()


def test_overlapping_sections_on_two_threads_restart_it_once_both_end():
    inside, release = threading.Event(), threading.Event()

    def other() -> None:
        with collector_paused():
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=other)
    with collector_paused():
        thread.start()
        inside.wait(5)
    assert not gc.isenabled()  # the other thread's section is still running
    release.set()
    thread.join(5)
    assert gc.isenabled()


def test_a_collector_switched_off_by_someone_else_stays_off():
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_sweep_frees_young_cycles_while_paused():
    class Node:
        pass

    with collector_paused():
        node = Node()
        node.self = node  # a cycle: only the collector can free it
        del node
        assert any(isinstance(o, Node) for o in gc.get_objects())  # paused: still there
        sweep()
        assert not any(isinstance(o, Node) for o in gc.get_objects())


def test_a_sweep_waits_until_the_young_objects_are_many():
    from tagshare.gcpause import sweep_if_grown

    class Node:
        pass

    def young_nodes():
        return sum(isinstance(o, Node) for o in gc.get_objects(generation=0))

    with collector_paused():
        gc.collect(1)
        node = Node()
        node.self = node
        del node
        sweep_if_grown(young=10_000)  # a handful of young objects: not worth a walk
        assert young_nodes() == 1
        kept = [[i] for i in range(20_000)]  # young objects still in use
        sweep_if_grown(young=10_000)
        assert young_nodes() == 0
        assert len(kept) == 20_000
