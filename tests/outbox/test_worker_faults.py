"""`tagshare worker` processes killed mid-drain, and drainers side by side, lose nothing and apply
nothing twice: the outbox ends empty and the profiles as a clean drain leaves them.

The workers are real processes on the test's database (see `shared_database`); the backlog is
queued with no worker running, so the clean result is known in advance (tests/outbox/backlog.py).
Set TAGSHARE_FAULT_SEED to replay a failing run's edits and kill moments.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import time

import pytest
from django.db import connection, transaction

from tagshare.outbox.models import OutboxEvent
from tagshare.people.models import Person
from tests.outbox.backlog import assert_drained_like_a_clean_run, pending_events, queue_backlog
from tests.outbox.conftest import Processes, tagshare_script, wait_for_killed_sessions

SEED = int(os.environ.get("TAGSHARE_FAULT_SEED", "20240611"))
WORKERS = 2  # alive at once during the kill rounds (on SQLite they take turns writing)
ROUNDS = 6  # each round starts the workers and kills every one of them at its own moment
KILLING_FOR = 15.0  # seconds: no new round after this (a loaded machine starts workers slowly)
LATEST_KILL = 0.4  # seconds after a worker says it runs; a batch takes ~0.3 s on the dev box


def start_worker(processes: Processes, *args: str) -> subprocess.Popen[bytes]:
    return processes.start([tagshare_script(), "worker", *args], name="worker")


def processed_count(processes: Processes, worker: subprocess.Popen[bytes]) -> int:
    output = processes.output(worker)
    found = re.search(r"Processed (\d+) events", output)
    assert found, f"`tagshare worker --until-idle` did not say what it did:\n{output}"
    return int(found.group(1))


def kill_soon_after_each_runs(
    processes: Processes, workers: list[subprocess.Popen[bytes]], delays: list[float]
) -> None:
    """SIGKILL each worker `delays[i]` seconds after it says it runs: while claiming, inside a
    batch's transaction, between batches, or idle (timed per worker, so a slow start of one
    gives the other no head start)."""
    running_since: dict[int, float] = {}
    alive = set(range(len(workers)))
    deadline = time.monotonic() + 60
    while alive:
        now = time.monotonic()
        for index in sorted(alive):
            worker = workers[index]
            if index not in running_since:
                assert worker.poll() is None, f"a worker stopped:\n{processes.output(worker)}"
                assert now < deadline, f"a worker did not start:\n{processes.output(worker)}"
                if "Worker running" in processes.output(worker):
                    running_since[index] = now
            elif now >= running_since[index] + delays[index]:
                processes.kill(worker)
                alive.discard(index)
        time.sleep(0.005)


def finish_with_one_worker(processes: Processes) -> None:
    last = start_worker(processes, "--until-idle")
    assert last.wait(timeout=60) == 0, processes.output(last)


def test_workers_killed_at_random_moments_lose_nothing(processes: Processes) -> None:
    backlog = queue_backlog(pairs=500, edits=6000, seed=SEED)
    rng = random.Random(SEED)
    rounds_cut_short = 0
    deadline = time.monotonic() + KILLING_FOR
    for _ in range(ROUNDS):
        workers = [start_worker(processes) for _ in range(WORKERS)]
        kill_soon_after_each_runs(
            processes, workers, [rng.uniform(0, LATEST_KILL) for _ in workers]
        )
        if pending_events() == 0:
            break
        rounds_cut_short += 1
        if time.monotonic() > deadline:
            break
    # A worker that dies mid-batch must leave nothing behind: one clean run finishes the rest.
    wait_for_killed_sessions()
    finish_with_one_worker(processes)
    assert_drained_like_a_clean_run(backlog)
    assert rounds_cut_short >= 2, (
        f"seed {SEED}: only {rounds_cut_short} kill rounds left work behind; the backlog "
        f"drained too fast for this test to kill workers mid-drain"
    )


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="concurrent drainers claim with FOR UPDATE SKIP LOCKED, which is PostgreSQL's; "
    "on SQLite a second drainer only waits for the first one's write lock",
)
def test_two_drainers_side_by_side_process_each_event_once(processes: Processes) -> None:
    backlog = queue_backlog(pairs=500, edits=6000, seed=SEED)
    workers = [start_worker(processes, "--until-idle") for _ in range(2)]
    for worker in workers:
        assert worker.wait(timeout=60) == 0, processes.output(worker)
    claimed = [processed_count(processes, worker) for worker in workers]
    assert_drained_like_a_clean_run(backlog)
    # The backlog's events plus those the sync writes emitted; every one is processed now.
    events = OutboxEvent.objects.filter(id__gte=backlog.first_event_id).count()
    assert sum(claimed) == events, (
        f"the workers processed {claimed} events between them, but there are {events}: "
        "some event was processed twice"
    )
    assert all(claimed), f"the drainers did not overlap ({claimed}); nothing was tested"


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="a batch is made to fail fast with PostgreSQL's lock_timeout; on SQLite it would "
    "take the 10 s busy timeout",
)
def test_until_idle_does_not_report_success_when_a_batch_failed(processes: Processes) -> None:
    # A batch can fail for a passing reason (a lock timeout, a deadlock with another drainer, a
    # dropped connection). `--until-idle` promises to drain what is pending: it must either try
    # again or exit non-zero — never exit 0 with the events still waiting.
    backlog = queue_backlog(pairs=20, edits=40, seed=SEED)
    assert backlog.newest
    busy = next(iter(backlog.newest.values())).other  # a profile the drain must write
    env = {**processes.env, "PGOPTIONS": "-c lock_timeout=200"}
    with transaction.atomic():
        list(Person.objects.select_for_update().filter(pk=busy))  # as a long request would
        worker = processes.start([tagshare_script(), "worker", "--until-idle"], "worker", env)
        failed = processes.wait_for_output(worker, "outbox drain failed", timeout=30)
        assert failed, f"the drain should have hit the lock:\n{processes.output(worker)}"
    code = worker.wait(timeout=60)
    left = pending_events()
    assert code != 0 or left == 0, (
        f"`tagshare worker --until-idle` exited 0 with {left} events still pending after a "
        f"batch failed:\n{processes.output(worker)}"
    )
