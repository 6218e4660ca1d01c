"""Creating many people in one call (imports, seeding, benchmarks): person_create's rules, set-based.

Each row gets exactly what `services.person_create` would give it — cleaned values, a version per
written field, one history row, the email index, an outbox event, the supporter status — but the
work is done per batch: one identity query per key family, then one bulk write per table (COPY on
PostgreSQL, executemany on SQLite). Rows are streamed, so memory does not grow with their count.

The call is one transaction: when any row is invalid, nothing is written and the error lists
the bad rows by number (up to MAX_REPORTED_ERRORS problems). Figures and what limits them:
docs/benchmarks.md.
"""

from __future__ import annotations

import itertools
import json
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, cast

from django.db import IntegrityError, OperationalError, connection, models, transaction
from django.utils import timezone

from tagshare import jsontext
from tagshare.dbcopy import (
    Prepared,
    QueuedWriteFailed,
    RowStore,
    Table,
    bulk_page_cache,
    references_checked_now,
    store_for_connection,
)
from tagshare.errors import Conflict, ValidationFailed
from tagshare.matching.normalise import match_keys
from tagshare.nations.actors import Actor, check_acts_in
from tagshare.nations.models import Nation
from tagshare.outbox import services as outbox_services
from tagshare.outbox.hlc import clock
from tagshare.outbox.models import EventKind
from tagshare.people import catalog, values
from tagshare.people.catalog import FieldSpec, Kind, Sync
from tagshare.people.models import SHARED_VERSION, Person, PersonChange, PersonEmail
from tagshare.people.services import (
    KEY_SOURCE_FIELDS,
    STATUS_FIELDS,
    supporter_status_for_level,
)

DEFAULT_BATCH_SIZE = 5_000
# Past this many problems the report stops growing (and the call stops reading rows).
MAX_REPORTED_ERRORS = 1_000
# PersonEmail.address is shorter than an email field may be; refuse rather than fail in the DB.
_MAX_INDEXED_EMAIL = PersonEmail._meta.get_field("address").max_length or 254

_STATUS_SPECS = {
    name: FieldSpec(name, Kind.BOOL, "status", Sync.NEVER, name.replace("_", " ").capitalize())
    for name in STATUS_FIELDS
}
_UNIQUE_SPECS: tuple[FieldSpec, ...] = tuple(catalog.BY_NAME[name] for name in catalog.UNIQUE_IDS)


# A row may carry, under this key, the versions its values were written with elsewhere
# (field -> outbox.hlc.Version): a share's initial sync copies profiles with their versions.
VERSIONS = "_versions"
# ... and under this one, the match keys (key column -> key) the caller already computed from
# these values in the nation's region: an import computes them to stage its rows, and writing
# the person need not compute them again.
MATCH_KEYS = "_match_keys"


def people_bulk_create(
    *,
    nation: Nation,
    actor: Actor,
    rows: Iterable[Mapping[str, Any]] | Iterable[tuple[int, Mapping[str, Any]]],
    batch_size: int = DEFAULT_BATCH_SIZE,
    first_row: int = 1,
    on_created: Callable[[list[tuple[int, int]]], None] | None = None,
    precleaned: bool = False,
    vouched: bool = False,
    numbered: bool = False,
) -> int:
    """Create one profile per row; return how many. `first_row` is the number errors give row 1;
    with `numbered`, each row comes as (its number, the row) instead, numbers increasing (an
    import's rows keep their line of the file, whatever rows before them went elsewhere).

    A row is a mapping of catalog field -> value (as for person_create), optionally with
    `is_supporter` / `is_prospect`. Raises ValidationFailed (nothing written) with errors keyed
    "row N: field" when any row is invalid or clashes with a stored profile or an earlier row.
    `on_created` is called after each batch with (row number, new person id) pairs.
    `precleaned` skips cleaning for rows that already went through values.clean_changes.
    `vouched` skips looking for clashes with stored profiles: the caller has checked that no
    two rows share an email or unique ID and that the nation held no profile when its
    transaction began (an import into an empty nation). The database's unique indexes still
    stand behind that (a clash is a Conflict); on PostgreSQL the batches then go one after
    another without waiting for each other.
    """
    check_acts_in(actor, nation)
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    store = store_for_connection()
    try:
        numbered_rows = cast(
            "Iterable[tuple[int, Mapping[str, Any]]]",
            rows if numbered else enumerate(rows, start=first_row),
        )
        created = _create_batches(
            store, nation, actor, numbered_rows, batch_size, on_created, precleaned, vouched
        )
    except QueuedWriteFailed as exc:  # PostgreSQL: the batch's COPY, sent in the background
        if isinstance(exc.__cause__, IntegrityError):
            raise _clashed(exc.__cause__) from None
        raise
    return created


def _clashed(exc: IntegrityError) -> Conflict:
    # Only a concurrent writer can get here: the checks saw every earlier clash.
    return Conflict(f"Another write clashed with these people; try again. ({exc})")


def _create_batches(
    store: RowStore,
    nation: Nation,
    actor: Actor,
    rows: Iterable[tuple[int, Mapping[str, Any]]],
    batch_size: int,
    on_created: Callable[[list[tuple[int, int]]], None] | None,
    precleaned: bool,
    vouched: bool,
) -> int:
    report = _Report()
    written = _WrittenRows()
    statistics = _PlannerStatistics(nation)
    created = 0
    with (
        transaction.atomic(),
        store.in_background(),
        references_checked_now(Person, PersonEmail, PersonChange),
        bulk_page_cache(),
    ):
        # On PostgreSQL a second thread sends each batch while this one reads, cleans and
        # builds the next (dbcopy `in_background`); the identity check waits for the batch
        # before, since it must see its rows. Ids are taken a batch ahead for that reason.
        batches = _batches(rows, batch_size)
        batch = next(batches, None)
        ids = _IdPool(store)
        if batch is not None:
            ids.top_up(len(batch))
        while batch is not None:
            following = next(batches, None)
            candidates = [
                row for number, raw in batch if (row := _clean_row(number, raw, report, precleaned))
            ]
            # Built and formatted before the check, which waits for the batch before: when
            # that batch is stored this one can go at once.
            built = _build_batch(store, nation, actor, candidates, ids)
            accepted = _check_identities(nation, candidates, report, written, vouched)
            if report.full:
                break
            if len(accepted) != len(candidates):
                # Rows after a bad one are still written (and rolled back at the end), so that
                # their clashes with each other are found and the report is complete.
                built = _build_batch(store, nation, actor, accepted, ids)
            ids.consume(len(accepted))
            if following is not None:
                ids.top_up(len(following), ahead=True)
            if accepted:
                _write_batch(store, built)
                numbers = [row.number for row in accepted]
                written.add(built.person_ids, numbers)
                if on_created is not None:
                    on_created(list(zip(numbers, built.person_ids, strict=True)))
                created += len(accepted)
                if not vouched:  # vouched rows make no lookups for the statistics to steer
                    statistics.after_batch(created)
            batch = following
        if vouched:  # but what runs after this call may look the nation up
            statistics.after_batch(created)
        if report.errors:
            raise report.failure()
    return created


# --- reading and cleaning rows ---------------------------------------------------------------


@dataclass(slots=True)
class _Row:
    number: int
    written: dict[str, Any]  # catalog field -> cleaned non-blank value
    emails: dict[str, str]  # slot -> normalised address
    unique_keys: dict[str, tuple[Any, ...]]  # unique ID -> (value, *qualifiers)
    is_supporter: bool | None
    is_prospect: bool
    versions: dict[str, list[int]] = field(default_factory=dict)  # carried: field -> [ts, origin]
    keys: dict[str, str] | None = None  # match keys computed by the caller (MATCH_KEYS)


@dataclass
class _Report:
    errors: dict[str, str] = field(default_factory=dict)
    bad_rows: set[int] = field(default_factory=set)

    @property
    def full(self) -> bool:
        return len(self.errors) >= MAX_REPORTED_ERRORS

    def add(self, number: int, name: str | None, message: str) -> None:
        if self.full:
            return
        self.bad_rows.add(number)
        self.errors[f"row {number}: {name}" if name else f"row {number}"] = message

    def failure(self) -> ValidationFailed:
        rows = len(self.bad_rows)
        first = "; ".join(
            f"{key}: {message}" for key, message in itertools.islice(self.errors.items(), 3)
        )
        more = "; …" if len(self.errors) > 3 else ""
        cut = f" (only the first {MAX_REPORTED_ERRORS} problems are listed)" if self.full else ""
        what = "1 row is" if rows == 1 else f"{rows} rows are"
        return ValidationFailed(
            f"{what} not valid, so no one was created{cut}: {first}{more}", errors=self.errors
        )


def _batches(rows: Iterable[tuple[int, Any]], size: int) -> Iterator[list[tuple[int, Any]]]:
    numbered = iter(rows)
    while batch := list(itertools.islice(numbered, size)):
        yield batch


def _clean_row(number: int, raw: Any, report: _Report, precleaned: bool = False) -> _Row | None:
    if not isinstance(raw, Mapping):
        report.add(number, None, "A row is an object of field names and values.")
        return None
    fields = dict(raw)
    status_raw = {name: fields.pop(name) for name in STATUS_FIELDS if name in fields}
    carried = fields.pop(VERSIONS, None) or {}
    keys = fields.pop(MATCH_KEYS, None)
    for version in carried.values():
        clock.observe(version.ts)  # later local writes must be newer than what was copied in
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    try:
        cleaned = fields if precleaned else values.clean_changes(fields)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    status: dict[str, bool | None] = {}
    for name, value in status_raw.items():
        spec = _STATUS_SPECS[name]
        try:
            status[name] = values.clean_value(spec, value)
        except ValueError as exc:
            errors[name] = f"{spec.label}: {exc}"

    # A fresh profile holds only blanks, so exactly the non-blank values are written.
    written = {name: value for name, value in cleaned.items() if not values.is_blank(value)}
    emails: dict[str, str] = {}
    for slot in catalog.EMAIL_FIELDS:
        if slot not in written:
            continue
        address = values.normalise_email(written[slot])
        label = catalog.BY_NAME[slot].label
        prior = next((other for other, seen in emails.items() if seen == address), None)
        if prior is not None:
            errors[slot] = f"{label}: {written[slot]} is already this profile's {prior}."
        elif len(address) > _MAX_INDEXED_EMAIL:
            errors[slot] = f"{label}: is longer than {_MAX_INDEXED_EMAIL} characters"
        else:
            emails[slot] = address
    if errors:
        for name, message in errors.items():
            report.add(number, name, message)
        return None

    unique_keys: dict[str, tuple[Any, ...]] = {}
    for name in catalog.UNIQUE_ID_SET.intersection(written):
        spec = catalog.BY_NAME[name]
        unique_keys[name] = (written[name], *(_column_value(written, c) for c in spec.unique_with))
    return _Row(
        number=number,
        written=written,
        emails=emails,
        unique_keys=unique_keys,
        is_supporter=status.get("is_supporter"),
        is_prospect=bool(status.get("is_prospect")),
        versions={name: carried[name].as_json() for name in written if name in carried}
        if carried
        else {},
        keys=keys,
    )


_ADDRESS_COLUMNS = catalog.all_address_columns()


def _column_value(written: Mapping[str, Any], column: str) -> Any:
    """What a row stores in `column` (e.g. registered_state), blank as the model stores it."""
    if column in _ADDRESS_COLUMNS:
        slot, part = _ADDRESS_COLUMNS[column]
        address = written.get(slot)
        return address[part] if address else ""
    return written.get(column)


# --- identity rules (SPEC §2.2), one query per key family per batch -------------------------


def _check_identities(
    nation: Nation, rows: list[_Row], report: _Report, written: _WrittenRows, vouched: bool
) -> list[_Row]:
    """Drop (and report) rows whose email or unique ID is in an earlier row or a stored profile.

    Earlier batches of this call are already written in this transaction, so "stored" covers
    them as well as profiles from before the call. `vouched` (see people_bulk_create): the
    stored profiles are not asked, so the batch before need not be stored yet.
    """
    bad: set[int] = set()

    seen_emails: dict[str, tuple[_Row, str]] = {}
    for row in rows:
        for slot, address in row.emails.items():
            if address in seen_emails:
                earlier = seen_emails[address][0]
                report.add(row.number, slot, _email_clash(slot, address, f"row {earlier.number}"))
                bad.add(row.number)
            else:
                seen_emails[address] = (row, slot)
    clashes: list[tuple[_Row, str, int, Callable[[str], str]]] = []  # row, field, holder, message
    if seen_emails and not vouched:
        keys = [(address,) for address in seen_emails]
        for (address,), person_id in _holders(nation, PersonEmail, ("address",), "person_id", keys):
            row, slot = seen_emails[address]
            clashes.append((row, slot, person_id, partial(_email_clash, slot, address)))

    for spec in _UNIQUE_SPECS:
        seen_keys: dict[tuple[Any, ...], _Row] = {}
        for row in rows:
            key = row.unique_keys.get(spec.name)
            if key is None:
                continue
            if key in seen_keys:
                report.add(
                    row.number, spec.name, _id_clash(spec, key, f"row {seen_keys[key].number}")
                )
                bad.add(row.number)
            else:
                seen_keys[key] = row
        if not seen_keys or vouched:
            continue
        columns = (spec.name, *spec.unique_with)
        for key, person_id in _holders(nation, Person, columns, "id", list(seen_keys)):
            clashes.append((seen_keys[key], spec.name, person_id, partial(_id_clash, spec, key)))

    if clashes:
        holders = _describe_holders(nation, {person_id for _, _, person_id, _ in clashes}, written)
        for row, name, person_id, describe in clashes:
            report.add(row.number, name, describe(holders[person_id]))
            bad.add(row.number)
    return [row for row in rows if row.number not in bad]


def _holders(
    nation: Nation,
    model: type[models.Model],
    columns: tuple[str, ...],
    holder: str,
    keys: list[tuple[Any, ...]],
) -> list[tuple[tuple[Any, ...], int]]:
    """(key, holder id) for each key (values of `columns`) already stored in this nation.

    Every key is looked up through its unique index, whatever the planner believes: the tables
    grow inside this transaction, so their statistics say "small" and, left to itself,
    PostgreSQL would scan the whole nation for every batch (quadratic in the row count).
    """
    table = model._meta.db_table
    if connection.vendor == "postgresql":
        quote = connection.ops.quote_name
        names = [f"k{i}" for i in range(len(columns))]
        arrays = ", ".join(["%s::text[]"] * len(columns))
        match = " AND ".join(f"{quote(c)} = k.{n}" for c, n in zip(columns, names, strict=True))
        # LIMIT 1 keeps the subquery from being flattened into a join, so each key is one
        # index probe (a nested loop) rather than a hash join over a scan of the table.
        sql = (
            f"SELECT {', '.join(f'k.{n}' for n in names)}, h.holder"
            f" FROM unnest({arrays}) AS k({', '.join(names)})"
            f" CROSS JOIN LATERAL (SELECT {quote(holder)} AS holder FROM {quote(table)}"
            f" WHERE nation_id = %s AND {match} LIMIT 1) AS h"
        )
        with connection.cursor() as cursor:
            cursor.execute(
                sql, [*([str(k[i]) for k in keys] for i in range(len(columns))), nation.pk]
            )
            return [(tuple(found[:-1]), found[-1]) for found in cursor.fetchall()]
    # SQLite: the first key column matched against one JSON array parameter, so the statement
    # text is the same for every batch. (An IN list of N placeholders is a new statement per
    # batch size, and the driver caches up to 128 of them, megabytes each.)
    wanted = set(keys)
    quote = connection.ops.quote_name
    sql = (
        f"SELECT {', '.join(map(quote, (*columns, holder)))} FROM {quote(table)}"
        f" WHERE nation_id = %s AND {quote(columns[0])} IN (SELECT value FROM json_each(%s))"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [nation.pk, json.dumps(sorted({str(key[0]) for key in keys}))])
        return [
            (key, found[-1]) for found in cursor.fetchall() if (key := tuple(found[:-1])) in wanted
        ]


class _PlannerStatistics:
    """Keeps PostgreSQL's statistics in step with a nation that grows inside this call.

    Rows inserted by an open transaction are invisible to autovacuum, so a nation that grows
    from nothing inside this call still looks empty to the planner, which then stops telling one
    index from another (a lookup may walk every profile of the nation, per batch). ANALYZE does
    see this transaction's rows. Whenever the rows written have doubled, each table whose
    planner estimate for the nation lags far behind them is analyzed: O(log n) runs at most,
    none when the statistics already know a big nation.
    """

    FIRST_AT = 10_000  # below this, even a bad plan reads little
    TABLES = (Person._meta.db_table, PersonEmail._meta.db_table)

    def __init__(self, nation: Nation) -> None:
        self.nation = nation
        self.next_at = self.FIRST_AT if connection.vendor == "postgresql" else None

    def after_batch(self, written: int) -> None:
        if self.next_at is None or written < self.next_at:
            return
        self.next_at = written * 2
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            stale = [table for table in self.TABLES if self._estimate(cursor, table) < written // 2]
        if not stale:
            return
        # Only the column the lookups filter on: the row sample is the same, the work less.
        targets = ", ".join(f"{quote(table)} (nation_id)" for table in stale)
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                # ANALYZE keeps its lock to the end of the transaction: when another bulk
                # create holds it, go on with older statistics rather than wait for it.
                cursor.execute("SELECT current_setting('lock_timeout')")
                (previous,) = cursor.fetchone()
                cursor.execute("SELECT set_config('lock_timeout', '200ms', true)")
                cursor.execute(f"ANALYZE {targets}")
                cursor.execute("SELECT set_config('lock_timeout', %s, true)", [previous])
        except OperationalError:
            pass

    def _estimate(self, cursor: Any, table: str) -> float:
        """How many rows of this nation the planner believes `table` holds."""
        cursor.execute(
            f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {connection.ops.quote_name(table)}"
            " WHERE nation_id = %s",
            [self.nation.pk],
        )
        (plan,) = cursor.fetchone()
        if isinstance(plan, str):
            plan = json.loads(plan)
        return float(plan[0]["Plan"]["Plan Rows"])


def _email_clash(slot: str, address: str, holder: str) -> str:
    label = catalog.BY_NAME[slot].label
    return (
        f"{label}: {address} is already in {holder}; an email can be in only one profile of a "
        "nation. Merge the two profiles or use another email."
    )


def _id_clash(spec: FieldSpec, key: tuple[Any, ...], holder: str) -> str:
    scope = ""
    if spec.unique_with:
        scope = " in " + ", ".join(
            f"{c} {v!r}" for c, v in zip(spec.unique_with, key[1:], strict=True)
        )
    return (
        f"{spec.label} {key[0]!r}{scope} is already in {holder}; unique IDs are unique within a "
        "nation."
    )


class _WrittenRows:
    """Which row of this call became which person, in memory that grows per batch, not per row.

    Ids are allocated in row order, so a batch whose ids and row numbers are both contiguous is
    kept as two ranges; only batches with gaps (a bad row, a concurrent writer) keep arrays.
    """

    def __init__(self) -> None:
        self._batches: list[tuple[Sequence[int], Sequence[int]]] = []

    def add(self, ids: list[int], numbers: list[int]) -> None:
        self._batches.append((_compact(ids), _compact(numbers)))

    def row_of(self, person_id: int) -> int | None:
        for ids, numbers in self._batches:
            if ids[0] <= person_id <= ids[-1] and person_id in ids:
                return numbers[ids.index(person_id)]
        return None


def _describe_holders(
    nation: Nation, person_ids: set[int], written: _WrittenRows
) -> dict[int, str]:
    """ "row 12" for a profile made earlier in this call, else its name and id (errors only)."""
    described: dict[int, str] = {}
    stored = person_ids.copy()
    for person_id in person_ids:
        number = written.row_of(person_id)
        if number is not None:
            described[person_id] = f"row {number}"
            stored.discard(person_id)
    if stored:
        for person_id, first, last, email1 in Person.objects.filter(
            nation=nation, pk__in=stored
        ).values_list("id", "first_name", "last_name", "email1"):
            name = f"{first} {last}".strip() or email1 or f"Person {person_id}"
            described[person_id] = f"{name} (person {person_id})"
    return described


def _compact(numbers: list[int]) -> Sequence[int]:
    # Both lists are strictly increasing, so equal span and length means no gaps.
    if numbers[-1] - numbers[0] + 1 == len(numbers):
        return range(numbers[0], numbers[-1] + 1)
    return array("q", numbers)


# --- building and writing rows ---------------------------------------------------------------


_PERSON = Table.of(Person, with_id=True)
_EMAIL = Table.of(PersonEmail, with_id=False)
_CHANGE = Table.of(PersonChange, with_id=True)

_PERSON_DEFAULTS: list[Any] = [f.get_default() for f in Person._meta.concrete_fields]
_PERSON_INDEX = {column: i for i, column in enumerate(_PERSON.columns)}
# Catalog field -> [(address part or None, column index)].
_FIELD_SLOTS: dict[str, list[tuple[str | None, int]]] = {
    spec.name: (
        [
            (part, _PERSON_INDEX[column])
            for part, column in catalog.address_columns(spec.name).items()
        ]
        if spec.is_address
        else [(None, _PERSON_INDEX[spec.name])]
    )
    for spec in catalog.FIELDS
}


class _IdPool:
    """Person and history ids taken from the database ahead of the rows that will use them.

    On SQLite an id taken is only reserved for this store (no sequence hands it out): nothing
    else may insert people or history in this transaction while the pool holds ids, so
    `on_created` callbacks must not create people (they tag them).
    """

    def __init__(self, store: RowStore) -> None:
        self.store = store
        self.people: list[int] = []
        self.changes: list[int] = []

    AHEAD = 4  # batches' worth taken at once: taking ids waits for the rows queued before

    def top_up(self, count: int, *, ahead: bool = False) -> None:
        """Hold ids for `count` rows; `ahead` (more batches follow): for AHEAD batches."""
        if count > len(self.people):
            wanted = count * (self.AHEAD if ahead else 1) - len(self.people)
            self.people += self.store.allocate_ids(Person, wanted)
            self.changes += self.store.allocate_ids(PersonChange, wanted)

    def consume(self, count: int) -> None:
        del self.people[:count], self.changes[:count]


@dataclass(slots=True)
class _Built:
    """A batch's rows for each table, prepared for the store before they are written."""

    person_ids: list[int]
    people: Prepared
    emails: Prepared
    changes: Prepared
    events: Prepared


def _build_batch(
    store: RowStore, nation: Nation, actor: Actor, rows: list[_Row], ids: _IdPool
) -> _Built:
    """The table rows for `rows`, with the next ids of the pool (not consumed here)."""
    person_ids = ids.people[: len(rows)]
    change_ids = ids.changes[: len(rows)]
    now = store.adapt_datetime(timezone.now())
    source, user_id, share_id = actor.source, actor.user_id, actor.share_id
    region = nation.default_region
    people: list[list[Any]] = []
    emails: list[tuple[Any, ...]] = []
    changes: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    dumps = jsontext.dumps
    nation_id = nation.pk
    source_json, share_json = dumps(source), dumps(share_id)
    created_kind = EventKind.PERSON_CREATED.value
    shapes: list[tuple[int, ...]] = []  # per person row, the columns it may set (SQLite)
    shape_of: dict[tuple[tuple[str, ...], tuple[str, ...]], tuple[int, ...]] = {}
    for row, person_id, change_id in zip(rows, person_ids, change_ids, strict=True):
        ts = clock.now()
        version = [ts, nation_id]
        version_json = f"[{ts}, {nation_id}]"
        person = _PERSON_DEFAULTS.copy()
        # A creation's compact history (PersonChange.entries): new values, one shared version.
        history: dict[str, Any] = {SHARED_VERSION: version}
        carried = row.versions
        for name, value in row.written.items():
            for part, index in _FIELD_SLOTS[name]:
                person[index] = value if part is None else value[part]
            entry = {"new": values.to_json(value)}
            if name in carried:
                entry["version"] = carried[name]
            history[name] = entry
        keys = row.keys
        if keys is None and row.written.keys() & KEY_SOURCE_FIELDS:
            sources = {name: row.written.get(name) for name in KEY_SOURCE_FIELDS}
            keys = match_keys(sources, region)
        if keys:
            for column, key in keys.items():
                person[_PERSON_INDEX[column]] = key
        is_supporter = False
        if "support_level" in row.written:
            is_supporter = bool(supporter_status_for_level(row.written["support_level"]))
        if row.is_supporter is not None:
            is_supporter = row.is_supporter
        person[_P_ID] = person_id
        person[_P_NATION] = nation_id
        person[_P_SUPPORTER] = is_supporter
        person[_P_PROSPECT] = row.is_prospect
        # Field names are catalog identifiers, so these two documents are built as text.
        if carried:  # a share's copy: each value keeps the version it was written with
            person[_P_VERSIONS] = dumps({name: carried.get(name, version) for name in row.written})
        else:
            person[_P_VERSIONS] = (
                "{" + ", ".join(f'"{name}": {version_json}' for name in row.written) + "}"
            )
        person[_P_CREATED] = person[_P_UPDATED] = now
        people.append(person)
        touched = (tuple(row.written), tuple(keys) if keys else ())
        shape = shape_of.get(touched)
        if shape is None:
            shape = shape_of[touched] = _shape(*touched)
        shapes.append(shape)
        for slot, address in row.emails.items():
            emails.append((nation_id, person_id, slot, address))
        changes.append(
            (
                change_id,
                nation_id,
                person_id,
                "create",
                source,
                user_id,
                share_id,
                dumps(history),
                now,
            )
        )
        fields = ", ".join(f'"{name}"' for name in sorted(row.written))
        payload = (
            f'{{"change_id": {change_id}, "fields": [{fields}], '
            f'"source": {source_json}, "share_id": {share_json}}}'
        )
        events.append(outbox_services.event_row(nation_id, person_id, created_kind, payload, now))
    return _Built(
        person_ids,
        store.prepare(_PERSON, people, shapes=shapes, defaults=_PERSON_DEFAULTS),
        store.prepare(_EMAIL, emails),
        store.prepare(_CHANGE, changes),
        store.prepare(outbox_services.EVENT_TABLE, events),
    )


def _write_batch(store: RowStore, built: _Built) -> None:
    # In the background on PostgreSQL: an error there surfaces at the next wait, as
    # QueuedWriteFailed (people_bulk_create). On SQLite it surfaces here.
    try:
        store.insert(_PERSON, built.people)
        store.insert(_EMAIL, built.emails)
        store.insert(_CHANGE, built.changes)
        outbox_services.emit_rows(built.events, store=store)
    except IntegrityError as exc:
        raise _clashed(exc) from None


def _shape(names: tuple[str, ...], key_columns: tuple[str, ...]) -> tuple[int, ...]:
    """The person columns a row with these fields and match keys sets; the rest keep their
    defaults (_PERSON_DEFAULTS)."""
    columns = set(_P_ALWAYS)
    for name in names:
        columns.update(index for _, index in _FIELD_SLOTS[name])
    columns.update(_PERSON_INDEX[column] for column in key_columns)
    return tuple(sorted(columns))


_P_ID = _PERSON_INDEX["id"]
_P_NATION = _PERSON_INDEX["nation_id"]
_P_SUPPORTER = _PERSON_INDEX["is_supporter"]
_P_PROSPECT = _PERSON_INDEX["is_prospect"]
_P_VERSIONS = _PERSON_INDEX["field_versions"]
_P_CREATED = _PERSON_INDEX["created_at"]
_P_UPDATED = _PERSON_INDEX["updated_at"]
_P_ALWAYS = (_P_ID, _P_NATION, _P_SUPPORTER, _P_PROSPECT, _P_VERSIONS, _P_CREATED, _P_UPDATED)
