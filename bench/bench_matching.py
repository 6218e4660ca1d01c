"""Benchmark: the matching cascade, 1,000,000 incoming profiles against a nation of 1,000,000.

    .venv/bin/python bench/bench_matching.py --receiving 1000000 --incoming 1000000
    .venv/bin/python bench/bench_matching.py --receiving 1000000 --incoming 1000000 \\
        --database-url postgresql://postgres@127.0.0.1:5432/bench

Loads two nations from bench/world.py (ground truth known), then times staging the incoming
nation's profiles and running the cascade, and, in the same run, the floor: one plain SQL join on
the same keys with no cascade and no ambiguity rules. Reports precision and recall of the
automatic matches against the ground truth. The database is wiped first.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if common.open_fresh_database(args) is None:
        return 2

    import world

    shape = world.WorldShape(receiving=args.receiving, incoming=args.incoming)
    results: dict[str, Any] = {"environment": common.environment(), "command": " ".join(sys.argv)}
    receiving, incoming, load = _load(shape, args.seed)
    results["load"] = load
    results["cascade"] = _bench_cascade(receiving, incoming)
    results["floor"] = _bench_floor(receiving, incoming)
    results["ratio_to_floor"] = round(
        results["cascade"]["seconds"] / max(results["floor"]["seconds"], 1e-6), 2
    )
    results["peak_rss_mib"] = common.peak_rss_mib()
    if args.json:
        print(json.dumps(results, indent=2, default=str))
    else:
        _print(results)
    return 0


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--receiving", type=int, default=100_000)
    parser.add_argument("--incoming", type=int, default=100_000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--allow-wipe", action="store_true")
    args = parser.parse_args(argv)
    if args.receiving < 1 or args.incoming < 1:
        parser.error("--receiving and --incoming must be at least 1")
    return args


def _load(shape: Any, seed: int) -> tuple[Any, Any, dict[str, Any]]:
    import world
    from tagshare.nations.actors import Actor
    from tagshare.nations.services import nation_create
    from tagshare.people.bulk import people_bulk_create

    receiving = nation_create(slug="receiving", name="Receiving")
    incoming = nation_create(slug="incoming", name="Incoming")
    started = time.perf_counter()
    common.log(f"loading {shape.receiving:,} receiving people …")
    r = people_bulk_create(
        nation=receiving, actor=Actor.system(), rows=world.receiving_people(shape, seed)
    )
    common.log(f"loading {shape.incoming:,} incoming people …")
    i = people_bulk_create(
        nation=incoming, actor=Actor.system(), rows=world.incoming_people(shape, seed)
    )
    _analyze()
    return (
        receiving,
        incoming,
        {
            "receiving_profiles": r,
            "incoming_profiles": i,
            "seconds": round(time.perf_counter() - started, 1),
        },
    )


def _analyze() -> None:
    """Statistics for the planner, and on PostgreSQL the loaded tables vacuumed: otherwise
    autovacuum starts on the two million new rows while the cascade is being timed (a nation
    that is matched against has long been vacuumed)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def _bench_cascade(receiving: Any, incoming: Any) -> dict[str, Any]:
    from django.db import transaction

    from tagshare.matching import engine
    from tagshare.matching.models import MatchResult
    from tagshare.people.models import Person

    common.log("matching …")
    rss_before = common.rss_mib()
    with transaction.atomic():
        started = time.perf_counter()
        run = engine.run_create(nation=receiving, id_fields=engine.default_id_fields())
        staged = engine.stage_people(run, nation_id=incoming.pk)
        t_staged = time.perf_counter()
        engine.run_cascade(run)
        t_cascade = time.perf_counter()
        counts: dict[str, int] = {}
        rules: dict[str, int] = {}
        truth_in = dict(
            Person.objects.filter(nation=incoming)
            .values_list("id", "note")
            .iterator(chunk_size=20_000)
        )
        truth_re = dict(
            Person.objects.filter(nation=receiving)
            .values_list("id", "note")
            .iterator(chunk_size=20_000)
        )
        correct = wrong = 0
        for outcome in engine.outcomes(run):
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
            if outcome.status == "matched" and outcome.person_id is not None:
                rules[outcome.rule] = rules.get(outcome.rule, 0) + 1
                if truth_in[outcome.ref] == truth_re[outcome.person_id]:
                    correct += 1
                else:
                    wrong += 1
        t_read = time.perf_counter()
        assert MatchResult.objects.filter(run=run).count() == staged
        engine.run_discard(run)
    received = set(truth_re.values())
    true_pairs = sum(1 for note in truth_in.values() if note in received)
    matched = correct + wrong
    return {
        "incoming": staged,
        "seconds": round(t_cascade - started, 2),
        "stage_seconds": round(t_staged - started, 2),
        "cascade_seconds": round(t_cascade - t_staged, 2),
        "read_outcomes_seconds": round(t_read - t_cascade, 2),
        "profiles_per_second": round(staged / max(t_cascade - started, 1e-6)),
        "outcomes": counts,
        "rules": rules,
        "true_pairs": true_pairs,
        "precision": round(correct / matched, 6) if matched else None,
        "recall": round(correct / true_pairs, 4) if true_pairs else None,
        "wrong_matches": wrong,
        "rss_growth_mib": round(common.rss_mib() - rss_before, 1),
    }


def _bench_floor(receiving: Any, incoming: Any) -> dict[str, Any]:
    """The same keys joined in one statement: what the database costs with no cascade at all."""
    from django.db import connection, transaction

    person = "people_person"
    emails = "people_personemail"
    sql = (
        "SELECT COUNT(*) FROM ("
        f"SELECT s.id, r.id FROM {person} s JOIN {person} r ON r.nation_id = %(r)s AND r.nbec_guid = s.nbec_guid "
        "WHERE s.nation_id = %(s)s "
        f"UNION SELECT se.person_id, re.person_id FROM {emails} se JOIN {emails} re "
        "ON re.nation_id = %(r)s AND re.address = se.address WHERE se.nation_id = %(s)s "
        f"UNION SELECT s.id, r.id FROM {person} s JOIN {person} r ON r.nation_id = %(r)s "
        "AND r.last_key = s.last_key AND r.first_key = s.first_key AND r.birthdate = s.birthdate "
        "WHERE s.nation_id = %(s)s AND s.first_key <> ''"
        ") pairs"
    )
    common.log("floor: one plain join …")
    with transaction.atomic(), connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(sql, {"r": receiving.pk, "s": incoming.pk})
        pairs = cursor.fetchone()[0]
        seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 2), "pairs": pairs}


def _print(results: dict[str, Any]) -> None:
    env = results["environment"]
    c = results["cascade"]
    print(
        f"Matching benchmark — {env['database']}, Python {env['python']}, {env['cores']} cores, {env['cpu']}"
    )
    print(
        f"  loaded: {results['load']['receiving_profiles']:,} receiving, {results['load']['incoming_profiles']:,} incoming ({results['load']['seconds']} s)"
    )
    print(
        f"  cascade: {c['incoming']:,} incoming in {c['seconds']} s = {c['profiles_per_second']:,} profiles/s "
        f"(stage {c['stage_seconds']} s, cascade {c['cascade_seconds']} s; reading outcomes {c['read_outcomes_seconds']} s)"
    )
    print(
        f"  floor (plain join on the same keys): {results['floor']['seconds']} s; ratio {results['ratio_to_floor']}x"
    )
    print(f"  outcomes: {c['outcomes']}")
    print(f"  rules: {c['rules']}")
    print(
        f"  precision {c['precision']}  recall {c['recall']}  (true pairs {c['true_pairs']:,}, wrong matches {c['wrong_matches']})"
    )
    print(f"  peak RSS {results['peak_rss_mib']} MiB")


if __name__ == "__main__":
    raise SystemExit(main())
