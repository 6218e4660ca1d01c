"""The people benchmark runs end to end at a tiny size and prints its figures (no timing asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "bench_people.py"


def _run(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")
    }
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=tmp_path,
    )


def test_prints_a_table_of_its_figures(tmp_path):
    url = f"sqlite:///{tmp_path / 'bench.sqlite3'}"
    run = _run("--count", "200", "--updates", "20", "--database-url", url, tmp_path=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    out = run.stdout
    for label in (
        "bulk create rate",
        "people/s",
        "RSS at 25% (50 rows)",
        "RSS at 100% (200 rows)",
        "peak RSS (ru_maxrss)",
        "people 200, emails",
        "API update rate",
        "API update latency p50 / p95",
    ):
        assert label in out, f"{label!r} missing from:\n{out}\n{run.stderr[-3000:]}"


def test_json_figures_add_up(tmp_path):
    url = f"sqlite:///{tmp_path / 'bench.sqlite3'}"
    run = _run(
        "--count",
        "60",
        "--updates",
        "5",
        "--batch-size",
        "25",
        "--json",
        "--database-url",
        url,
        tmp_path=tmp_path,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    figures = json.loads(run.stdout)
    bulk = figures["bulk"]
    assert (bulk["count"], bulk["batch_size"]) == (60, 25)
    assert (
        bulk["stored"]["people"]
        == bulk["stored"]["history_rows"]
        == bulk["stored"]["outbox_events"]
        == 60
    )
    assert bulk["stored"]["emails"] >= 60
    assert bulk["rows_per_second"] > 0
    assert [s["percent"] for s in bulk["rss_samples"]] == [25, 50, 75, 100]
    assert all(s["rss_mib"] > 0 for s in bulk["rss_samples"])
    assert figures["peak_rss_mib"] >= max(s["rss_mib"] for s in bulk["rss_samples"])
    api = figures["api_update"]
    assert api.get("updates") == 5, api
    assert 0 < api["p50_ms"] <= api["p95_ms"]
    assert figures["environment"]["database"].startswith("sqlite")


@pytest.mark.parametrize(
    "url", ["postgresql://postgres@127.0.0.1:1/production", "postgresql://u@h/crm"]
)
def test_refuses_to_wipe_a_database_not_named_for_benchmarks(tmp_path, url):
    run = _run("--count", "10", "--database-url", url, tmp_path=tmp_path)
    assert run.returncode == 2
    assert "Refusing to wipe" in run.stderr
    assert run.stdout == ""
