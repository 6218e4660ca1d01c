"""The matching, import, share, sync and reconciliation benchmarks run end to end at a tiny size.

They print their figures; nothing here asserts a time (benchmarks are not timed tests).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _run(script: str, *args: str, tmp_path: Path, stderr: bool = False) -> str:
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")
    }
    url = f"sqlite:///{tmp_path / 'bench.sqlite3'}"
    run = subprocess.run(
        [sys.executable, str(BENCH / script), *args, "--database-url", url],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return run.stdout + (run.stderr if stderr else "")


def test_matching_benchmark_reports_speed_floor_and_precision(tmp_path):
    out = _run("bench_matching.py", "--receiving", "300", "--incoming", "300", tmp_path=tmp_path)
    assert "profiles/s" in out and "floor (plain join" in out
    assert "precision 1.0" in out  # no wrong automatic match on data with known truth


def test_import_benchmark_imports_and_reimports(tmp_path):
    out = _run("bench_import.py", "--rows", "300", "--reimport", "50", tmp_path=tmp_path)
    assert "created 300" in out and "unchanged 50" in out


def test_share_benchmark_reports_its_phases(tmp_path):
    out = _run("bench_share.py", "--people", "300", tmp_path=tmp_path)
    for label in ("matching", "tagging", "reconciling", "floor", "write floor", "nothing to do"):
        assert label in out
    # The write floor covers both sides the sync wrote to, and adds up to the sync's floor.
    assert re.search(r"[1-9][0-9,]* receiving profiles .* [0-9,]+ sending profiles", out), out
    assert "the sync's floor" in out


def test_share_benchmark_starts_again_from_its_sqlite_snapshot_and_names_its_statements(tmp_path):
    first = _run("bench_share.py", "--people", "200", "--snapshot", tmp_path=tmp_path, stderr=True)
    assert (tmp_path / "bench_loaded_200.sqlite3").exists()
    assert "started from the snapshot" not in first
    again = _run(
        "bench_share.py",
        "--people",
        "200",
        "--snapshot",
        "--statements",
        "3",
        tmp_path=tmp_path,
        stderr=True,
    )
    assert "started from the snapshot" in again
    # The same people, so the same outcome of the sync.
    counts = [line for line in first.splitlines() if "counts:" in line]
    assert counts and counts == [line for line in again.splitlines() if "counts:" in line]
    listed = again.split("costliest statements", 1)[1].splitlines()[1:]
    assert len([line for line in listed if line.strip().split()[1] == "s"]) == 3


@pytest.mark.skipif(sys.platform != "linux", reason="uses the tagshare console script")
def test_sync_benchmark_reports_latency_and_throughput(tmp_path):
    out = _run(
        "bench_sync.py", "--pairs", "40", "--writes", "20", "--rate", "20", tmp_path=tmp_path
    )
    assert "p50" in out and "(0 never seen)" in out and "worker(s)" in out
    # Throughput counts what arrived: all 40 writes x 5 fields reached the receiving profiles.
    assert "200 synced field changes" in out


def test_reconcile_benchmark_finds_nothing_to_do_on_a_settled_share(tmp_path):
    out = _run("bench_reconcile.py", "--people", "50", tmp_path=tmp_path)
    assert "run 2:" in out and "nothing changed: True" in out
    assert "'synced_links': 50" in out and "'shared_taggings': 50" in out
