"""Benchmark: the initial sync of a share whose tag is on N profiles into a nation of N.

    .venv/bin/python bench/bench_share.py --people 1000000
    .venv/bin/python bench/bench_share.py --people 1000000 \\
        --database-url postgresql://postgres@127.0.0.1:5432/bench

About half of the sender's tagged people exist in the receiving nation (bench/world.py), the
share syncs data and the receiver accepts with `accept_all`. Prints the split by phase
(matching and links, tags, field reconciliation), two plain-SQL floors measured in the same run
(the matching join, and the reconciliation's writes done set-based and rolled back), and peak
memory. The database is wiped first.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
import statements


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--people", type=int, default=100_000, help="tagged sender profiles, and receiving profiles"
    )
    parser.add_argument(
        "--snapshot",
        action="store_true",
        help="keep the loaded people (PostgreSQL: in a template database <name>_loaded_<N>; "
        "SQLite: in a file <stem>_loaded_<N>.sqlite3, in the temporary folder for the default "
        "database) and start from them when they exist, instead of loading them again",
    )
    parser.add_argument(
        "--statements",
        type=int,
        default=0,
        metavar="N",
        help="also print the N statements of the sync that took longest in total",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="reconcile threads on PostgreSQL (default: the product's, initial_sync.THREADS)",
    )
    parser.add_argument(
        "--python-path",
        action="store_true",
        help="reconcile every pair in Python (initial_sync.SET_BASED off), for an A/B",
    )
    common.add_database_arguments(parser)
    args = parser.parse_args(argv)
    if args.people < 1:
        parser.error("--people must be at least 1")
    opened = common.open_fresh_database(args)
    if opened is None:
        return 2
    url = opened[0]

    import world
    from bench_matching import _analyze, _bench_floor

    results: dict[str, Any] = {"environment": common.environment(), "command": " ".join(sys.argv)}
    shape = world.WorldShape(receiving=args.people, incoming=args.people)
    label = str(args.people)
    if args.snapshot and common.snapshot_restore(url, label):
        from django.core.management import call_command

        common.log("started from the snapshot of the loaded people")
        call_command("migrate", verbosity=0, interactive=False)  # newer migrations, if any
        sender, receiver, admins = _nations_loaded()
        results["load"] = _loaded_counts(sender, receiver)
    else:
        sender, receiver, admins = _nations()
        results["load"] = _load(shape, sender, receiver)
        _analyze()
        if args.snapshot:
            common.snapshot_save(url, label)
    if args.threads is not None:
        from tagshare.sharing import initial_sync

        initial_sync.THREADS = args.threads
    if args.python_path:
        from tagshare.sharing import initial_sync

        initial_sync.SET_BASED = False
    timing: AbstractContextManager[dict[str, list[float]]] = (
        statements.statement_times() if args.statements else nullcontext({})
    )
    with timing as times:
        results["sync"] = _bench_sync(sender, receiver, admins)
    if args.statements:
        results["statements"] = statements.top(times, args.statements)
    results["reconcile_idle"] = _bench_reconcile_idle()
    results["floor"] = _bench_floor(receiver, sender)
    results["write_floor"] = _bench_write_floor()
    results["ratio_to_floor"] = round(
        results["sync"]["seconds"] / max(results["floor"]["seconds"], 1e-6), 1
    )
    results["peak_rss_mib"] = common.peak_rss_mib()
    if args.json:
        print(json.dumps(results, indent=2, default=str))
    else:
        env, s = results["environment"], results["sync"]
        print(
            f"Initial sync benchmark — {env['database']}, Python {env['python']}, {env['cores']} cores, {env['cpu']}"
        )
        print(
            f"  {results['load']['tagged']:,} tagged sender profiles, {results['load']['receiving']:,} receiving profiles"
        )
        print(f"  end to end: {s['seconds']} s ({s['profiles_per_second']:,} tagged profiles/s)")
        for phase, seconds in s["phases"].items():
            print(f"    {phase:<20} {seconds:8.2f} s")
        print(f"  counts: {s['counts']}, taggings {s['taggings']:,}")
        print(
            f"  floor (plain join on the match keys): {results['floor']['seconds']} s; ratio {results['ratio_to_floor']}x"
        )
        w = results["write_floor"]
        print(
            f"  write floor (the profiles the sync wrote, rewritten set-based, one history row and "
            f"one event each, rolled back): {w['seconds']} s — {w['pairs']:,} receiving profiles "
            f"{w['receiving_seconds']} s, {w['sending_profiles']:,} sending profiles "
            f"{round(w['seconds'] - w['receiving_seconds'], 2)} s; "
            f"reconciling took {round(s['phases'].get('reconciling', 0) / max(w['seconds'], 1e-6), 1)}x that"
        )
        print(
            f"  the sync's floor (match floor + write floor): "
            f"{round(results['floor']['seconds'] + w['seconds'], 2)} s"
        )
        print(f"  reconciliation with nothing to do: {results['reconcile_idle']['seconds']} s")
        print(f"  peak RSS {results['peak_rss_mib']} MiB")
        if args.statements:
            print("  costliest statements of the sync (seconds summed over threads, runs):")
            for entry in results["statements"]:
                print(f"    {entry['seconds']:8.2f} s {entry['runs']:7,}  {entry['statement']}")
    return 0


def _nations() -> tuple[Any, Any, tuple[Any, Any]]:
    from tagshare.nations.services import nation_create, user_create

    sender = nation_create(slug="sender", name="Sender", plan="organization")
    receiver = nation_create(slug="receiver", name="Receiver", plan="enterprise")
    return (
        sender,
        receiver,
        (
            user_create(nation=sender, email="admin@sender.example", role="admin"),
            user_create(nation=receiver, email="admin@receiver.example", role="admin"),
        ),
    )


def _nations_loaded() -> tuple[Any, Any, tuple[Any, Any]]:
    from tagshare.nations.models import Nation, User

    sender, receiver = Nation.objects.get(slug="sender"), Nation.objects.get(slug="receiver")
    return (
        sender,
        receiver,
        (User.objects.get(nation=sender), User.objects.get(nation=receiver)),
    )


def _loaded_counts(sender: Any, receiver: Any) -> dict[str, Any]:
    from tagshare.people.models import Person

    return {
        "receiving": Person.objects.filter(nation=receiver).count(),
        "tagged": Person.objects.filter(nation=sender).count(),
        "seconds": 0.0,
    }


def _load(shape: Any, sender: Any, receiver: Any) -> dict[str, Any]:
    from django.db import connection, transaction
    from django.utils import timezone

    import world
    from tagshare.nations.actors import Actor
    from tagshare.people.bulk import people_bulk_create
    from tagshare.tags.models import Tag

    started = time.perf_counter()
    common.log(f"loading {shape.receiving:,} receiving people …")
    r = people_bulk_create(
        nation=receiver, actor=Actor.system(), rows=world.receiving_people(shape)
    )
    common.log(f"loading {shape.incoming:,} sender people …")
    s = people_bulk_create(nation=sender, actor=Actor.system(), rows=world.incoming_people(shape))
    tag = Tag.objects.create(nation=sender, name="climate")
    with transaction.atomic(), connection.cursor() as cursor:
        # Setup only: the tag goes on every sender profile in one statement.
        cursor.execute(
            "INSERT INTO tags_tagging (tag_id, person_id, created_at) SELECT %s, id, %s FROM people_person WHERE nation_id = %s",
            [tag.pk, connection.ops.adapt_datetimefield_value(timezone.now()), sender.pk],
        )
    return {"receiving": r, "tagged": s, "seconds": round(time.perf_counter() - started, 1)}


def _bench_sync(sender: Any, receiver: Any, admins: tuple[Any, Any]) -> dict[str, Any]:
    from tagshare.sharing import initial_sync
    from tagshare.sharing.selectors import share_counts, share_taggings_count

    share = common.accepted_share(sender, receiver, admins, tag="climate", initial_sync=False)
    marks: list[tuple[str, float]] = []

    def progress(phase: str, done: int, total: int) -> None:
        if not marks or marks[-1][0] != phase:
            marks.append((phase, time.perf_counter()))
            common.log(f"  {phase} …")

    common.log("initial sync …")
    started = time.perf_counter()
    initial_sync.share_initial_sync(share, progress=progress)
    ended = time.perf_counter()
    phases: dict[str, float] = {}
    for (name, at), nxt in zip(marks, [*(m[1] for m in marks[1:]), ended], strict=True):
        phases[name] = round(nxt - at, 2)
    tagged = share_counts(share)
    return {
        "seconds": round(ended - started, 2),
        "profiles_per_second": round(
            sum(tagged[k] for k in ("matched", "synced", "not_found", "ambiguous"))
            / (ended - started)
        ),
        "phases": phases,
        "counts": tagged,
        "taggings": share_taggings_count(share),
    }


# Fields the write floor's history documents carry: about as many as a reconciled pair changes.
_FLOOR_FIELDS = ("email1", "first_name", "last_name", "mobile")


def _bench_write_floor() -> dict[str, Any]:
    """The least the reconciliation's writes can cost, set-based, then rolled back: every
    matched receiving profile rewritten with its sender's synced columns and versions, one
    history row and one outbox event each, in three statements; then the same for the sending
    profiles the sync wrote to (those with a history row from the share), from their
    receiving profiles. It leaves out what the real reconciliation must also do (deciding
    field by field, emails and IDs held elsewhere, match keys, the links' state), so it is a
    floor, not a design: the writes SPEC §5.3 asks for, at plain-SQL speed."""
    from django.db import connection, transaction
    from django.utils import timezone

    from tagshare.people import catalog
    from tagshare.sharing.models import TagShare

    share = TagShare.objects.get()
    columns: list[str] = []
    for name in share.synced_fields:
        spec = catalog.BY_NAME[name]
        columns.extend(catalog.address_columns(name).values() if spec.is_address else [name])
    pg = connection.vendor == "postgresql"
    obj = "jsonb_build_object" if pg else "json_object"

    def version(alias: str, f: str) -> str:
        if pg:
            return f"{alias}.field_versions::jsonb -> '{f}'"
        return f"json_extract({alias}.field_versions, '$.{f}')"

    def doc(target: str, source: str) -> str:
        text = (
            f"{obj}("
            + ", ".join(
                f"'{f}', {obj}('old', {target}.{f}, 'new', {source}.{f}, "
                f"'version', {version(source, f)})"
                for f in _FLOOR_FIELDS
            )
            + ")"
        )
        # Documents are stored as text (jsontext.JSONTextField); SQLite's JSON is text already.
        return f"({text})::text" if pg else text

    payload = f"{obj}('fields', {obj}('email1', 1), 'source', 'share', 'share_id', %(share)s)"
    if pg:
        payload = f"({payload})::text"
    synced = "l.share_id = %(share)s AND l.state = 'synced' AND l.rule <> 'created'"
    links = (
        "FROM sharing_sharelink l JOIN people_person s ON s.id = l.sender_person_id "
        f"JOIN people_person r ON r.id = l.receiver_person_id WHERE {synced}"
    )
    # The sending profiles the sync wrote to, found before the clock starts.
    written = " AND l.sender_person_id IN (SELECT person_id FROM floor_written)"
    sides = (
        # target, its key on the link, source, its key, nation, which links
        ("r", "receiver_person_id", "s", "sender_person_id", share.receiver_id, ""),
        ("s", "sender_person_id", "r", "receiver_person_id", share.sender_id, written),
    )
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    common.log("write floor: the reconciliation's writes, set-based …")
    seconds: list[float] = []
    counts: list[int] = []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE floor_written AS SELECT DISTINCT person_id FROM "
            "people_personchange WHERE nation_id = %s AND share_id = %s",
            [share.sender_id, share.pk],
        )
        for target, key, source, other, nation, which in sides:
            params = {"share": share.pk, "nation": nation, "now": now}
            sets = ", ".join(f"{c} = {source}.{c}" for c in (*columns, "field_versions"))
            started = time.perf_counter()
            # The target of an UPDATE cannot be one of its FROM tables: the link joins the
            # source profile, and the target is matched to the link's other key.
            cursor.execute(
                f"UPDATE people_person AS {target} SET {sets}, updated_at = %(now)s "
                f"FROM sharing_sharelink l JOIN people_person {source} ON {source}.id = l.{other} "
                f"WHERE {synced} AND {target}.id = l.{key}{which}",
                params,
            )
            counts.append(cursor.rowcount)
            cursor.execute(
                "INSERT INTO people_personchange (nation_id, person_id, kind, source, share_id, "
                f"changes, created_at) SELECT %(nation)s, {target}.id, 'share', 'share', "
                f"%(share)s, {doc(target, source)}, %(now)s {links}{which}",
                params,
            )
            cursor.execute(
                "INSERT INTO outbox_outboxevent (nation_id, person_id, kind, payload, created_at, "
                f"attempts) SELECT %(nation)s, {target}.id, 'person.updated', {payload}, "
                f"%(now)s, 0 {links}{which}",
                params,
            )
            seconds.append(time.perf_counter() - started)
        transaction.set_rollback(True)
    return {
        "seconds": round(sum(seconds), 2),
        "receiving_seconds": round(seconds[0], 2),
        "pairs": counts[0],
        "sending_profiles": counts[1],
    }


def _bench_reconcile_idle() -> dict[str, Any]:
    from tagshare.sharing.models import TagShare
    from tagshare.sharing.reconcile import share_reconcile

    share = TagShare.objects.get()
    common.log("reconciling again (nothing to do) …")
    started = time.perf_counter()
    share_reconcile(share)
    return {"seconds": round(time.perf_counter() - started, 2)}


if __name__ == "__main__":
    raise SystemExit(main())
