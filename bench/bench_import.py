"""Benchmark: importing a 1,000,000-row CSV file (target ≤ 90 s), and re-importing part of it.

    .venv/bin/python bench/bench_import.py --rows 1000000
    .venv/bin/python bench/bench_import.py --rows 1000000 \\
        --database-url postgresql://postgres@127.0.0.1:5432/bench

Writes a CSV of synthetic people (bench/world.py), imports it into an empty nation through the
import service (validation, matching, creation, tags), then imports the first `--reimport` rows
again with overwrite (every row matches, nothing changes). The database is wiped first.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--reimport", type=int, default=20_000, help="rows imported a second time")
    common.add_database_arguments(parser)
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error("--rows must be at least 1")

    opened = common.open_fresh_database(args)
    if opened is None:
        return 2
    _, data_dir = opened

    from tagshare.nations.services import nation_create

    nation = nation_create(slug="importer", name="Importer")
    path = data_dir / "people.csv"
    common.log(f"writing {args.rows:,} rows to {path} …")
    mib = _write_csv(path, args.rows)
    results: dict[str, Any] = {"environment": common.environment(), "command": " ".join(sys.argv)}
    results["file"] = {"rows": args.rows, "mib": mib}
    results["import"] = _timed_import(nation, path, overwrite=False)
    if args.reimport:
        part = data_dir / "again.csv"
        with path.open() as src, part.open("w") as dst:
            for i, line in enumerate(src):
                if i > args.reimport:
                    break
                dst.write(line)
        results["reimport"] = _timed_import(nation, part, overwrite=True)
    results["peak_rss_mib"] = common.peak_rss_mib()
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        env = results["environment"]
        print(
            f"Import benchmark — {env['database']}, Python {env['python']}, {env['cores']} cores, {env['cpu']}"
        )
        print(f"  file: {args.rows:,} rows, {mib} MiB")
        for key in ("import", "reimport"):
            if key in results:
                r = results[key]
                print(
                    f"  {key}: {r['seconds']} s = {r['rows_per_second']:,} rows/s; status {r['status']}, "
                    f"created {r['created']:,}, updated {r['updated']:,}, unchanged {r['unchanged']:,}, "
                    f"rejected {r['rejected']:,}, ambiguous {r['ambiguous']:,}"
                )
        print(f"  peak RSS {results['peak_rss_mib']} MiB")
    return 0


def _write_csv(path: Path, rows: int) -> float:
    import world

    columns = [
        "email",
        "first_name",
        "last_name",
        "dob",
        "mobile",
        "phone",
        "voter_guid",
        "home_address1",
        "home_city",
        "home_state",
        "home_zip",
        "note",
        "tag_list",
    ]
    shape = world.WorldShape(receiving=rows, incoming=0, duplicates=0.0, households=0.0)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for i, p in enumerate(world.receiving_people(shape)):
            address = p.get("home_address") or {}
            writer.writerow(
                [
                    p.get("email1") or "",
                    p["first_name"],
                    p["last_name"],
                    p.get("birthdate") or "",
                    p.get("mobile") or "",
                    p.get("phone") or "",
                    p.get("nbec_guid") or "",
                    address.get("address1", ""),
                    address.get("city", ""),
                    address.get("state", ""),
                    address.get("zip", ""),
                    p.get("note", ""),
                    "members" if i % 3 == 0 else "",
                ]
            )
    return round(path.stat().st_size / 2**20, 1)


def _timed_import(nation: Any, path: Path, *, overwrite: bool) -> dict[str, Any]:
    from tagshare.imports.services import import_create, import_run
    from tagshare.nations.actors import Actor

    common.log(f"importing {path.name} (overwrite={overwrite}) …")
    started = time.perf_counter()
    job = import_create(nation=nation, actor=Actor.importer(), source=path, overwrite=overwrite)
    job = import_run(job)
    seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 2),
        "rows_per_second": round(job.total_rows / max(seconds, 1e-6)),
        "status": job.status,
        "created": job.created_count,
        "updated": job.updated_count,
        "unchanged": job.unchanged_count,
        "rejected": job.rejected_count,
        "ambiguous": job.ambiguous_count,
        "detail": job.detail,
    }


if __name__ == "__main__":
    raise SystemExit(main())
