"""Reconciling a batch of matched pairs in SQL, for the pairs that need no Python rule.

The rules are those of `initial_sync.reconcile_links` (SPEC §5.3), field by field: a blank side
takes the other's value, the sender's address overwrites, and a conflict follows the share's
option. Per pair in Python that cost about 0.3 ms (reading both profiles, deciding, versioning,
history, events, email index); here a batch is a fixed number of statements whatever its size.

A pair goes back to the Python path (returned to the caller) when a rule needs more than SQL
can say plainly:
- a conflict under `review` (proposals on both sides);
- an email or unique ID it would write that some profile of the target nation holds already
  (or that two writes of the batch claim): the Python path refuses it and notes why;
- a registered address written to a profile holding a state- or county-qualified ID;
- a phone written across nations whose default regions differ (its match key would change);
- an email whose normalised form is not in the source profile's email index.
Otherwise a value crosses the link with what the source profile already derived from it: its
match key (name keys do not depend on the region; phone keys do not when both regions agree)
and its normalised address in the email index. `tests/sharing/test_reconcile_paths_agree.py`
checks that both paths give the same result.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from tagshare.idlists import inline_ids
from tagshare.matching.normalise import KEY_SOURCES, PHONE_KEY_COLUMNS
from tagshare.outbox import services as outbox_services
from tagshare.outbox.hlc import clock
from tagshare.outbox.models import EventKind, OutboxEvent
from tagshare.people import catalog
from tagshare.people.catalog import Kind
from tagshare.people.models import Person, PersonChange, PersonEmail
from tagshare.sharing.models import ShareLink, SyncOption, TagShare

PEOPLE = Person._meta.db_table
EMAILS = PersonEmail._meta.db_table
CHANGES = PersonChange._meta.db_table
EVENTS = OutboxEvent._meta.db_table
LINKS = ShareLink._meta.db_table
PAIRS = "reconcile_pairs"  # temporary tables, one batch at a time
DIFFS = "reconcile_changes"
CLAIMS = "reconcile_claims"

# Directions, per field of a pair.
SAME, TO_RECEIVER, TO_SENDER, CONFLICT = 0, 1, 2, 3
_TEXTUAL = {Kind.TEXT, Kind.LONG_TEXT, Kind.EMAIL, Kind.PHONE, Kind.URL, Kind.CHOICE}
_QUALIFIED_IDS = tuple(spec.name for spec in catalog.FIELDS if spec.unique and spec.unique_with)
_PHONE_SOURCES = frozenset(KEY_SOURCES[column] for column in PHONE_KEY_COLUMNS)


def _indexed_columns() -> frozenset[str]:
    """The profile columns some index holds, besides the nation and updated_at."""
    meta = Person._meta
    names = [name for index in meta.indexes for name in index.fields]
    names += [name for constraint in meta.constraints for name in getattr(constraint, "fields", ())]
    fields = {meta.get_field(name.lstrip("-")) for name in names}
    columns = {field.column for field in fields if isinstance(field, models.Field)}
    return frozenset(column for column in columns if column) - {"nation_id", "updated_at"}


_INDEXED = _indexed_columns()


@dataclass(frozen=True)
class _Field:
    name: str
    at: int  # its direction column: d{at}
    columns: tuple[str, ...]
    kind: Kind

    @property
    def direction(self) -> str:
        return f"d{self.at}"


class _Moved(Exception):
    """A profile of the batch was written by someone else after the batch read it."""


def reconcile_set_based(share: TagShare, link_ids: Sequence[int]) -> list[int]:
    """Reconcile in SQL the pairs of the links given that need no Python rule, in the
    caller's transaction; return the ids of the links left for the Python path
    (`reconcile_links`), in the order given. The caller has claimed the links (turned them
    `synced`, which locks them) in this transaction: the pairs done here stay so."""
    if not link_ids or connection.vendor not in ("sqlite", "postgresql"):
        return list(link_ids)
    if connection.vendor == "postgresql":
        # First without locking the profiles ahead: each write checks that the row it
        # rewrites is still the version the batch read, and the profiles the batch only reads
        # are locked and checked at the end. PostgreSQL writes a row lock into the row, so
        # locking every profile first and then rewriting most of them wrote each twice (the
        # lock was a fifth of reconciling). When a check fails, which takes a write by
        # someone else in the moment between, the batch's statements are undone and run
        # again under locks taken as the batch reads.
        try:
            return _reconcile(share, link_ids, optimistic=True)
        except _Moved:
            pass
    return _reconcile(share, link_ids, optimistic=False)


def _reconcile(share: TagShare, link_ids: Sequence[int], *, optimistic: bool) -> list[int]:
    fields = _fields(share.synced_fields)
    sql = _Sql(share, fields, optimistic=optimistic)
    with transaction.atomic(), connection.cursor() as cursor:
        ids = inline_ids(link_ids)
        if sql.pg:
            # No parallel plans for the batch's statements: the batches run side by side on
            # threads of their own, and a parallel scan's workers take the cores they need.
            # (Costed in parallel, a full scan of every share's links looked cheaper than
            # looking up the batch's 2,000 by key: 53 ms on three processes against 23 ms on
            # one, at 300,000 links.)
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        for statement in sql.pairs(ids):
            cursor.execute(statement)
        cursor.execute(f"SELECT link_id FROM {PAIRS} WHERE route = 0")
        done = {link_id for (link_id,) in cursor.fetchall()}
        if done:
            _write(cursor, sql)
        cursor.execute(f"DROP TABLE {PAIRS}")
        cursor.execute(f"DROP TABLE {DIFFS}")
        cursor.execute(f"DROP TABLE {CLAIMS}")
    return [link_id for link_id in link_ids if link_id not in done]


def _fields(names: Sequence[str]) -> list[_Field]:
    out = []
    for at, name in enumerate(names):
        spec = catalog.BY_NAME[name]
        columns = tuple(catalog.address_columns(name).values()) if spec.is_address else (name,)
        out.append(_Field(name, at, columns, spec.kind))
    return out


def _write(cursor: Any, sql: _Sql) -> None:
    execute = cursor.execute
    sql.find_written(cursor)
    for statement in sql.changes():
        execute(statement)
    # The statements below look DIFFS up by profile, once per profile written.
    execute(f"CREATE INDEX {DIFFS}_person ON {DIFFS} (person_id, field)")
    # A version carried across is observed (as _apply does); a fresh one is newer than every
    # version it replaces and than anything this process has issued.
    execute(f"SELECT MAX(cur_ts), MAX(carried_ts) FROM {DIFFS}")
    current, carried = cursor.fetchone()
    if carried is not None:
        clock.observe(int(carried))
    sql.fresh = clock.next_after(int(current or 0))
    now = timezone.now()
    stamp = connection.ops.adapt_datetimefield_value(now)
    # The profiles first: when the batch runs without locks ahead, their checks fail before
    # anything else is written.
    for direction in (TO_RECEIVER, TO_SENDER):
        if direction == TO_SENDER and not sql.written[TO_SENDER]:
            continue
        for statement in sql.update_side(direction):
            execute(statement, {"now": stamp})
        if sql.optimistic:
            sql.check_side(cursor, direction)
    if sql.optimistic:
        sql.lock_read_only(cursor)
    if sql.pg:
        execute(sql.history_and_events(), {"now": stamp})
    else:
        # The batch's transaction holds SQLite's one write lock (IMMEDIATE), so the history
        # rows after the highest id now are the ones the next statement inserts.
        execute(f"SELECT COALESCE(MAX(id), 0) FROM {CHANGES}")
        (before,) = cursor.fetchone()
        execute(sql.history(), {"now": stamp})
        execute(sql.events(before), {"now": stamp})
    for statement in sql.emails():
        execute(statement)
    transaction.on_commit(outbox_services._wake)


class _Sql:
    """The statements for one share's fields, on this connection's database."""

    def __init__(self, share: TagShare, fields: list[_Field], *, optimistic: bool) -> None:
        self.share = share
        self.fields = fields
        self.pg = connection.vendor == "postgresql"
        # PostgreSQL: profiles not locked ahead, each checked against the version read.
        self.optimistic = optimistic and self.pg
        # Values in DIFFS: parsed once on PostgreSQL, where the history document is JSONB.
        self.json_type = "JSONB" if self.pg else "TEXT"
        self.fresh = 0  # the batch's fresh version, once DIFFS is filled (_write)
        # SQLite has no statistics for the batch's temporary tables and guesses them large;
        # CROSS JOIN keeps the batch's table as the outer loop, each profile looked up by id.
        # PostgreSQL plans from the real sizes.
        self.join = "JOIN" if self.pg else "CROSS JOIN"
        self.written: dict[int, list[_Field]] = {TO_RECEIVER: [], TO_SENDER: []}

    # --- deciding ------------------------------------------------------------------------

    def pairs(self, ids: str) -> list[str]:
        """Create PAIRS (one row per live matched pair, a direction per field) and mark the
        pairs the Python path must take (`route` = 1)."""
        columns = [f"{self._direction(f)} AS {f.direction}" for f in self.fields]
        if self.pg:
            # Each profile's version document parsed once, here, not once per field written.
            columns += [
                "s.field_versions::jsonb AS s_versions",
                "r.field_versions::jsonb AS r_versions",
            ]
        if self.optimistic:
            # The row versions read (the transaction that wrote each): what the checks compare.
            columns += ["s.xmin AS s_xmin", "r.xmin AS r_xmin"]
        temp = "CREATE TEMPORARY TABLE"
        statements = [
            f"{temp} {PAIRS} AS SELECT l.id AS link_id, s.id AS s_id, r.id AS r_id, "
            f"0 AS route{''.join(', ' + column for column in columns)} "
            f"FROM {LINKS} l JOIN {PEOPLE} s ON s.id = l.sender_person_id "
            f"JOIN {PEOPLE} r ON r.id = l.receiver_person_id "
            f"WHERE l.id IN ({ids}){self._locked()}",
        ]
        statements.extend(self._routing())
        # The long form of the writes (one row per profile and field) is filled by changes().
        statements.append(
            f"{temp} {DIFFS} (person_id BIGINT, source_id BIGINT, nation_id BIGINT, "
            f"field VARCHAR(40), old_value {self.json_type}, new_value {self.json_type}, "
            "carried_ts BIGINT, carried_origin BIGINT, cur_ts BIGINT, cur_origin BIGINT)"
        )
        return statements

    def _locked(self) -> str:
        """PostgreSQL, when the batch runs again after a failed check: the pairs table is read
        under a lock of both profiles, so what is decided is what is written, and a local
        write committed meanwhile is read, not overwritten. Rows are locked in
        receiving-profile order, not in the global id order of the drainer and
        `people_for_update`; a deadlock between them fails the batch, which runs again
        (`initial_sync._reconcile_chunk`). SQLite's batch holds the database's write lock."""
        return " ORDER BY r.id FOR UPDATE OF s, r" if self.pg and not self.optimistic else ""

    def check_side(self, cursor: Any, direction: int) -> None:
        """After update_side(direction) without locks ahead: every profile it was to rewrite
        was rewritten (its guard holds only on the version the batch read), or _Moved."""
        written = cursor.rowcount
        target = "r_id" if direction == TO_RECEIVER else "s_id"
        cursor.execute(
            f"SELECT COUNT(DISTINCT {target}) FROM {PAIRS} p WHERE p.route = 0"
            f"{self._only(direction)}"
        )
        if cursor.fetchone()[0] != written:
            raise _Moved

    def lock_read_only(self, cursor: Any) -> None:
        """Lock the sending profiles the batch read and did not rewrite, in id order, and check
        they are still the versions read: until the batch commits, a write to one of them
        waits, and its event then finds the link synced and carries the write across."""
        cursor.execute(
            f"SELECT COUNT(*) FROM (SELECT s.xmin = p.s_xmin AS same FROM {PEOPLE} s "
            f"JOIN {PAIRS} p ON s.id = p.s_id WHERE p.route = 0 AND NOT "
            f"({self._sender_written()}) ORDER BY s.id FOR UPDATE OF s) x WHERE NOT x.same"
        )
        if cursor.fetchone()[0]:
            raise _Moved

    def _sender_written(self) -> str:
        """The condition on a pair of PAIRS (`p`) that the batch writes to its sender."""
        written = " OR ".join(f"p.{f.direction} = {TO_SENDER}" for f in self.written[TO_SENDER])
        return written or "FALSE"

    def _only(self, direction: int) -> str:
        """The pairs of PAIRS (`p`) whose profile on this side the batch rewrites: every
        receiving profile (it got the shared tag), a sending one when something was written
        to it."""
        return "" if direction == TO_RECEIVER else f" AND ({self._sender_written()})"

    def _blank(self, alias: str, f: _Field) -> str:
        if f.kind is Kind.ADDRESS:
            return " AND ".join(f"COALESCE({alias}.{c}, '') = ''" for c in f.columns)
        column = f"{alias}.{f.columns[0]}"
        if f.kind in _TEXTUAL:
            return f"({column} IS NULL OR {column} = '')"
        return f"{column} IS NULL"

    def _direction(self, f: _Field) -> str:
        """values.same / is_blank and reconcile_links' order of rules, in SQL."""
        s_blank, r_blank = self._blank("s", f), self._blank("r", f)
        if f.kind is Kind.ADDRESS:
            equal = " AND ".join(f"COALESCE(s.{c}, '') = COALESCE(r.{c}, '')" for c in f.columns)
            return (
                f"CASE WHEN {equal} THEN {SAME} WHEN NOT ({s_blank}) THEN {TO_RECEIVER} "
                f"ELSE {TO_SENDER} END"
            )
        column = f.columns[0]
        conflict = {
            SyncOption.ACCEPT_ALL: TO_RECEIVER,
            SyncOption.BLANK_ONLY: SAME,
            SyncOption.REVIEW: CONFLICT,
        }[SyncOption(self.share.sync_option)]
        return (
            f"CASE WHEN ({s_blank}) AND ({r_blank}) THEN {SAME} "
            f"WHEN s.{column} = r.{column} THEN {SAME} "
            f"WHEN {r_blank} THEN {TO_RECEIVER} WHEN {s_blank} THEN {TO_SENDER} "
            f"ELSE {conflict} END"
        )

    def _routing(self) -> list[str]:
        """Statements that mark (route = 1) the pairs the Python path must take."""
        share = self.share
        by_name = {f.name: f for f in self.fields}
        route = f"UPDATE {PAIRS} SET route = 1 WHERE route = 0 AND "
        statements: list[str] = []
        if share.sync_option == SyncOption.REVIEW and self.fields:
            conflicts = " OR ".join(f"{f.direction} = {CONFLICT}" for f in self.fields)
            statements.append(route + f"({conflicts})")
        sides = (
            (TO_RECEIVER, "r_id", "s_id", share.receiver_id),
            (TO_SENDER, "s_id", "r_id", share.sender_id),
        )
        # Every email and unique ID the batch would write, with the profile it would go to.
        statements.append(
            f"CREATE TEMPORARY TABLE {CLAIMS} (kind VARCHAR(40), slot VARCHAR(40), "
            "nation_id BIGINT, value VARCHAR(255), target_id BIGINT, link_id BIGINT)"
        )
        for name in catalog.EMAIL_FIELDS:
            if name not in by_name:
                continue
            d = by_name[name].direction
            for direction, target, source, nation in sides:
                # The new address in its normalised form, from the source's email index.
                statements.append(
                    f"INSERT INTO {CLAIMS} SELECT 'email', '{name}', {nation}, a.address, "
                    f"a.target_id, a.link_id FROM (SELECT p.{target} AS target_id, p.link_id, "
                    f"{self._address('p.' + source, name)} AS address FROM {PAIRS} p "
                    f"WHERE p.{d} = {direction}) a WHERE a.address IS NOT NULL"
                )
                statements.append(
                    route + f"{d} = {direction} AND NOT EXISTS (SELECT 1 FROM {EMAILS} e "
                    f"WHERE e.person_id = {PAIRS}.{source} AND e.slot = '{name}')"
                )
        for name in catalog.UNIQUE_IDS:
            if name not in by_name:
                continue
            d = by_name[name].direction
            for direction, target, source, nation in sides:
                statements.append(
                    f"INSERT INTO {CLAIMS} SELECT '{name}', '{name}', {nation}, v.{name}, "
                    f"p.{target}, p.link_id FROM {PAIRS} p {self.join} {PEOPLE} v ON v.id = p.{source} "
                    f"WHERE p.{d} = {direction}"
                )
            # Held by another profile (for a state- or county-qualified ID: in any state).
            statements.append(
                route + f"link_id IN (SELECT c.link_id FROM {CLAIMS} c WHERE c.kind = '{name}' "
                f"AND EXISTS (SELECT 1 FROM {PEOPLE} h WHERE h.nation_id = c.nation_id "
                f"AND h.{name} = c.value AND h.id <> c.target_id))"
            )
        if any(name in by_name for name in catalog.EMAIL_FIELDS):
            # Held by another profile, or by this one in another slot.
            statements.append(
                route + f"link_id IN (SELECT c.link_id FROM {CLAIMS} c WHERE c.kind = 'email' "
                f"AND EXISTS (SELECT 1 FROM {EMAILS} h WHERE h.nation_id = c.nation_id "
                "AND h.address = c.value AND NOT (h.person_id = c.target_id AND h.slot = c.slot)))"
            )
        # Claimed twice in the batch (in one nation): the first claim in the batch's order
        # would take it; the Python path decides that.
        statements.append(
            route + f"link_id IN (SELECT c.link_id FROM {CLAIMS} c JOIN (SELECT kind, nation_id, "
            f"value FROM {CLAIMS} GROUP BY kind, nation_id, value HAVING COUNT(*) > 1) twice "
            "ON twice.kind = c.kind AND twice.nation_id = c.nation_id AND twice.value = c.value)"
        )
        if "registered_address" in by_name:
            d = by_name["registered_address"].direction
            held = " OR ".join(f"t.{name} IS NOT NULL" for name in _QUALIFIED_IDS)
            for direction, target, _source, _nation in sides:
                statements.append(
                    route + f"{d} = {direction} AND EXISTS (SELECT 1 FROM {PEOPLE} t "
                    f"WHERE t.id = {PAIRS}.{target} AND ({held}))"
                )
        if share.sender.default_region != share.receiver.default_region:
            phones = " OR ".join(
                f"{by_name[name].direction} <> {SAME}" for name in _PHONE_SOURCES if name in by_name
            )
            if phones:
                statements.append(route + f"({phones})")
        return statements

    # --- writing -------------------------------------------------------------------------

    def find_written(self, cursor: Any) -> None:
        """Which fields the batch writes to each side: a statement sets only their columns
        (a share syncs 37 fields, 72 columns; a batch writes about ten of them)."""
        checks = [
            f"MAX(CASE WHEN {f.direction} = {direction} THEN 1 ELSE 0 END)"
            for f in self.fields
            for direction in (TO_RECEIVER, TO_SENDER)
        ]
        if not checks:
            return
        cursor.execute(f"SELECT {', '.join(checks)} FROM {PAIRS} WHERE route = 0")
        found = cursor.fetchone()
        for at, f in enumerate(self.fields):
            for offset, direction in enumerate((TO_RECEIVER, TO_SENDER)):
                if found[2 * at + offset]:
                    self.written[direction].append(f)

    def changes(self) -> list[str]:
        """Fill DIFFS: per field, the profiles it is written to, with old and new values as
        JSON and both versions of the field."""
        statements = []
        either = {f.name for fields in self.written.values() for f in fields}
        for f in self.fields:
            if f.name not in either:
                continue
            target = f"CASE p.{f.direction} WHEN {TO_RECEIVER} THEN p.r_id ELSE p.s_id END"
            nation = (
                f"CASE p.{f.direction} WHEN {TO_RECEIVER} THEN {self.share.receiver_id} "
                f"ELSE {self.share.sender_id} END"
            )
            carried = self._version(f, "src", TO_RECEIVER)
            held = self._version(f, "t", TO_SENDER)
            statements.append(
                f"INSERT INTO {DIFFS} (person_id, source_id, nation_id, field, old_value, "
                "new_value, carried_ts, carried_origin, cur_ts, cur_origin) "
                f"SELECT t.id, src.id, {nation}, '{f.name}', {self._json('t', f)}, "
                f"{self._json('src', f)}, {carried(0)}, {carried(1)}, {held(0)}, {held(1)} "
                f"FROM {PAIRS} p {self.join} {PEOPLE} t ON t.id = {target} "
                f"{self.join} {PEOPLE} src ON src.id = CASE p.{f.direction} WHEN {TO_RECEIVER} "
                "THEN p.s_id ELSE p.r_id END "
                f"WHERE p.route = 0 AND p.{f.direction} IN ({TO_RECEIVER}, {TO_SENDER})"
            )
        return statements

    @staticmethod
    def _address(person_id: str, slot: str) -> str:
        """A profile's normalised address in a slot, from the email index. A correlated
        lookup rather than a join: with no statistics for the batch's tables, SQLite would
        build a Bloom filter over the whole email index for a join, every statement."""
        return f"(SELECT x.address FROM {EMAILS} x WHERE x.person_id = {person_id} AND x.slot = '{slot}')"

    def _version(self, f: _Field, alias: str, sender_when: int) -> Callable[[int], str]:
        """A part (0: timestamp, 1: origin) of the field's [ts, origin] version in the profile
        `alias` of changes(), which is the sender when the field's direction is `sender_when`."""
        if self.pg:
            document = (
                f"(CASE p.{f.direction} WHEN {sender_when} THEN p.s_versions ELSE p.r_versions END)"
            )
            return lambda at: f"(({document} -> '{f.name}' ->> {at})::bigint)"
        return lambda at: f"json_extract({alias}.field_versions, '$.{f.name}[{at}]')"

    def _json(self, alias: str, f: _Field) -> str:
        """values.to_json of the field: JSONB on PostgreSQL, JSON text on SQLite."""
        if f.kind is Kind.ADDRESS:
            parts = catalog.address_columns(f.name)
            pairs = ", ".join(
                f"'{part}', COALESCE({alias}.{column}, '')" for part, column in parts.items()
            )
            return f"jsonb_build_object({pairs})" if self.pg else f"json_object({pairs})"
        column = f"{alias}.{f.columns[0]}"
        if self.pg:
            return f"COALESCE(to_jsonb({column}), 'null'::jsonb)"
        if f.kind is Kind.BOOL:
            return (
                f"CASE WHEN {column} IS NULL THEN 'null' WHEN {column} THEN 'true' ELSE 'false' END"
            )
        return f"json_quote({column})"

    def _version_of(self, alias: str) -> str:
        """The [ts, origin] version a row of DIFFS (`alias`) is written with (_apply's rule):
        the carried one when it is newer than the field's current one, else the batch's fresh
        one of the target nation. An expression where it is used, not a column set by an
        UPDATE of DIFFS: that rewrote every row of the batch's writes (3.4 s summed at 1M)."""
        a = f"{alias}."
        newer = (
            f"{a}carried_ts IS NOT NULL AND ({a}cur_ts IS NULL OR {a}carried_ts > {a}cur_ts "
            f"OR ({a}carried_ts = {a}cur_ts AND {a}carried_origin > {a}cur_origin))"
        )
        array = "jsonb_build_array" if self.pg else "json_array"
        return (
            f"{array}(CASE WHEN {newer} THEN {a}carried_ts ELSE {int(self.fresh)} END, "
            f"CASE WHEN {newer} THEN {a}carried_origin ELSE {a}nation_id END)"
        )

    def _document(self) -> str:
        """A profile's history document from its rows of DIFFS (`d`, an aggregate)."""
        if self.pg:
            return (
                "jsonb_object_agg(d.field, jsonb_build_object('old', d.old_value, "
                f"'new', d.new_value, 'version', {self._version_of('d')}))::text"
            )
        return (
            "json_group_object(d.field, json_object('old', json(d.old_value), "
            f"'new', json(d.new_value), 'version', {self._version_of('d')}))"
        )

    def history(self) -> str:
        return (
            f"INSERT INTO {CHANGES} (nation_id, person_id, kind, source, actor_id, share_id, "
            f"changes, created_at) SELECT nation_id, person_id, 'share', 'share', NULL, "
            f"{self.share.pk}, {self._document()}, %(now)s FROM {DIFFS} d "
            "GROUP BY d.nation_id, d.person_id"
        )

    def events(self, after: int) -> str:
        """SQLite: person.updated for each history row just written (those with an id above
        `after`), as people_bulk_update emits. (By id range: finding them again through the
        history's person index, and matching their time, took 2.9 s against 1.3 s at 1M.)"""
        fields = (
            f"(SELECT json_group_array(field) FROM (SELECT d.field FROM {DIFFS} d "
            "WHERE d.person_id = c.person_id ORDER BY d.field))"
        )
        payload = (
            f"json_object('change_id', c.id, 'fields', json({fields}), 'source', 'share', "
            f"'share_id', {self.share.pk})"
        )
        return (
            f"INSERT INTO {EVENTS} (nation_id, person_id, kind, payload, created_at, attempts, "
            f"last_error) SELECT c.nation_id, c.person_id, '{EventKind.PERSON_UPDATED.value}', "
            f"{payload}, %(now)s, 0, '' FROM {CHANGES} c WHERE c.id > {int(after)} ORDER BY c.id"
        )

    def history_and_events(self) -> str:
        """PostgreSQL: history() and events() as one statement. Each profile's writes are
        grouped once, into its history document and its sorted field list together; the
        history rows the insert returns are joined back to that group for their events (not
        found again through the history's person index, nor each event's fields looked up in
        the batch's writes one profile at a time). SQLite has no data-modifying WITH: there
        events() reads the inserted rows by id."""
        return (
            f"WITH g AS MATERIALIZED (SELECT d.nation_id, d.person_id, {self._document()} AS doc, "
            f"jsonb_agg(d.field ORDER BY d.field) AS fields FROM {DIFFS} d "
            "GROUP BY d.nation_id, d.person_id), "
            f"c AS (INSERT INTO {CHANGES} (nation_id, person_id, kind, source, actor_id, share_id, "
            f"changes, created_at) SELECT nation_id, person_id, 'share', 'share', NULL, "
            f"{self.share.pk}, doc, %(now)s FROM g RETURNING id, person_id) "
            f"INSERT INTO {EVENTS} (nation_id, person_id, kind, payload, created_at, attempts, "
            f"last_error) SELECT g.nation_id, c.person_id, '{EventKind.PERSON_UPDATED.value}', "
            f"jsonb_build_object('change_id', c.id, 'fields', g.fields, 'source', 'share', "
            f"'share_id', {self.share.pk})::text, %(now)s, 0, '' "
            "FROM c JOIN g ON g.person_id = c.person_id ORDER BY c.id"
        )

    def emails(self) -> list[str]:
        """The email index follows the slots written: the source's normalised address."""
        statements = []
        either = {f.name for fields in self.written.values() for f in fields}
        for name in catalog.EMAIL_FIELDS:
            if name not in either:
                continue
            # An address that only changes case keeps its index row (two index writes less).
            current = self._address("d.person_id", name)
            new = self._address("d.source_id", name)
            statements.append(
                f"DELETE FROM {EMAILS} WHERE slot = '{name}' AND person_id IN "
                f"(SELECT d.person_id FROM {DIFFS} d WHERE d.field = '{name}' "
                f"AND {new} <> {current})"
            )
            statements.append(
                f"INSERT INTO {EMAILS} (nation_id, person_id, slot, address) "
                f"SELECT a.nation_id, a.person_id, '{name}', a.address FROM (SELECT d.nation_id, "
                f"d.person_id, {new} AS address FROM {DIFFS} d WHERE d.field = '{name}' "
                f"AND {current} IS NULL) a WHERE a.address IS NOT NULL"
            )
        return statements

    def update_side(self, direction: int) -> list[str]:
        """Rewrite the profiles of one side: the written fields' columns, match keys, support
        status, versions and updated_at. Every receiving profile is stamped (it got the shared
        tag); a sending profile only when something was written to it.

        On SQLite, a column in an UPDATE's SET has its index entries deleted and inserted again
        on every row the statement touches, changed or not — for the name-key index, whose
        entries lie in name order, a page dirtied (and written at commit) per profile. So the
        indexed columns (match keys, unique IDs) are set by a second statement, only on the
        profiles where one of them changes. (PostgreSQL writes a new row version, with every
        index entry, on any update: one statement is cheaper there.)"""
        target, source = ("r_id", "s_id") if direction == TO_RECEIVER else ("s_id", "r_id")
        plain: list[str] = []
        indexed: list[str] = []
        changed: list[str] = []  # conditions: an indexed column takes another value
        for f in self.written[direction]:
            taken = f"p.{f.direction} = {direction}"
            columns = list(f.columns)
            columns += [key for key, key_source in KEY_SOURCES.items() if key_source == f.name]
            for column in columns:
                value = f"{column} = CASE WHEN {taken} THEN src.{column} ELSE t.{column} END"
                if column in _INDEXED and not self.pg:
                    indexed.append(value)
                    changed.append(f"({taken} AND src.{column} IS NOT t.{column})")
                else:
                    plain.append(value)
            if f.name == "support_level":
                true, false = ("TRUE", "FALSE") if self.pg else ("1", "0")
                plain.append(
                    f"is_supporter = CASE WHEN {taken} AND src.support_level IN (1, 2) THEN "
                    f"{true} WHEN {taken} AND src.support_level IN (4, 5) THEN {false} "
                    "ELSE t.is_supporter END"
                )
        if self.pg:
            patch = (
                f"(SELECT jsonb_object_agg(d.field, {self._version_of('d')}) "
                f"FROM {DIFFS} d WHERE d.person_id = t.id)"
            )
            held = "p.r_versions" if direction == TO_RECEIVER else "p.s_versions"
            versions = f"COALESCE(({held} || {patch})::text, t.field_versions)"
        else:
            patch = (
                f"(SELECT json_group_object(d.field, {self._version_of('d')}) "
                f"FROM {DIFFS} d WHERE d.person_id = t.id)"
            )
            versions = f"COALESCE(json_patch(t.field_versions, {patch}), t.field_versions)"
        plain.append(f"field_versions = {versions}")
        plain.append("updated_at = %(now)s")
        guard = ""
        if self.optimistic:
            # Only the version the batch read. The source is checked on the receiving side (on
            # the sending side it is a receiving profile this batch has just rewritten).
            guard = f" AND t.xmin = p.{target[0]}_xmin"
            if direction == TO_RECEIVER:
                guard += " AND src.xmin = p.s_xmin"
        pairs = (
            f"FROM {PAIRS} p JOIN {PEOPLE} src ON src.id = p.{source} "
            f"WHERE t.id = p.{target} AND p.route = 0{self._only(direction)}{guard}"
        )
        statements = [f"UPDATE {PEOPLE} AS t SET {', '.join(plain)} {pairs}"]
        if indexed:
            statements.append(
                f"UPDATE {PEOPLE} AS t SET {', '.join(indexed)} {pairs} AND ({' OR '.join(changed)})"
            )
        return statements
