"""Benchmark: bulk-creating people (rows/s, memory) and single-person updates through the API.

    .venv/bin/python bench/bench_people.py --count 1000000
    .venv/bin/python bench/bench_people.py --count 1000000 \\
        --database-url postgresql://postgres@127.0.0.1:5432/bench

The database is wiped first (SQLite: a fresh file in a temporary folder by default; PostgreSQL:
its public schema is dropped and re-created, so name a database that exists only for this).
Figures go to stdout as a table, or as JSON with --json; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

SAMPLE_POINTS = (25, 50, 75, 100)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    data_dir = Path(tempfile.mkdtemp(prefix="tagshare-bench-"))
    try:
        return _run(args, data_dir)
    finally:
        # The default SQLite database lives here too: gigabytes at a million people.
        shutil.rmtree(data_dir, ignore_errors=True)


def _run(args: argparse.Namespace, data_dir: Path) -> int:
    url = args.database_url or f"sqlite:///{data_dir / 'bench.sqlite3'}"
    if not common.may_wipe(url, args.allow_wipe):
        print(
            f"Refusing to wipe {_redact(url)}: its database name does not contain 'bench'. "
            "Use a database made for benchmarks, or pass --allow-wipe.",
            file=sys.stderr,
        )
        return 2
    common.setup_django(url, data_dir)

    from django.db import OperationalError

    try:
        common.fresh_database()
    except OperationalError as exc:
        print(f"Cannot open {_redact(url)}: {exc}".strip(), file=sys.stderr)
        print(
            "Create it first, e.g. psql -h 127.0.0.1 -U postgres -c 'create database bench'",
            file=sys.stderr,
        )
        return 2

    results: dict[str, Any] = {"environment": common.environment(), "command": " ".join(sys.argv)}
    nation, token = _nation_and_token()
    results["bulk"] = _bench_bulk(nation, args.count, args.batch_size, args.seed)
    results["api_update"] = _bench_api_updates(
        token, args.updates, args.seed, out=sys.stderr if args.json else sys.stdout
    )
    results["peak_rss_mib"] = common.peak_rss_mib()

    if args.json:
        print(json.dumps(results, indent=2))
    else:
        _print_table(results)
    return 0


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--count", type=int, default=100_000, help="people to bulk-create (default 100,000)"
    )
    parser.add_argument("--database-url", default="", help="default: SQLite in a temporary folder")
    parser.add_argument(
        "--batch-size", type=int, default=0, help="rows per batch (default: the bulk path's)"
    )
    parser.add_argument(
        "--updates", type=int, default=2_000, help="API updates to time (default 2,000)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--allow-wipe", action="store_true", help="wipe a database whose name lacks 'bench'"
    )
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("--count must be at least 1")
    if args.updates < 0:
        parser.error("--updates cannot be negative")
    return args


def _redact(url: str) -> str:
    parts = urlparse(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


def _nation_and_token() -> tuple[Any, str]:
    from tagshare.nations.services import nation_create, token_create, user_create

    nation = nation_create(slug="bench", name="Benchmark Nation")
    admin = user_create(nation=nation, email="admin@bench.example", role="admin")
    return nation, token_create(user=admin, name="benchmark")


# --- bulk create -----------------------------------------------------------------------------


def _bench_bulk(nation: Any, count: int, batch_size: int, seed: int) -> dict[str, Any]:
    from django.db import connection, transaction

    from tagshare.nations.actors import Actor
    from tagshare.outbox.models import OutboxEvent
    from tagshare.people.bulk import DEFAULT_BATCH_SIZE, people_bulk_create
    from tagshare.people.models import Person, PersonChange, PersonEmail
    from tagshare.people.synthetic import synthetic_people

    batch_size = batch_size or DEFAULT_BATCH_SIZE
    input_rate = _input_rate(min(count, 50_000), seed)
    samples: list[dict[str, Any]] = []
    started = time.perf_counter()
    cpu_started = time.process_time()
    rss_before = common.rss_mib()

    def rows() -> Iterator[dict[str, Any]]:
        # The last mark is taken after the commit instead, when all the work is done.
        marks = {math.ceil(count * p / 100): p for p in SAMPLE_POINTS[:-1]}
        for index, row in enumerate(synthetic_people(count, seed=seed), start=1):
            yield row
            if index in marks:
                elapsed = time.perf_counter() - started
                samples.append(
                    {
                        "percent": marks[index],
                        "rows": index,
                        "seconds": round(elapsed, 2),
                        "rss_mib": common.rss_mib(),
                    }
                )
                common.log(
                    f"  {marks[index]:3d}% {index:>10,} rows streamed  {elapsed:7.1f}s  "
                    f"RSS {samples[-1]['rss_mib']:.0f} MiB"
                )

    common.log(f"bulk-creating {count:,} people on {connection.vendor} …")
    # The outer transaction only lets the commit (deferred foreign-key checks, WAL flush) be
    # timed on its own; the bulk path behaves the same inside it.
    with transaction.atomic():
        created = people_bulk_create(
            nation=nation, actor=Actor.system(), rows=rows(), batch_size=batch_size
        )
        committing = time.perf_counter()
    seconds = time.perf_counter() - started  # includes the commit
    commit_seconds = time.perf_counter() - committing
    # This process's CPU (Python, and SQLite's work, which runs in-process), not the server's.
    cpu_seconds = time.process_time() - cpu_started
    samples.append(
        {"percent": 100, "rows": count, "seconds": round(seconds, 2), "rss_mib": common.rss_mib()}
    )
    stored = {
        "people": Person.objects.filter(nation=nation).count(),
        "emails": PersonEmail.objects.filter(nation=nation).count(),
        "history_rows": PersonChange.objects.filter(nation=nation).count(),
        "outbox_events": OutboxEvent.objects.filter(nation_id=nation.pk).count(),
    }
    if created != count or stored["people"] != count or stored["history_rows"] != count:
        raise SystemExit(f"bulk create wrote {created} people and {stored}; expected {count}")
    # What autovacuum does soon after a bulk load anyway; the update figures should not
    # depend on whether it has come round yet.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "count": count,
        "batch_size": batch_size,
        "seconds": round(seconds, 2),
        "commit_seconds": round(commit_seconds, 2),
        "process_cpu_us_per_row": round(cpu_seconds / count * 1e6, 1),
        "rows_per_second": round(count / seconds),
        "input_generation_rows_per_second": round(input_rate),
        "rss_before_mib": rss_before,
        "rss_samples": samples,
        "stored": stored,
        "database_mib": _database_mib(),
    }


def _input_rate(sample: int, seed: int) -> float:
    """How fast the synthetic rows alone are made: part of the bulk figure's time is this."""
    from tagshare.people.synthetic import synthetic_people

    started = time.perf_counter()
    for _ in synthetic_people(sample, seed=seed + 1):
        pass
    return sample / (time.perf_counter() - started)


# --- API updates -----------------------------------------------------------------------------


def _bench_api_updates(token: str, updates: int, seed: int, out: TextIO) -> dict[str, Any]:
    from django.db.models import Max, Min
    from django.test import Client

    from tagshare.people.models import Person

    if updates == 0:
        return {"skipped": "no updates asked for"}
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    bounds = Person.objects.aggregate(low=Min("id"), high=Max("id"))
    low, high = bounds["low"], bounds["high"]
    rng = random.Random(seed)

    def patch(index: int) -> Any:
        body = {"last_name": f"Updated {index}", "email_opt_in": index % 2 == 0}
        return client.patch(
            f"/api/v1/people/{rng.randint(low, high)}",
            data=json.dumps(body),
            content_type="application/json",
        )

    # The probe also warms up URL resolution and the schemas. An API that is missing or cannot
    # load is reported as skipped, without the request log's traceback.
    request_log = logging.getLogger("django.request")
    level = request_log.level
    request_log.setLevel(logging.CRITICAL)
    try:
        probe = patch(0)
    except Exception as exc:
        probe, reason = None, f"{type(exc).__name__}: {exc}"
    finally:
        request_log.setLevel(level)
    if probe is not None:
        is_json = probe.get("Content-Type", "").startswith("application/json")
        if probe.status_code == 405 or (probe.status_code == 404 and not is_json):
            reason = f"PATCH answered {probe.status_code}"
        elif probe.status_code == 200:
            reason = ""
        else:
            raise SystemExit(
                f"PATCH /api/v1/people/<id> answered {probe.status_code}: {probe.content[:300]!r}"
            )
    if reason:
        print("API update benchmark: skipped (API not available)", file=out)
        common.log(f"  ({reason})")
        return {"skipped": "API not available", "reason": reason}

    common.log(f"timing {updates:,} PATCH /api/v1/people/{{id}} …")
    latencies: list[float] = []
    started = time.perf_counter()
    for index in range(1, updates + 1):
        before = time.perf_counter()
        response = patch(index)
        latencies.append(time.perf_counter() - before)
        if response.status_code != 200:
            raise SystemExit(
                f"update {index} answered {response.status_code}: {response.content[:300]!r}"
            )
    seconds = time.perf_counter() - started
    latencies.sort()
    return {
        "updates": updates,
        "seconds": round(seconds, 2),
        "updates_per_second": round(updates / seconds),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p95_ms": round(latencies[math.ceil(0.95 * len(latencies)) - 1] * 1000, 2),
    }


# --- measuring -------------------------------------------------------------------------------


def _database_mib() -> float:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_database_size(current_database())")
            return round(cursor.fetchone()[0] / 2**20, 1)
    path = Path(connection.settings_dict["NAME"])
    return round(sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 2**20, 1)


def _print_table(results: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    env, bulk, api = results["environment"], results["bulk"], results["api_update"]
    console = Console(width=100)
    console.print(
        f"[bold]Tagshare people benchmark[/] — {env['database']}, Python {env['python']}, "
        f"Django {env['django']}, {env['cores']} cores {env['cpu']}, {env['memory_gib']} GiB"
    )
    table = Table(show_header=True, header_style="bold")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("people bulk-created", f"{bulk['count']:,} (batches of {bulk['batch_size']:,})")
    table.add_row(
        "bulk create time",
        f"{bulk['seconds']:,.1f} s (of which commit {bulk['commit_seconds']:,.1f} s)",
    )
    table.add_row("bulk create rate", f"{bulk['rows_per_second']:,} people/s")
    table.add_row("  CPU of this process per person", f"{bulk['process_cpu_us_per_row']:,.0f} µs")
    table.add_row(
        "  synthetic input alone (part of the above)",
        f"{bulk['input_generation_rows_per_second']:,} rows/s",
    )
    table.add_row(
        "rows written", ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in bulk["stored"].items())
    )
    table.add_row("database size", f"{bulk['database_mib']:,.0f} MiB")
    table.add_row("RSS before", f"{bulk['rss_before_mib']:.0f} MiB")
    for sample in bulk["rss_samples"]:
        table.add_row(
            f"RSS at {sample['percent']}% ({sample['rows']:,} rows)", f"{sample['rss_mib']:.0f} MiB"
        )
    table.add_row("peak RSS (ru_maxrss)", f"{results['peak_rss_mib']:.0f} MiB")
    if "skipped" in api:
        table.add_row("API updates", f"skipped ({api['skipped']})")
    else:
        table.add_row(
            "API updates (PATCH /api/v1/people/{id})",
            f"{api['updates']:,} in {api['seconds']:.1f} s",
        )
        table.add_row("API update rate", f"{api['updates_per_second']:,} updates/s")
        table.add_row(
            "API update latency p50 / p95", f"{api['p50_ms']:.1f} / {api['p95_ms']:.1f} ms"
        )
    console.print(table)


if __name__ == "__main__":
    sys.exit(main())
