"""Benchmark: the daily reconciliation of a share with nothing to do.

    .venv/bin/python bench/bench_reconcile.py --people 1000000
    .venv/bin/python bench/bench_reconcile.py --people 1000000 \\
        --database-url postgresql://postgres@127.0.0.1:5432/bench

A share whose tag is on N sender profiles, every one linked and synced to a receiving profile
carrying the shared tag: what a share looks like the day after its initial sync. Reconciliation
must find nothing to match, create, tag or repair, and say so quickly (issue target: 1,000,000
profiles in ≤ 30 s). The fixture is written with set-based SQL copies of one template profile per
nation (the bulk path's own speed is measured by bench_people.py); the reconciliation itself runs
through `sharing.reconcile.share_reconcile`, twice (the second run shows the steady state).
Afterwards it checks that nothing changed. The database is wiped first.
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
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=100_000, help="linked profile pairs")
    common.add_database_arguments(parser)
    args = parser.parse_args(argv)
    if args.people < 1:
        parser.error("--people must be at least 1")
    if common.open_fresh_database(args) is None:
        return 2
    results: dict[str, Any] = {"environment": common.environment(), "command": " ".join(sys.argv)}
    started = time.perf_counter()
    share = _fixture(args.people)
    results["fixture_seconds"] = round(time.perf_counter() - started, 1)
    before = _snapshot(share)
    results["runs"] = [_reconcile(share) for _ in range(2)]
    after = _snapshot(share)
    results["unchanged"] = before == after
    results["snapshot"] = after
    results["peak_rss_mib"] = common.peak_rss_mib()
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        env = results["environment"]
        print(
            f"Reconciliation benchmark — {env['database']}, Python {env['python']}, "
            f"{env['cores']} cores, {env['cpu']}"
        )
        print(f"  fixture: {args.people:,} linked pairs in {results['fixture_seconds']} s")
        for i, run in enumerate(results["runs"], 1):
            steps = ", ".join(f"{k} {v} s" for k, v in run["steps"].items())
            print(f"  run {i}: {run['seconds']} s ({steps})")
        print(f"  nothing changed: {results['unchanged']} {after}")
        print(f"  peak RSS {results['peak_rss_mib']} MiB")
    return 0 if results["unchanged"] else 1


def _fixture(count: int) -> Any:
    from django.db import connection, transaction

    from tagshare.nations.actors import Actor
    from tagshare.nations.services import nation_create, user_create
    from tagshare.people.models import Person, PersonChange, PersonEmail
    from tagshare.people.services import person_create
    from tagshare.sharing.models import ShareLink
    from tagshare.tags.models import Tag, Tagging
    from tagshare.tags.services import tag_apply

    sender = nation_create(slug="sender", name="Sender")
    receiver = nation_create(slug="receiver", name="Receiver")
    s_admin = user_create(nation=sender, email="a@sender.example", role="admin")
    r_admin = user_create(nation=receiver, email="a@receiver.example", role="admin")
    template = {"first_name": "Template", "last_name": "Bench", "email1": "template@example.org"}
    for nation in (sender, receiver):
        person = person_create(nation=nation, actor=Actor.system(), values_in=template)
        if nation == sender:
            tag_apply(nation=sender, actor=Actor.system(), person=person, name="bench")
    share = common.accepted_share(
        sender, receiver, (s_admin, r_admin), tag="bench", initial_sync=False
    )
    person_t, email_t = Person._meta.db_table, PersonEmail._meta.db_table
    change_t = PersonChange._meta.db_table
    tagging_t, link_t = Tagging._meta.db_table, ShareLink._meta.db_table
    columns = [str(f.column) for f in Person._meta.concrete_fields if f.column != "id"]
    varied = {
        "first_name": "'P' || s.n",
        "first_key": "'p' || s.n",
        "email1": "'p' || s.n || '@example.org'",
    }
    select = ", ".join(varied.get(c, f"t.{c}") for c in columns)
    series = "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < %(n)s) "
    now = connection.ops.adapt_datetimefield_value(share.updated_at)
    with transaction.atomic(), connection.cursor() as cursor:
        for nation in (sender, receiver):
            cursor.execute(f"DELETE FROM {email_t} WHERE nation_id = %s", [nation.pk])
            cursor.execute(
                f"DELETE FROM {tagging_t} WHERE person_id IN (SELECT id FROM {person_t} WHERE nation_id = %s)",
                [nation.pk],
            )
            template_id = Person.objects.get(nation=nation).pk
            cursor.execute(
                f"{series}INSERT INTO {person_t} ({', '.join(columns)}) "
                f"SELECT {select} FROM {person_t} t, s WHERE t.id = %(t)s",
                {"n": count, "t": template_id},
            )
            cursor.execute(f"DELETE FROM {change_t} WHERE person_id = %s", [template_id])
            cursor.execute(f"DELETE FROM {person_t} WHERE id = %s", [template_id])
            cursor.execute(
                f"INSERT INTO {email_t} (nation_id, person_id, slot, address) "
                f"SELECT nation_id, id, 'email1', email1 FROM {person_t} WHERE nation_id = %s",
                [nation.pk],
            )
        # Sender pN is linked to receiver pN, by their email (the indexed way to pair them).
        cursor.execute(
            f"INSERT INTO {tagging_t} (tag_id, person_id, created_at) "
            f"SELECT %s, id, %s FROM {person_t} WHERE nation_id = %s",
            [share.tag_id, now, sender.pk],
        )
        cursor.execute(
            f"INSERT INTO {tagging_t} (tag_id, person_id, created_at) "
            f"SELECT %s, id, %s FROM {person_t} WHERE nation_id = %s",
            [share.receiver_tag_id, now, receiver.pk],
        )
        cursor.execute(
            f"INSERT INTO {link_t} (share_id, sender_person_id, receiver_person_id, state, rule, "
            "reason, candidates, created_at, updated_at) "
            f"SELECT %(share)s, s.person_id, r.person_id, 'synced', 'email', '', '[]', %(now)s, "
            f"%(now)s FROM {email_t} s JOIN {email_t} r ON r.nation_id = %(receiver)s "
            "AND r.address = s.address WHERE s.nation_id = %(sender)s",
            {"share": share.pk, "now": now, "sender": sender.pk, "receiver": receiver.pk},
        )
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE")  # what autovacuum would have done by the next day
    assert Tag.objects.get(pk=share.receiver_tag_id).nation_id == receiver.pk
    return share


def _reconcile(share: Any) -> dict[str, Any]:
    from tagshare.sharing import reconcile

    steps: dict[str, float] = {}
    started = time.perf_counter()
    reconcile.share_reconcile(share, timings=steps)
    return {
        "seconds": round(time.perf_counter() - started, 2),
        "steps": {k: round(v, 2) for k, v in steps.items()},
    }


def _snapshot(share: Any) -> dict[str, int]:
    from tagshare.outbox.models import OutboxEvent
    from tagshare.people.models import Person, PersonChange
    from tagshare.sharing.models import ReviewItem, ShareLink
    from tagshare.tags.models import Tagging

    return {
        "people": Person.objects.count(),
        "history_rows": PersonChange.objects.count(),
        "pending_events": OutboxEvent.objects.filter(processed_at__isnull=True).count(),
        "synced_links": ShareLink.objects.filter(share=share, state="synced").count(),
        "other_links": ShareLink.objects.filter(share=share).exclude(state="synced").count(),
        "shared_taggings": Tagging.objects.filter(tag_id=share.receiver_tag_id).count(),
        "review_items": ReviewItem.objects.count(),
    }


if __name__ == "__main__":
    raise SystemExit(main())
