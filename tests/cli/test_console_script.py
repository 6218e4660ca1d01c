"""The real `tagshare` console script in subprocesses, on its own temporary SQLite database.

The subprocesses get their own DATABASE_URL, so these tests run the same whether the suite itself
runs on SQLite or on PostgreSQL.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "tagshare"


def tagshare_script() -> str:
    beside_python = Path(sys.executable).parent / "tagshare"
    found = str(beside_python) if beside_python.exists() else shutil.which("tagshare")
    assert found, "the `tagshare` console script is not installed (pip install -e .)"
    return found


def sqlite_env(folder: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"sqlite:///{folder / 'tagshare.sqlite3'}",
        TAGSHARE_DATA_DIR=str(folder),
        DJANGO_SETTINGS_MODULE="tagshare.settings",
    )
    return env


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A migrated SQLite database shared by this module's tests (migrating takes seconds)."""
    environment = sqlite_env(tmp_path_factory.mktemp("tagshare-cli"))
    result = tagshare(environment, "migrate --verbosity 0")
    assert result.returncode == 0, result.stderr
    return environment


def tagshare(env: dict[str, str], command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tagshare_script(), *shlex.split(command)],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def django_shell(env: dict[str, str], code: str) -> str:
    result = tagshare(env, f"shell --no-imports -c {shlex.quote(code)}")
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_nation_user_and_token_end_to_end(env: dict[str, str]) -> None:
    created = tagshare(env, "nation create e2e --name 'End To End' --plan organization")
    assert created.returncode == 0, created.stderr
    user = tagshare(
        env,
        "user create --nation e2e --email ops@e2e.example --role admin --password script-password",
    )
    assert user.returncode == 0, user.stderr

    token = tagshare(env, "token create --nation e2e --email ops@e2e.example")
    assert token.returncode == 0, token.stderr
    assert re.fullmatch(r"tgs_\S+\n", token.stdout), token.stdout  # `TOKEN=$(…)` gets it whole
    raw = token.stdout.strip()

    who = django_shell(
        env,
        (
            "from django.contrib.auth import authenticate\n"
            "from tagshare.nations.services import token_authenticate\n"
            f"user = token_authenticate({raw!r})\n"
            "signed_in = authenticate(\n"
            "    nation='e2e', email='ops@e2e.example', password='script-password'\n"
            ")\n"
            "print(user.nation.slug, user.email, user.role, signed_in == user)"
        ),
    )
    assert who == "e2e ops@e2e.example admin True"


def test_errors_exit_non_zero_with_one_line_and_create_nothing(env: dict[str, str]) -> None:
    bad_plan = tagshare(env, "nation create gilded --name Gilded --plan gold")
    unknown = tagshare(env, "token create --nation nowhere --email a@b.example")
    for result in (bad_plan, unknown):
        assert result.returncode != 0
        assert result.stdout == ""
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.stderr
    assert "Unknown plan" in bad_plan.stderr
    assert "nowhere" in unknown.stderr
    assert "gilded" not in tagshare(env, "nation list").stdout


def test_commands_are_django_management_commands(env: dict[str, str]) -> None:
    command = "nation create mgmt --name 'Via Django' --plan leader --settings=tagshare.settings"
    via_django = subprocess.run(
        [sys.executable, "-m", "django", *shlex.split(command)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert via_django.returncode == 0, via_django.stderr
    listed = subprocess.run(
        [sys.executable, "-m", "tagshare", "nation", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Via Django" in listed.stdout


def test_python_dash_m_tagshare_prints_the_short_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tagshare", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert "token create" in result.stdout and "makemigrations" not in result.stdout


def test_serve_refuses_a_database_with_unapplied_migrations(tmp_path: Path) -> None:
    result = tagshare(sqlite_env(tmp_path), f"serve --port {free_port()}")
    assert result.returncode != 0
    assert "tagshare migrate" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get(port: int, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def wait_until_serving(
    server: subprocess.Popen[str], port: int, path: str, timeout: float = 30
) -> tuple[int, bytes]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.poll() is None, "the server exited early"
        try:
            return get(port, path)
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing answered on port {port} within {timeout} s")


def start(env: dict[str, str], command: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [tagshare_script(), *shlex.split(command)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_serve_answers_http_and_stops_cleanly(env: dict[str, str]) -> None:
    port = free_port()
    server = start(env, f"serve --port {port} --threads 2")
    try:
        status, body = wait_until_serving(server, port, "/api/v1/openapi.json")
        assert status == 200
        assert "openapi" in json.loads(body)
        css = SRC / "web" / "static" / "web" / "panel.css"
        if css.exists():  # static files come from WhiteNoise, not Django's debug view
            assert get(port, "/static/web/panel.css") == (200, css.read_bytes())
    finally:
        server.terminate()
        out, err = server.communicate(timeout=15)
    assert f"http://127.0.0.1:{port}/" in out
    assert server.returncode == 0, err  # SIGTERM finishes like Ctrl-C, without a traceback


def test_demo_on_a_fresh_database_migrates_sets_up_and_serves(tmp_path: Path) -> None:
    port = free_port()
    server = start(sqlite_env(tmp_path), f"demo --people 5 --port {port}")
    try:
        status, _ = wait_until_serving(server, port, "/api/v1/openapi.json", timeout=90)
        assert status == 200
    finally:
        server.terminate()
        out, err = server.communicate(timeout=15)
    assert f"http://127.0.0.1:{port}/login/" in out
    assert "admin@northside.example" in out and "demo-password" in out
    assert server.returncode == 0, err
