"""Two real Celery workers on Redis drain one outbox: every pair converges, nothing twice.

The production path with a broker (tagshare/celery.py): `drain_outbox` tasks on any number of
workers, each commit that writes events queueing another. Needs Redis (db 7 by default, which
the test empties: set TAGSHARE_TEST_REDIS_URL to use another); skipped without it, except on CI.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from tagshare.outbox.models import OutboxEvent
from tests.outbox.backlog import assert_drained_like_a_clean_run, pending_events, queue_backlog
from tests.outbox.conftest import Processes

REDIS_URL = os.environ.get("TAGSHARE_TEST_REDIS_URL", "redis://127.0.0.1:6379/7")
# Celery logs each task it receives and each one it finishes, with the return value:
# drain_outbox returns how many events it processed.
RECEIVED = re.compile(r"Task tagshare\.outbox\.tasks\.drain_outbox\[([^\]]+)\] received")
FINISHED = re.compile(r"Task tagshare\.outbox\.tasks\.drain_outbox\[([^\]]+)\] (succeeded|raised)")
SUCCEEDED = re.compile(
    r"Task tagshare\.outbox\.tasks\.drain_outbox\[[^\]]+\] succeeded in [\d.]+s: (\d+)"
)


@pytest.fixture
def broker() -> Iterator[str]:
    """An empty Redis database for the workers (requested first, so emptied after they die)."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        reason = f"Redis is not reachable at {REDIS_URL} ({exc}): start redis-server"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    client.flushdb()  # tasks left by an earlier run would be drained too
    try:
        yield REDIS_URL
    finally:
        client.flushdb()  # a killed worker's unacknowledged task would wait here an hour
        client.close()


def start_celery_worker(processes: Processes, broker: str, name: str) -> subprocess.Popen[bytes]:
    celery = Path(sys.executable).with_name("celery")
    assert celery.exists(), "celery is not installed in this environment"
    return processes.start(
        [
            str(celery),
            "-A",
            "tagshare",
            "worker",
            "--pool=solo",
            "-n",
            f"{name}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=INFO",
        ],
        name=name,
        env={**processes.env, "CELERY_BROKER_URL": broker},
    )


def queue_drains(broker: str, count: int) -> None:
    """`drain_outbox.delay()`, sent to the workers' broker (this process has none configured)."""
    from tagshare.celery import app
    from tagshare.outbox.tasks import drain_outbox

    with app.connection_for_write(broker) as to_broker:
        for _ in range(count):
            drain_outbox.apply_async(connection=to_broker)


def wait_until_idle(
    processes: Processes, workers: list[subprocess.Popen[bytes]], broker: str, timeout: float
) -> list[str]:
    """Wait for an empty outbox, an empty queue and no task running; returns the workers' logs."""
    import redis

    client = redis.Redis.from_url(broker)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            for worker in workers:
                assert worker.poll() is None, f"a worker died:\n{processes.output(worker)}"
            logs = [processes.output(worker) for worker in workers]
            running = {t for log in logs for t in RECEIVED.findall(log)} - {
                t for log in logs for t, _ in FINISHED.findall(log)
            }
            if not pending_events() and not client.llen("celery") and not running:
                return logs
            time.sleep(0.2)
    finally:
        client.close()
    errors = [line for log in logs for line in log.splitlines() if "ERROR" in line]
    raise AssertionError(f"{pending_events()} events pending after {timeout} s; errors: {errors}")


def test_two_celery_workers_drain_the_outbox_once(broker: str, processes: Processes) -> None:
    backlog = queue_backlog(pairs=500, edits=6000, seed=7)
    workers = [start_celery_worker(processes, broker, f"drainer{i}") for i in (1, 2)]
    for worker in workers:
        ready = processes.wait_for_output(worker, " ready.", timeout=45)
        assert ready, f"the Celery worker did not start:\n{processes.output(worker)}"
    queue_drains(broker, 4)

    logs = wait_until_idle(processes, workers, broker, timeout=60)
    assert_drained_like_a_clean_run(backlog)

    failed = [line for log in logs for line in log.splitlines() if "raised unexpected" in line]
    assert not failed, f"drain tasks failed: {failed}"
    claimed = [sum(int(n) for n in SUCCEEDED.findall(log)) for log in logs]
    events = OutboxEvent.objects.filter(id__gte=backlog.first_event_id).count()
    assert sum(claimed) == events, (
        f"the workers' drain tasks processed {claimed} events between them, "
        f"but there are {events}: some event was processed twice"
    )
    if connection.vendor == "postgresql":  # on SQLite one worker may hold the write lock throughout
        assert all(claimed), (
            f"the workers did not drain side by side ({claimed}); nothing was tested"
        )
