"""Writing many profiles at once (a share's initial sync): person_update's rules, per batch.

Each write gets what `services.person_update` gives — a version per written field (the carried
one when it is newer, else a fresh one), a history row, the email index, match keys, an outbox
event — with a fixed number of queries per batch instead of per profile. A field whose value
another profile of the nation holds (an email, a unique ID) is not written; it is handed back
so the caller can say why, rather than dropped silently.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, partial
from typing import Any

from django.db import connection, transaction
from django.db.models.base import ModelState
from django.utils import timezone

from tagshare import jsontext
from tagshare.dbcopy import Table, store_for_connection
from tagshare.idlists import many_ids, many_texts
from tagshare.jsontext import JSONTextField
from tagshare.matching.normalise import KEY_SOURCES, match_key
from tagshare.nations.actors import Actor, check_acts_in
from tagshare.nations.models import Nation
from tagshare.outbox import services as outbox_services
from tagshare.outbox.hlc import Version, clock
from tagshare.outbox.models import EventKind
from tagshare.people import catalog, values
from tagshare.people.models import Person, PersonChange, PersonEmail
from tagshare.people.services import supporter_status_for_level

_CHANGE = Table.of(PersonChange, with_id=True)
_EMAIL = Table.of(PersonEmail, with_id=False)
_SCRATCH = "person_update_rows"  # a temporary table, one statement's rows at a time


@dataclass
class Write:
    """Changes to one profile: cleaned values, and the versions they carry (absent: fresh)."""

    person: Person
    changes: dict[str, Any]
    versions: dict[str, Version] = field(default_factory=dict)


@dataclass
class Refused:
    person_id: int
    field: str
    message: str


def people_for_update(
    ids: Iterable[int], *, fields: Iterable[str] | None = None
) -> dict[int, Person]:
    """The profiles with these ids, row-locked in id order (so two writers cannot deadlock).

    Built from plain rows rather than through `Model.from_db` or a values() queryset: for the
    thousands of profiles of a sync batch, Django's per-instance `__init__` (100 columns,
    signals) and its per-value converter loop cost more than the query. The instances are
    only read and written back through `people_bulk_update`.

    `fields`: the catalog fields the caller will compare and write. Then only their columns
    and those `people_bulk_update` reads besides (`_columns`) are loaded — a share syncs 37 of
    a profile's 65 fields — and any other attribute would be read from the database on first
    use, a query per profile. Without it every concrete column is loaded.
    """
    ids = list(ids)
    if not ids:
        return {}  # an empty IN has no SQL form on SQLite: the compiler refuses it
    columns = _columns(None if fields is None else frozenset(fields))
    query = Person.objects.select_for_update().filter(pk__in=many_ids(ids)).order_by("pk")
    return _load(query, columns)


def people_in_nation(nation: Nation, ids: Iterable[int]) -> dict[int, Person]:
    """The profiles of this nation with these ids, unlocked, built as `people_for_update`
    builds them (an import compares thousands of matched profiles with its rows; the few it
    changes are locked and read again by `person_update`)."""
    ids = list(ids)
    if not ids:
        return {}
    return _load(Person.objects.filter(nation=nation, pk__in=many_ids(ids)), _LOADED)


def _load(queryset: Any, columns: tuple[str, ...]) -> dict[int, Person]:
    query = queryset.values_list(*columns)
    db = query.db  # a property that asks the database router: once, not per row
    sql, params = query.query.get_compiler(using=db).as_sql()
    converters = _converters(columns, connection.vendor)
    people: dict[int, Person] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for row in cursor.fetchall():
            if converters:
                row = list(row)
                for at, convert in converters:
                    row[at] = convert(row[at])
            person = Person.__new__(Person)
            person.__dict__.update(zip(columns, row, strict=True))
            person._state = ModelState()
            person._state.adding = False
            person._state.db = db
            people[person.pk] = person
    return people


_LOADED = tuple(f.attname for f in Person._meta.concrete_fields)
# What people_bulk_update reads of a profile besides the fields it writes: the nation, the
# versions, the supporter flag (kept when a support level maps to no status), and every
# unique ID with the registered state and county that qualify some (the clash checks read a
# profile's IDs when its registered address moves). Match keys, `updated_at` and the rest
# are only ever set, never read.
_ALWAYS = frozenset(
    {
        "id",
        "nation_id",
        "field_versions",
        "is_supporter",
        "registered_state",
        "registered_county",
        *catalog.UNIQUE_IDS,
    }
)


@cache
def _columns(fields: frozenset[str] | None) -> tuple[str, ...]:
    """The attributes to load for writing these fields (all of them for None), in table order."""
    if fields is None:
        return _LOADED
    wanted = set(_ALWAYS)
    for name in fields:
        if catalog.BY_NAME[name].is_address:
            wanted.update(catalog.address_columns(name).values())
        else:
            wanted.add(name)
    return tuple(column for column in _LOADED if column in wanted)


@cache
def _converters(
    columns: tuple[str, ...], vendor: str
) -> tuple[tuple[int, Callable[[Any], Any]], ...]:
    """(position, function) for each loaded column the database hands back in another form:
    the JSON documents (parsed here with orjson), and on SQLite dates, times and booleans.
    Cached per column list and backend (`vendor`): the same for every connection of one."""
    from django.db import models

    out: list[tuple[int, Callable[[Any], Any]]] = []
    for at, attname in enumerate(columns):
        column_field = _BY_ATTNAME[attname]
        if isinstance(column_field, models.JSONField | JSONTextField):
            out.append((at, _json_value))
            continue
        column = column_field.get_col(Person._meta.db_table)
        chain = connection.ops.get_db_converters(column) + column_field.get_db_converters(
            connection
        )
        if chain:
            out.append((at, partial(_convert, chain, column)))
    return tuple(out)


_BY_ATTNAME = {f.attname: f for f in Person._meta.concrete_fields}


def _json_value(value: Any) -> Any:
    return jsontext.loads(value) if isinstance(value, str | bytes) else value


def _convert(chain: list[Any], column: Any, value: Any) -> Any:
    for converter in chain:
        value = converter(value, column, connection)
    return value


def people_bulk_update(
    *, nation: Nation, actor: Actor, writes: Sequence[Write], kind: str = "update"
) -> list[Refused]:
    """Apply the writes (persons already loaded by the caller); returns the fields refused."""
    check_acts_in(actor, nation)
    if not writes:
        return []
    refused = _refuse_clashes(nation, writes)
    store = store_for_connection()
    now = timezone.now()
    stamp = store.adapt_datetime(now)
    people: list[Person] = []
    changes_rows: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    email_slots: list[tuple[int, str]] = []
    with transaction.atomic():
        written: list[tuple[Person, dict[str, Any]]] = []
        for write in writes:
            history = _apply(write, nation)
            if history:
                written.append((write.person, history))
        if not written:
            return refused
        change_ids = store.allocate_ids(PersonChange, len(written))
        for (person, history), change_id in zip(written, change_ids, strict=True):
            person.updated_at = now
            people.append(person)
            email_slots.extend(
                (person.pk, slot) for slot in history if slot in catalog.EMAIL_FIELDS
            )
            changes_rows.append(
                (
                    change_id,
                    nation.pk,
                    person.pk,
                    kind,
                    actor.source,
                    actor.user_id,
                    actor.share_id,
                    jsontext.dumps(history),
                    stamp,
                )
            )
            payload = {
                "change_id": change_id,
                "fields": sorted(history),
                "source": actor.source,
                "share_id": actor.share_id,
            }
            events.append(
                outbox_services.event_row(
                    nation.pk,
                    person.pk,
                    EventKind.PERSON_UPDATED.value,
                    jsontext.dumps(payload),
                    stamp,
                )
            )
        _update_rows(written)
        _reindex_emails(nation, email_slots, {p.pk: p for p in people})
        store.insert(_CHANGE, changes_rows)
        outbox_services.emit_rows(events)
    return refused


def _apply(write: Write, nation: Nation) -> dict[str, Any]:
    """Set the values on the in-memory person; return its history entry (empty: nothing changed)."""
    person = write.person
    stored = dict(person.field_versions or {})
    history: dict[str, Any] = {}
    for name, new in write.changes.items():
        old = values.read(person, name)
        current = Version.from_json(stored.get(name))
        carried = write.versions.get(name)
        if carried is not None and (current is None or carried > current):
            version = carried
            clock.observe(carried.ts)
        elif values.same(old, new):
            continue
        else:
            # A fresh version, newer than the one it replaces, when the carried one is older.
            version = Version(clock.next_after(current.ts if current else 0), nation.pk)
        values.write(person, name, new)
        stored[name] = version.as_json()
        history[name] = {
            "old": values.to_json(old),
            "new": values.to_json(new),
            "version": version.as_json(),
        }
    if not history:
        return history
    person.field_versions = stored
    for column, source in KEY_SOURCES.items():
        # Each key depends on its own field only: the others stay as the write path left them.
        if source in history:
            setattr(
                person,
                column,
                match_key(column, values.read(person, source), nation.default_region),
            )
    if "support_level" in history:
        status = supporter_status_for_level(person.support_level)
        if status is not None:
            person.is_supporter = status
    return history


def _refuse_clashes(nation: Nation, writes: Sequence[Write]) -> list[Refused]:
    """Take out (and report) emails and unique IDs another profile holds, set-based per batch.

    A value the batch itself releases (its holder's write changes that slot or ID) is free for
    another write of the batch — the order events happen to be batched in must not matter.
    An email already in another slot of the same profile is refused too (one address, one slot).
    """
    refused: list[Refused] = []
    by_person = {w.person.pk: w for w in writes}
    # A release counts only if the releasing change stands: when one is refused, its profile
    # keeps the address, and a claim granted because of it must be refused in turn. Refusals
    # only remove changes, so passes until none is refused reach the fixed point.
    while True:
        found = _refuse_email_clashes(nation, writes, by_person)
        if not found:
            break
        refused.extend(found)
    # Only the IDs some write claims: the others would each walk every write to find none.
    written = {name for write in writes for name in write.changes}
    moves = "registered_address" in written  # which re-keys the state/county-qualified IDs
    for spec in _UNIQUE_SPECS:
        if spec.name in written or (moves and spec.unique_with):
            refused.extend(_refuse_id_clashes(nation, spec, writes, by_person))
    return refused


_UNIQUE_SPECS = tuple(spec for spec in catalog.FIELDS if spec.unique)


def _refuse_email_clashes(
    nation: Nation, writes: Sequence[Write], by_person: Mapping[int, Write]
) -> list[Refused]:
    """One pass over the emails the writes claim: take out (and report) those held."""
    refused: list[Refused] = []
    wanted_emails: dict[str, list[tuple[Write, str]]] = {}
    for write in writes:
        for slot in catalog.EMAIL_FIELDS:
            if write.changes.get(slot):
                address = values.normalise_email(write.changes[slot])
                wanted_emails.setdefault(address, []).append((write, slot))
    if not wanted_emails:
        return refused
    holders = {
        address: (person_id, slot)
        for address, person_id, slot in PersonEmail.objects.filter(
            nation=nation, address__in=many_texts(wanted_emails)
        ).values_list("address", "person_id", "slot")
    }
    for address, claims in wanted_emails.items():
        holder = holders.get(address)
        if holder is not None and _releases(by_person.get(holder[0]), holder[1], address):
            holder = None
        for write, slot in claims:
            if holder is None:
                holder = (write.person.pk, slot)  # the first claim in the batch takes it
            if holder == (write.person.pk, slot):
                continue
            write.changes.pop(slot)
            owner = holder[0]
            message = (
                f"{address} is already this profile's {holder[1]}"
                if owner == write.person.pk
                else f"{address} belongs to person {owner}"
            )
            refused.append(Refused(write.person.pk, slot, message))
    return refused


def _releases(write: Write | None, slot: str, address: str) -> bool:
    """Whether `write` moves `address` out of `slot` of its profile."""
    if write is None or slot not in write.changes:
        return False
    return values.normalise_email(write.changes[slot] or "") != address


def _refuse_id_clashes(
    nation: Nation, spec: Any, writes: Sequence[Write], by_person: Mapping[int, Write]
) -> list[Refused]:
    """One unique ID: claims are writes of the ID, and — for state/county-qualified IDs —
    writes that move the registered address of a profile holding one (its key changes)."""
    refused: list[Refused] = []
    claims: list[tuple[Write, tuple[Any, ...], str]] = []
    for w in writes:
        if w.changes.get(spec.name):
            claims.append((w, (w.changes[spec.name], *_scope(w, spec.unique_with)), spec.name))
        elif (
            spec.unique_with
            and "registered_address" in w.changes
            and spec.name not in w.changes
            and getattr(w.person, spec.name)
        ):
            key = (getattr(w.person, spec.name), *_scope(w, spec.unique_with))
            claims.append((w, key, "registered_address"))
    if not claims:
        return refused
    taken: dict[tuple[Any, ...], int] = {}
    rows = Person.objects.filter(
        nation=nation, **{f"{spec.name}__in": many_texts({key[0] for _, key, _ in claims})}
    ).values_list(spec.name, *spec.unique_with, "id")
    for *key, pid in rows:
        holder = by_person.get(pid)
        if holder is not None and _new_id_key(holder, spec) != tuple(key):
            continue  # this batch moves the holder off that key
        taken[tuple(key)] = pid
    for write, key, field_name in claims:
        owner = taken.setdefault(key, write.person.pk)
        if owner != write.person.pk and field_name in write.changes:
            write.changes.pop(field_name)
            refused.append(
                Refused(
                    write.person.pk,
                    field_name,
                    f"{spec.label} {key[0]!r} belongs to person {owner}"
                    if field_name == spec.name
                    else f"the new registered address would give {spec.label} {key[0]!r} the "
                    f"state (and county) of person {owner}'s",
                )
            )
    return refused


def _new_id_key(write: Write, spec: Any) -> tuple[Any, ...]:
    """The (ID, qualifiers) key a profile will hold after `write`."""
    value = (
        write.changes[spec.name] if spec.name in write.changes else getattr(write.person, spec.name)
    )
    return (value or None, *_scope(write, spec.unique_with))


def _scope(write: Write, columns: tuple[str, ...]) -> tuple[str, ...]:
    """The registered state (and county) a qualified ID will have after this write."""
    if not columns:
        return ()
    registered = write.changes.get("registered_address")
    out = []
    for column in columns:
        part = column.split("_", 1)[1]
        out.append(
            registered.get(part, "") if registered is not None else getattr(write.person, column)
        )
    return tuple(out)


def _adapter(field: Any) -> Any:
    """A fast value -> database value converter for one column (get_db_prep_save is slow)."""
    from django.db import models

    if isinstance(field, models.JSONField | JSONTextField):
        return jsontext.dumps
    if isinstance(field, models.DateTimeField):
        return connection.ops.adapt_datetimefield_value
    if isinstance(field, models.DateField):
        return connection.ops.adapt_datefield_value
    return None


def _columns_for(history: Mapping[str, Any]) -> tuple[str, ...]:
    """The columns a write touched: fewer SET columns means fewer indexes to maintain."""
    columns = ["field_versions", "updated_at"]
    for name in history:
        spec = catalog.BY_NAME[name]
        if spec.is_address:
            columns.extend(catalog.address_columns(name).values())
        else:
            columns.append(name)
    columns.extend(column for column, source in KEY_SOURCES.items() if source in history)
    if "support_level" in history:
        columns.append("is_supporter")
    return tuple(sorted(columns))


def _update_rows(written: list[tuple[Person, dict[str, Any]]]) -> None:
    fields = {f.column: f for f in Person._meta.concrete_fields}
    groups: dict[tuple[str, ...], list[Person]] = {}
    for person, history in written:
        groups.setdefault(_columns_for(history), []).append(person)
    if connection.vendor == "postgresql":
        _update_rows_copied(groups, fields)
        return
    quote = connection.ops.quote_name
    table = quote(Person._meta.db_table)
    with connection.cursor() as cursor:
        for columns, people in groups.items():
            # SQLite maintains only the indexes of the columns SET: one statement per set.
            assignments = ", ".join(f"{quote(c)} = %s" for c in columns)
            cursor.executemany(
                f"UPDATE {table} SET {assignments} WHERE id = %s", _rows(people, columns, fields)
            )


def _update_rows_copied(groups: Mapping[tuple[str, ...], list[Person]], fields: Any) -> None:
    """PostgreSQL: COPY the rows into a scratch table, then one UPDATE … FROM it.

    Three times faster than an UPDATE … FROM (VALUES …) of parameters, which PostgreSQL parses
    and plans as one huge statement. Each row keeps its group (the columns it touched); a column
    only some groups touched keeps its value in the others. PostgreSQL writes a whole new row
    version whatever is SET, and the indexed `updated_at` changes anyway, so one statement
    costs no more index entries than one per group.
    """
    quote = connection.ops.quote_name
    table = quote(Person._meta.db_table)
    every = sorted({c for columns in groups for c in columns})
    numbered = list(enumerate(groups.items()))
    rows: list[list[Any]] = []
    for number, (columns, people) in numbered:
        spread = [every.index(c) for c in columns]
        for row in _rows(people, columns, fields):
            full: list[Any] = [None] * len(every)
            *own, person_id = row
            for at, value in zip(spread, own, strict=True):
                full[at] = value
            rows.append([*full, person_id, number])
    sets = []
    for column in every:
        takers = [str(n) for n, (columns, _) in numbered if column in columns]
        value = f"v.{quote(column)}"
        if len(takers) < len(numbered):
            value = f"CASE WHEN v.update_group IN ({', '.join(takers)}) THEN {value} ELSE p.{quote(column)} END"
        sets.append(f"{quote(column)} = {value}")
    names = ", ".join(quote(c) for c in (*every, "id"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_SCRATCH} ON COMMIT DROP AS "
            f"SELECT {names}, 0::smallint AS update_group FROM {table} WITH NO DATA"
        )
        store_for_connection().insert(Table(_SCRATCH, (*every, "id", "update_group")), rows)
        cursor.execute(
            f"UPDATE {table} AS p SET {', '.join(sets)} FROM {_SCRATCH} AS v WHERE p.id = v.id"
        )
        cursor.execute(f"DROP TABLE {_SCRATCH}")


def _rows(people: list[Person], columns: tuple[str, ...], fields: Any) -> list[list[Any]]:
    """The people's values of these columns, ready for the database, then their id."""
    plan = [(fields[c].attname, _adapter(fields[c])) for c in columns]
    return [
        [adapt(getattr(p, attname)) if adapt else getattr(p, attname) for attname, adapt in plan]
        + [p.pk]
        for p in people
    ]


def _reindex_emails(
    nation: Nation, slots: list[tuple[int, str]], people: Mapping[int, Person]
) -> None:
    if not slots:
        return
    by_slot: dict[str, list[int]] = {}
    for person_id, slot in slots:
        by_slot.setdefault(slot, []).append(person_id)
    for slot, person_ids in by_slot.items():  # at most four statements, whatever the batch
        PersonEmail.objects.filter(slot=slot, person_id__in=many_ids(person_ids)).delete()
    rows = []
    for person_id, slot in slots:
        address = getattr(people[person_id], slot)
        if address:
            rows.append((nation.pk, person_id, slot, values.normalise_email(address)))
    store_for_connection().insert(_EMAIL, rows)
