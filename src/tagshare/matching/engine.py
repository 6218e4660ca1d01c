"""The matching cascade (SPEC §4), set-based: a fixed number of SQL statements per step.

Usage: `run = run_create(nation=..., id_fields=...)`, stage the incoming profiles
(`stage_values` for import rows; the sharing engine stages a sender's profiles with SQL), then
`run_cascade(run)` and read `outcomes(run)`. `match_one` does all of it for a single profile.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from tagshare.dbcopy import Table, store_for_connection
from tagshare.idlists import inline_ids
from tagshare.matching import normalise
from tagshare.matching.models import (
    MatchCandidate,
    MatchIncoming,
    MatchIncomingEmail,
    MatchResult,
    MatchRun,
    MatchStatus,
)
from tagshare.nations.models import Nation
from tagshare.people import catalog
from tagshare.people.bulk import MATCH_KEYS
from tagshare.people.models import Person, PersonEmail
from tagshare.tags.models import Tagging

STEP_VOTER_GUID, STEP_UNIQUE_IDS, STEP_EMAIL, STEP_HEURISTIC = 1, 2, 3, 4
STEP_LABELS = {
    STEP_VOTER_GUID: "voter GUID",
    STEP_UNIQUE_IDS: "unique IDs",
    STEP_EMAIL: "email",
    STEP_HEURISTIC: "name with birthdate or phone",
}
STAGE_BATCH = 5000


@dataclass(frozen=True)
class Outcome:
    """`matched(person, rule)`, `ambiguous(reason, candidates)` or `not_found` for one input."""

    ref: int
    status: str
    person_id: int | None = None
    rule: str = ""
    reason: str = ""
    candidates: tuple[int, ...] = field(default=())


def default_id_fields(opt_in_ids: Iterable[str] = ()) -> list[str]:
    """The public identifiers always take part; opt-in IDs only when chosen (SPEC §4 step 2)."""
    chosen = set(opt_in_ids)
    unknown = chosen - set(catalog.OPT_IN_IDS)
    if unknown:
        raise ValueError(f"not opt-in unique IDs: {', '.join(sorted(unknown))}")
    return list(catalog.PUBLIC_IDS) + [name for name in catalog.OPT_IN_IDS if name in chosen]


# A run lasts as long as one matching (a minute for a million profiles); one this old was left
# by a process killed between committed steps (a share matched in parts, see initial_sync).
STALE_AFTER = timedelta(days=1)


def run_create(*, nation: Nation, id_fields: Sequence[str]) -> MatchRun:
    for stale in MatchRun.objects.filter(created_at__lt=timezone.now() - STALE_AFTER):
        run_discard(stale)
    return MatchRun.objects.create(nation=nation, id_fields=list(id_fields))


def run_discard(run: MatchRun) -> None:
    for model in (MatchResult, MatchCandidate, MatchIncomingEmail, MatchIncoming):
        model.objects.filter(run=run).delete()
    run.delete()


def incoming_keys(values: dict[str, Any], region: str) -> tuple[dict[str, Any], list[str]]:
    """Normalised keys of one incoming profile's (cleaned) catalog values, and its emails."""
    precomputed = values.get(MATCH_KEYS)
    keys: dict[str, Any] = (
        dict(precomputed) if precomputed is not None else normalise.match_keys(values, region)
    )
    keys["birthdate"] = normalise.date_key(values.get("birthdate"))
    registered = values.get("registered_address") or {}
    keys["registered_state"] = registered.get("state", "") or ""
    keys["registered_county"] = registered.get("county", "") or ""
    for name in catalog.UNIQUE_IDS:
        value = values.get(name)
        keys[name] = str(value).strip() if value not in (None, "") else None
    emails = []
    for name in catalog.EMAIL_FIELDS:
        key = normalise.email_key(values.get(name))
        if key and key not in emails:
            emails.append(key)
    return keys, emails


_INCOMING = Table.of(MatchIncoming, with_id=False)
_INCOMING_EMAIL = Table.of(MatchIncomingEmail, with_id=False)


def stage_values(run: MatchRun, rows: Iterable[tuple[int, dict[str, Any]]]) -> int:
    """Stage incoming profiles given as (ref, cleaned catalog values); returns how many."""
    region = run.nation.default_region
    store = store_for_connection()
    columns = [c for c in _INCOMING.columns if c not in ("run_id", "seq", "ref")]
    count = 0
    incoming: list[tuple[Any, ...]] = []
    emails: list[tuple[Any, ...]] = []

    def flush() -> None:
        store.insert(_INCOMING, incoming)
        store.insert(_INCOMING_EMAIL, emails)
        incoming.clear()
        emails.clear()

    order = {c: i for i, c in enumerate(_INCOMING.columns)}
    birthdate = order["birthdate"]
    adapt_date = connection.ops.adapt_datefield_value
    for ref, values in rows:
        keys, addresses = incoming_keys(values, region)
        row: list[Any] = [None] * len(_INCOMING.columns)
        row[order["run_id"]], row[order["seq"]], row[order["ref"]] = run.pk, count, ref
        for column in columns:
            row[order[column]] = keys[column]
        row[birthdate] = adapt_date(row[birthdate])
        incoming.append(tuple(row))
        emails.extend((run.pk, count, address) for address in addresses)
        count += 1
        if len(incoming) >= STAGE_BATCH:
            flush()
    flush()
    with connection.cursor() as cursor:
        _analyze(cursor, T.inc, T.inc_email)
    return count


def stage_people(
    run: MatchRun,
    *,
    nation_id: int,
    tag_id: int | None = None,
    person_ids: list[int] | None = None,
    unless: tuple[str, dict[str, Any]] | None = None,
    id_range: tuple[int | None, int | None] = (None, None),
) -> int:
    """Stage a nation's profiles (those carrying `tag_id`, if given) with SQL: ref = seq = person id.

    This is how a share's sender profiles enter the cascade; their keys are already stored.
    `unless` is an SQL condition on `p` (with its named parameters) that leaves profiles out —
    a share's already-linked ones — so a daily run over a settled share stages nothing.
    `id_range` (from, below) stages only the profiles whose id is in it: a part of a big share.
    """
    id_columns = ", ".join(catalog.UNIQUE_IDS)
    key_columns = (
        "first_key, last_key, birthdate, phone_key, mobile_key, work_phone_key, "
        "registered_state, registered_county"
    )
    tagged = (
        f"JOIN {TAGGING} t ON t.person_id = p.id AND t.tag_id = %(tag)s "
        if tag_id is not None
        else ""
    )
    params: dict[str, Any] = {"run": run.pk, "nation": nation_id, "tag": tag_id}
    only = ""
    if person_ids is not None:
        only = f"AND p.id IN ({inline_ids(person_ids)}) "
    if unless is not None:
        only += f"AND NOT ({unless[0]}) "
        params.update(unless[1])
    if id_range[0] is not None:
        only += f"AND p.id >= {int(id_range[0])} "
    if id_range[1] is not None:
        only += f"AND p.id < {int(id_range[1])} "
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {T.inc} (run_id, seq, ref, {key_columns}, {id_columns}) "
            f"SELECT %(run)s, p.id, p.id, {', '.join('p.' + c.strip() for c in key_columns.split(','))}, "
            f"{', '.join('p.' + c for c in catalog.UNIQUE_IDS)} "
            f"FROM {T.person} p {tagged}WHERE p.nation_id = %(nation)s {only}",
            params,
        )
        staged = cursor.rowcount
        cursor.execute(
            f"INSERT INTO {T.inc_email} (run_id, seq, address) "
            f"SELECT i.run_id, i.seq, pe.address FROM {T.inc} i "
            f"JOIN {T.person_email} pe ON pe.person_id = i.ref WHERE i.run_id = %(run)s",
            params,
        )
        _analyze(cursor, T.inc, T.inc_email)
    return staged


class _Sql:
    """Table names, so the statements below read like the cascade they implement."""

    inc = MatchIncoming._meta.db_table
    inc_email = MatchIncomingEmail._meta.db_table
    cand = MatchCandidate._meta.db_table
    res = MatchResult._meta.db_table
    person = Person._meta.db_table
    person_email = PersonEmail._meta.db_table


T = _Sql
TAGGING = Tagging._meta.db_table
UNDECIDED = f"NOT EXISTS (SELECT 1 FROM {T.res} r WHERE r.run_id = i.run_id AND r.seq = i.seq)"


def _unique_id_join(name: str) -> str:
    spec = catalog.get(name)
    # `IS NOT NULL` lets the planner use the partial unique index (blank IDs are not indexed).
    join = f"p.{name} = i.{name} AND p.{name} IS NOT NULL"
    for column in spec.unique_with:
        join += f" AND p.{column} = i.{column}"
    return join


def _candidate_statements(run: MatchRun) -> list[tuple[int, str]]:
    insert = f"INSERT INTO {T.cand} (run_id, seq, step, person_id, rule) "
    statements = [
        (
            STEP_VOTER_GUID,
            insert + f"SELECT i.run_id, i.seq, {STEP_VOTER_GUID}, p.id, 'voter_guid' "
            f"FROM {T.inc} i JOIN {T.person} p ON p.nation_id = %(nation)s AND p.nbec_guid = i.nbec_guid AND p.nbec_guid IS NOT NULL "
            f"WHERE i.run_id = %(run)s AND i.nbec_guid IS NOT NULL AND {UNDECIDED}",
        )
    ]
    for name in run.id_fields:
        if name == "nbec_guid":
            continue
        statements.append(
            (
                STEP_UNIQUE_IDS,
                insert + f"SELECT i.run_id, i.seq, {STEP_UNIQUE_IDS}, p.id, 'unique_id:{name}' "
                f"FROM {T.inc} i JOIN {T.person} p ON p.nation_id = %(nation)s AND {_unique_id_join(name)} "
                f"WHERE i.run_id = %(run)s AND i.{name} IS NOT NULL AND {UNDECIDED}",
            )
        )
    statements.append(
        (
            STEP_EMAIL,
            insert + f"SELECT DISTINCT i.run_id, i.seq, {STEP_EMAIL}, pe.person_id, 'email' "
            f"FROM {T.inc_email} i JOIN {T.person_email} pe "
            f"ON pe.nation_id = %(nation)s AND pe.address = i.address "
            f"WHERE i.run_id = %(run)s AND {UNDECIDED}",
        )
    )
    statements.extend((STEP_HEURISTIC, sql) for sql in _heuristic_statements(insert))
    return statements


NAME_HITS = "match_name_hits"  # SQLite: a temporary table, one run at a time


def _heuristic_statements(insert: str) -> list[str]:
    """Same first and last name key, and the same birthdate or a phone in common (SPEC §4)."""
    names = (
        f"FROM {T.inc} i JOIN {T.person} p ON p.nation_id = %(nation)s "
        "AND p.last_key = i.last_key AND p.first_key = i.first_key "
        f"WHERE i.run_id = %(run)s AND i.first_key <> '' AND i.last_key <> '' AND {UNDECIDED}"
    )
    phones = "(p.phone_key, p.mobile_key, p.work_phone_key)"
    either = (
        "((i.birthdate IS NOT NULL AND p.birthdate = i.birthdate) "
        f"OR (i.phone_key <> '' AND i.phone_key IN {phones}) "
        f"OR (i.mobile_key <> '' AND i.mobile_key IN {phones}) "
        f"OR (i.work_phone_key <> '' AND i.work_phone_key IN {phones}))"
    )
    select = f"SELECT i.run_id, i.seq, {STEP_HEURISTIC}, p.id, 'heuristic'"
    if connection.vendor != "sqlite":
        return [insert + f"{select} {names} AND {either}"]
    # SQLite joins by nested loops: each name hit read its profile at once, at a random place
    # in a table of every nation's profiles (1.5M name hits at 1M: 8 s). So the hits come from
    # the name index alone (it holds the profile id), sorted by id; the profiles are then read
    # in table order, and the few candidates written in staging order (their index's order).
    # (A MATERIALIZED common table expression with the same ORDER BY measured no faster.)
    return [
        f"CREATE TEMPORARY TABLE {NAME_HITS} AS SELECT i.run_id, i.seq, p.id AS person_id, "
        f"i.birthdate, i.phone_key, i.mobile_key, i.work_phone_key {names} ORDER BY p.id",
        insert + f"{select} FROM {NAME_HITS} i CROSS JOIN {T.person} p ON p.id = i.person_id "
        f"WHERE {either} ORDER BY i.seq",
        f"DROP TABLE {NAME_HITS}",
    ]


def _decide_statement(step: int) -> str:
    """One candidate -> matched; several -> ambiguous (duplicates in the receiving nation)."""
    several = "COUNT(DISTINCT person_id) > 1"
    reason = f"several profiles share this {STEP_LABELS[step]}"
    return (
        f"INSERT INTO {T.res} (run_id, seq, status, person_id, rule, step, reason) "
        f"SELECT run_id, seq, CASE WHEN {several} THEN 'ambiguous' ELSE 'matched' END, "
        f"CASE WHEN {several} THEN NULL ELSE MIN(person_id) END, MIN(rule), {step}, "
        f"CASE WHEN {several} THEN '{reason}' ELSE '' END "
        f"FROM {T.cand} WHERE run_id = %(run)s AND step = {step} GROUP BY run_id, seq"
    )


def _conflict_statement(names: Sequence[str]) -> str:
    """A single candidate whose unique ID differs from the incoming one is ambiguous (the seed);
    the reason names the first such ID in the cascade's order."""
    differs: list[tuple[str, str]] = []
    for name in names:
        spec = catalog.get(name)
        same_scope = "".join(f" AND i.{c} = p.{c}" for c in spec.unique_with)
        differs.append(
            (
                f"(i.{name} IS NOT NULL AND p.{name} IS NOT NULL AND i.{name} <> p.{name}"
                f"{same_scope})",
                f"{spec.label} differs between the two profiles",
            )
        )
    reason = " ".join(f"WHEN {test} THEN '{text}'" for test, text in differs)
    # One statement for every ID: each read the matched profiles again (a random read of the
    # profile table per match, 1.5 s in all at 1M on SQLite for six IDs). UPDATE … FROM
    # (PostgreSQL, SQLite ≥ 3.33) joins once; a correlated EXISTS let the planner rescan the
    # staging table per result row.
    return (
        f"UPDATE {T.res} SET status = 'ambiguous', reason = CASE {reason} END "
        f"FROM {T.inc} i, {T.person} p "
        f"WHERE {T.res}.run_id = %(run)s AND {T.res}.status = 'matched' "
        f"AND i.run_id = {T.res}.run_id AND i.seq = {T.res}.seq AND p.id = {T.res}.person_id "
        f"AND ({' OR '.join(test for test, _ in differs)})"
    )


def _claimed_twice(runs: str) -> str:
    """Two incoming profiles matched to one profile: both are ambiguous. `runs` (ids, inlined)
    are the parts of one matching, whose incoming profiles compete for the same profiles."""
    return (
        f"UPDATE {T.res} SET status = 'ambiguous', "
        "reason = 'several incoming profiles match this one profile' "
        f"WHERE run_id IN ({runs}) AND status = 'matched' AND person_id IN ("
        f"SELECT person_id FROM (SELECT person_id FROM {T.res} WHERE run_id IN ({runs}) "
        "AND status = 'matched' GROUP BY person_id HAVING COUNT(*) > 1) AS twice)"
    )


def mark_claimed_twice(runs: Sequence[MatchRun]) -> None:
    """The last rule of the cascade, across the runs that matched the parts of one set of
    incoming profiles (`run_cascade(…, claims=False)` on each)."""
    with connection.cursor() as cursor:
        cursor.execute(_claimed_twice(inline_ids(run.pk for run in runs)))


# EXCEPT, not NOT EXISTS: this statement inserts into the table it checks. When few profiles
# were decided (an import into an empty nation), the planner chose a nested loop that re-read
# the results table for every staged row — including the rows this statement had just written —
# and 100,000 not-found rows took a minute. A set difference reads both sides once, up front.
NOT_FOUND = (
    f"INSERT INTO {T.res} (run_id, seq, status, person_id, rule, step, reason) "
    "SELECT %(run)s, u.seq, 'not_found', NULL, '', NULL, '' FROM ("
    f"SELECT seq FROM {T.inc} WHERE run_id = %(run)s "
    f"EXCEPT SELECT seq FROM {T.res} WHERE run_id = %(run)s) u"
)


def _analyze(cursor: Any, *tables: str) -> None:
    """Fresh planner statistics for staging tables filled inside this transaction (PostgreSQL):
    with the stale ones the planner believes they are empty and picks nested scans."""
    if connection.vendor == "postgresql":
        for table in tables:
            cursor.execute(f"ANALYZE {table}")


def run_cascade(run: MatchRun, *, claims: bool = True, atomic: bool = True) -> None:
    """Resolve every staged profile. Statements per run: fixed by the ID fields, not the rows.

    A run that is one part of a bigger matching leaves out the last rule (`claims=False`), which
    needs every part: `mark_claimed_twice`. Parts run side by side outside a transaction
    (`atomic=False`): an ANALYZE holds its table against another ANALYZE until its transaction
    ends, which would run the parts one after the other."""
    params = {"run": run.pk, "nation": run.nation_id}
    by_step: dict[int, list[str]] = {}
    for step, sql in _candidate_statements(run):
        by_step.setdefault(step, []).append(sql)
    with transaction.atomic() if atomic else nullcontext(), connection.cursor() as cursor:
        for step in sorted(by_step):
            for sql in by_step[step]:
                cursor.execute(sql, params)
            cursor.execute(_decide_statement(step), params)
            # Each step looks only at rows no earlier step decided: the planner must know how
            # few those can be. With the results' statistics from before the run it expects
            # every staged row, and for a re-import of 20,000 people into a nation of a
            # million it read the whole nation (24 s) to match the none left undecided.
            _analyze(cursor, T.res)
        _analyze(cursor, T.cand)
        ids = ["nbec_guid", *[f for f in run.id_fields if f != "nbec_guid"]]
        cursor.execute(_conflict_statement(ids), params)
        if claims:
            cursor.execute(_claimed_twice(inline_ids([run.pk])))
        cursor.execute(NOT_FOUND, params)


def outcomes(run: MatchRun, *, status: str | None = None) -> Iterator[Outcome]:
    """Every result of the run (or those in one status), in staging order, with candidates
    for ambiguous ones."""
    candidates: dict[int, list[int]] = {}
    ambiguous_steps = MatchResult.objects.filter(
        run=run, status=MatchStatus.AMBIGUOUS, person_id__isnull=True
    ).values_list("seq", "step")
    wanted = set(ambiguous_steps)
    if wanted:
        rows = MatchCandidate.objects.filter(run=run, step__in={s for _, s in wanted}).values_list(
            "seq", "step", "person_id"
        )
        for seq, step, candidate in rows.iterator(chunk_size=STAGE_BATCH):
            if (seq, step) in wanted and candidate not in candidates.setdefault(seq, []):
                candidates[seq].append(candidate)
    chosen = MatchResult.objects.filter(run=run)
    if status is not None:
        chosen = chosen.filter(status=status)
    refs = MatchIncoming.objects.filter(run=run).values_list("seq", "ref")
    if status is not None:
        refs = refs.filter(seq__in=chosen.values("seq"))
    ref_by_seq = dict(refs.iterator(chunk_size=STAGE_BATCH))
    results = chosen.order_by("seq").values_list("seq", "status", "person_id", "rule", "reason")
    for seq, status, person_id, rule, reason in results.iterator(chunk_size=STAGE_BATCH):
        single = [person_id] if status == MatchStatus.AMBIGUOUS and person_id is not None else []
        found = candidates.get(seq) or single
        yield Outcome(
            ref=ref_by_seq[seq],
            status=status,
            person_id=person_id if status == MatchStatus.MATCHED else None,
            rule=rule if status == MatchStatus.MATCHED else "",
            reason=reason,
            candidates=tuple(sorted(found)),
        )


def match_values(
    *, nation: Nation, rows: Iterable[tuple[int, dict[str, Any]]], id_fields: Sequence[str]
) -> list[Outcome]:
    """Match a batch of (ref, cleaned values) against `nation`, leaving no staging rows behind."""
    with transaction.atomic():
        run = run_create(nation=nation, id_fields=id_fields)
        try:
            stage_values(run, rows)
            run_cascade(run)
            return list(outcomes(run))
        finally:
            run_discard(run)


def match_one(
    *, nation: Nation, values: dict[str, Any], id_fields: Sequence[str] | None = None
) -> Outcome:
    fields = list(id_fields) if id_fields is not None else default_id_fields()
    return match_values(nation=nation, rows=[(0, values)], id_fields=fields)[0]
