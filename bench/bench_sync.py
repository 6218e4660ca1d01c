"""Benchmark: the ongoing sync — write-to-visible latency and worker throughput.

    .venv/bin/python bench/bench_sync.py --pairs 20000 --writes 1000 --rate 100 --queued 20000
    .venv/bin/python bench/bench_sync.py --database-url postgresql://postgres@127.0.0.1:5432/bench

Latency (embedded default): `tagshare serve` runs in a subprocess with its in-process worker; this
script PATCHes sender profiles through the API at `--rate` writes/s and watches the linked
receiving profiles in the database until each value shows, reporting p50/p95/max.
Throughput: with no worker running, `--queued` profile writes of five fields each are queued,
then one worker process (and then two, on PostgreSQL) drains them; the figure is the field
values that arrived in the receiving profiles per second, worker start-up included.
The database is wiped first.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pairs", type=int, default=2000, help="linked profile pairs")
    parser.add_argument(
        "--writes", type=int, default=1000, help="writes for latency and throughput"
    )
    parser.add_argument("--rate", type=float, default=100.0, help="latency: writes per second")
    parser.add_argument(
        "--queued",
        type=int,
        default=10000,
        help="throughput: profile writes queued before the workers start (at most --pairs)",
    )
    common.add_database_arguments(parser)
    args = parser.parse_args(argv)
    opened = common.open_fresh_database(args)
    if opened is None:
        return 2
    url, data_dir = opened
    results: dict[str, Any] = {"environment": common.environment(), "command": " ".join(sys.argv)}
    pairs, token = _setup(args.pairs)
    results["latency"] = _bench_latency(url, data_dir, pairs, token, args.writes, args.rate)
    results["throughput"] = _bench_throughput(url, data_dir, pairs, args.queued)
    results["peak_rss_mib"] = common.peak_rss_mib()
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        env, lat = results["environment"], results["latency"]
        print(
            f"Sync benchmark — {env['database']}, Python {env['python']}, {env['cores']} cores, {env['cpu']}"
        )
        print(
            f"  latency at {lat['rate']} writes/s over {lat['writes']} API writes: p50 {lat['p50_ms']} ms, "
            f"p95 {lat['p95_ms']} ms, max {lat['max_ms']} ms ({lat['missing']} never seen)"
        )
        for workers, t in results["throughput"].items():
            print(
                f"  {workers} worker(s): {t['field_changes']:,} synced field changes in {t['seconds']} s = "
                f"{t['field_changes_per_second']:,}/s"
            )
    return 0


def _setup(count: int) -> tuple[list[tuple[int, int]], str]:
    from django.db import connection, transaction
    from django.utils import timezone

    from tagshare.nations.actors import Actor
    from tagshare.nations.services import nation_create, token_create, user_create
    from tagshare.outbox.drain import drain_until_idle
    from tagshare.people.bulk import people_bulk_create
    from tagshare.sharing.models import ShareLink
    from tagshare.tags.models import Tag

    sender = nation_create(slug="sender", name="Sender")
    receiver = nation_create(slug="receiver", name="Receiver")
    s_admin = user_create(nation=sender, email="a@sender.example", role="admin")
    r_admin = user_create(nation=receiver, email="a@receiver.example", role="admin")
    rows = [
        {"email1": f"p{i}@example.org", "first_name": f"P{i}", "last_name": "Bench"}
        for i in range(count)
    ]
    people_bulk_create(nation=sender, actor=Actor.system(), rows=rows)
    people_bulk_create(nation=receiver, actor=Actor.system(), rows=rows)
    tag = Tag.objects.create(nation=sender, name="bench")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO tags_tagging (tag_id, person_id, created_at) SELECT %s, id, %s FROM people_person WHERE nation_id = %s",
            [tag.pk, connection.ops.adapt_datetimefield_value(timezone.now()), sender.pk],
        )
    share = common.accepted_share(
        sender, receiver, (s_admin, r_admin), tag="bench", initial_sync=True
    )
    drain_until_idle()
    pairs = list(
        ShareLink.objects.filter(share=share).values_list("sender_person_id", "receiver_person_id")
    )
    if connection.vendor == "postgresql":
        # What autovacuum would have done by the time a real nation's profiles are edited:
        # without statistics the planner treats freshly loaded tables as empty.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    connection.close()
    return pairs, token_create(user=s_admin)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(url: str, data_dir: Path) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": url, "TAGSHARE_DATA_DIR": str(data_dir), "DEBUG": "0"}


def _bench_latency(
    url: str, data_dir: Path, pairs: list[tuple[int, int]], token: str, writes: int, rate: float
) -> dict[str, Any]:
    from django.db import connection

    from tagshare.people.models import Person

    port = _free_port()
    tagshare = str(Path(sys.executable).with_name("tagshare"))
    server = subprocess.Popen(
        [tagshare, "serve", "--port", str(port), "--threads", "4"],
        env=_env(url, data_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(port)
        sent: dict[int, tuple[str, float]] = {}
        seen: dict[int, float] = {}
        done = threading.Event()

        def watch() -> None:
            while not done.is_set() or len(seen) < len(sent):
                waiting = {pid: value for pid, (value, _) in list(sent.items()) if pid not in seen}
                if waiting:
                    for pid, occupation in Person.objects.filter(pk__in=list(waiting)).values_list(
                        "pk", "occupation"
                    ):
                        if occupation == waiting[pid]:
                            seen[pid] = time.perf_counter()
                if done.is_set() and time.perf_counter() - last_sent[0] > 10:
                    break
                time.sleep(0.005)
            connection.close()

        last_sent = [time.perf_counter()]
        watcher = threading.Thread(target=watch)
        watcher.start()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        started = time.perf_counter()
        for i in range(min(writes, len(pairs))):
            due = started + i / rate
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            sender_id, receiver_id = pairs[i]
            value = f"Job {i}"
            conn.request(
                "PATCH",
                f"/api/v1/people/{sender_id}",
                body=json.dumps({"occupation": value}),
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            response = conn.getresponse()
            response.read()
            sent[receiver_id] = (value, time.perf_counter())
            last_sent[0] = time.perf_counter()
        done.set()
        watcher.join()
        latencies = sorted((seen[pid] - at) * 1000 for pid, (_, at) in sent.items() if pid in seen)
        return {
            "writes": len(sent),
            "rate": rate,
            "missing": len(sent) - len(latencies),
            "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
            "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1], 1) if latencies else None,
            "max_ms": round(latencies[-1], 1) if latencies else None,
        }
    finally:
        server.terminate()
        server.wait(timeout=20)


def _wait_for(port: int) -> None:
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/openapi.json")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not start")


def _bench_throughput(
    url: str, data_dir: Path, pairs: list[tuple[int, int]], writes: int
) -> dict[str, Any]:
    """Queue `writes` sender-profile writes of THROUGHPUT_FIELDS each, then time worker processes
    draining them (process start-up included) until the receiving profiles hold every value."""
    from django.db import connection

    from tagshare.nations.actors import Actor
    from tagshare.people.bulk_update import Write, people_bulk_update
    from tagshare.people.models import Person

    tagshare = str(Path(sys.executable).with_name("tagshare"))
    out: dict[str, Any] = {}
    rounds = [1, 2] if connection.vendor == "postgresql" else [1]
    count = min(writes, len(pairs))
    senders = [s for s, _ in pairs[:count]]
    for workers in rounds:
        # Queued, not applied: no worker runs now. The bulk path writes the same history rows
        # and outbox events as person_update, only faster to set up.
        for start in range(0, count, 2000):
            people = Person.objects.filter(pk__in=senders[start : start + 2000]).select_related(
                "nation"
            )
            batch = [
                Write(p, {name: f"{name[:3]}-{workers}-{p.pk}" for name in THROUGHPUT_FIELDS})
                for p in people
            ]
            people_bulk_update(nation=batch[0].person.nation, actor=Actor.system(), writes=batch)
        connection.close()
        started = time.perf_counter()
        procs = [
            subprocess.Popen(
                [tagshare, "worker", "--until-idle"],
                env=_env(url, data_dir),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(workers)
        ]
        for proc in procs:
            proc.wait(timeout=1800)
        seconds = time.perf_counter() - started
        synced = _count_synced(pairs[:count], workers)
        out[str(workers)] = {
            "field_changes": synced,
            "expected": count * len(THROUGHPUT_FIELDS),
            "seconds": round(seconds, 2),
            "field_changes_per_second": round(synced / seconds),
        }
    return out


# Five text fields per write: a worker's cost is mostly per event and per profile, so this is what
# a typical edit (a few fields of a profile) costs per field.
THROUGHPUT_FIELDS = ("occupation", "employer", "middle_name", "suffix", "legal_name")


def _count_synced(pairs: list[tuple[int, int]], workers: int) -> int:
    """Field values that reached the receiving profiles: the measure is what arrived."""
    from tagshare.people.models import Person

    receiver_of = dict(pairs)
    got = {
        row["id"]: row
        for row in Person.objects.filter(pk__in=list(receiver_of.values())).values(
            "id", *THROUGHPUT_FIELDS
        )
    }
    return sum(
        1
        for sender_id, receiver_id in pairs
        for name in THROUGHPUT_FIELDS
        if got[receiver_id][name] == f"{name[:3]}-{workers}-{sender_id}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
