"""Fixtures for tests whose workers run in other processes: a database those processes see too,
and a process list that is always killed at the end, whatever the test did."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection


def tagshare_script() -> str:
    script = Path(sys.executable).with_name("tagshare")
    assert script.exists(), "the `tagshare` console script is not installed (pip install -e .)"
    return str(script)


def _postgres_url(settings: dict[str, Any]) -> str:
    user = quote(settings["USER"] or "")
    password = f":{quote(settings['PASSWORD'])}" if settings.get("PASSWORD") else ""
    host = settings["HOST"] or "127.0.0.1"
    port = f":{settings['PORT']}" if settings.get("PORT") else ""
    return f"postgresql://{user}{password}@{host}{port}/{quote(settings['NAME'])}"


@pytest.fixture
def shared_database(transactional_db: None, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment for child processes, pointing at the test's own database.

    Data must be committed for children to see it, hence `transactional_db`. On PostgreSQL the
    children use pytest-django's test database. SQLite's test database lives in memory, which
    no other process can open: for this test the connection is moved to a file copy of it, and
    moved back afterwards (the in-memory database is detached, not closed, so it survives).
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER", "DATABASE_URL"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="tagshare.settings",
        TAGSHARE_DATA_DIR=str(tmp_path / "data"),
        PYTHONUNBUFFERED="1",
    )
    settings = connection.settings_dict
    if connection.vendor == "postgresql":
        env["DATABASE_URL"] = _postgres_url(settings)
        yield env
        return
    assert connection.vendor == "sqlite", connection.vendor
    if not connection.creation.is_in_memory_db(settings["NAME"]):  # TAGSHARE_TEST_SQLITE set
        env["DATABASE_URL"] = f"sqlite:///{settings['NAME']}"
        yield env
        return
    path = tmp_path / "shared.sqlite3"
    connection.ensure_connection()
    memory = connection.connection
    with closing(sqlite3.connect(path)) as disk:
        memory.backup(disk)
    in_memory_name = settings["NAME"]
    connection.connection = None  # detached: Django opens the file at the next query
    settings["NAME"] = str(path)
    env["DATABASE_URL"] = f"sqlite:///{path}"
    try:
        yield env
    finally:
        connection.close()
        settings["NAME"] = in_memory_name
        connection.connection = memory


def wait_for_killed_sessions(timeout: float = 30) -> None:
    """Wait until no other session is connected to the test database.

    The server process of a killed PostgreSQL client lives on, holding its transaction's row
    locks, until it notices the client is gone; a drainer started meanwhile would SKIP LOCKED
    those rows. SQLite's locks are the killed process's own and go with it.
    """
    if connection.vendor != "postgresql":
        return
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            )
            (others,) = cursor.fetchone()
            if not others:
                return
            assert time.monotonic() < deadline, f"{others} killed sessions are still connected"
            time.sleep(0.05)


class Processes:
    """Child processes of one test; their output goes to files (a full pipe would block them)."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.folder = folder
        self.env = env
        self.started: list[subprocess.Popen[bytes]] = []
        self.logs: dict[int, Path] = {}

    def start(
        self, args: list[str], name: str, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        log = self.folder / f"{len(self.started):03d}-{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                args,
                env=env or self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self.started.append(process)
        self.logs[process.pid] = log
        return process

    def output(self, process: subprocess.Popen[bytes]) -> str:
        return self.logs[process.pid].read_text(errors="replace")

    def wait_for_output(self, process: subprocess.Popen[bytes], text: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and process.poll() is None:
            if text in self.output(process):
                return True
            time.sleep(0.02)
        return text in self.output(process)

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)

    def kill_all(self) -> None:
        for process in self.started:
            self.kill(process)


@pytest.fixture
def processes(shared_database: dict[str, str], tmp_path: Path) -> Iterator[Processes]:
    """Children on the shared database; they die before it is restored or flushed."""
    folder = tmp_path / "logs"
    folder.mkdir()
    running = Processes(folder, shared_database)
    try:
        yield running
    finally:
        running.kill_all()
