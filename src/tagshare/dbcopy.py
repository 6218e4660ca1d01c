"""Writing many rows fast: COPY on PostgreSQL, multi-row INSERTs on SQLite, ids allocated up front.

The bulk paths (people.bulk, matching staging) build plain row tuples in Python and hand them
here, so the per-row cost is building a tuple, not an ORM object.
"""

from __future__ import annotations

import functools
import itertools
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from django.db import DatabaseError, connection, models

from tagshare.copytext import copy_text, row_picker


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]

    @classmethod
    def of(cls, model: type[models.Model], *, with_id: bool) -> Table:
        columns = tuple(
            str(f.column) for f in model._meta.concrete_fields if with_id or not f.primary_key
        )
        return cls(model._meta.db_table, columns)

    def without(self, *columns: str) -> Table:
        """The table with columns left to their database defaults."""
        return Table(self.name, tuple(c for c in self.columns if c not in columns))


@dataclass(frozen=True)
class Prepared:
    """Rows made ready for `insert` ahead of time: COPY text on PostgreSQL, a list on SQLite.
    A bulk path prepares a batch while the one before it is still being written."""

    data: Any
    count: int

    def __len__(self) -> int:
        return self.count


class RowStore(Protocol):
    def allocate_ids(self, model: type[models.Model], count: int) -> list[int]: ...

    def insert(self, table: Table, rows: Iterable[Sequence[Any]] | Prepared) -> None: ...

    def prepare(
        self,
        table: Table,
        rows: Iterable[Sequence[Any]],
        *,
        shapes: Sequence[tuple[int, ...]] | None = None,
        defaults: Sequence[Any] | None = None,
    ) -> Prepared: ...

    def adapt_datetime(self, value: Any) -> Any: ...

    def in_background(self) -> AbstractContextManager[None]: ...


def store_for_connection() -> RowStore:
    if connection.vendor == "postgresql":
        return PostgresStore()
    if connection.vendor == "sqlite":
        return SQLiteStore()
    raise NotImplementedError(
        f"Bulk create supports PostgreSQL and SQLite, not {connection.vendor}."
    )


def _log_query(sql: str, started: float) -> None:
    # COPY bypasses Django's cursor wrapper; log it so query counts and debug output see it.
    if connection.queries_logged:
        connection.queries_log.append({"sql": sql, "time": f"{time.perf_counter() - started:.3f}"})


class PostgresStore:
    def __init__(self) -> None:
        self._sender: _BackgroundCopy | None = None

    def allocate_ids(self, model: type[models.Model], count: int) -> list[int]:
        # The sequence by name, as a literal PostgreSQL resolves once while parsing: asked
        # for in the query, pg_get_serial_sequence ran per id (3 µs each, against 0.5 µs).
        sequence = _serial_sequence(model._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT nextval({sequence}::regclass) FROM generate_series(1, %s)", [count]
            )
            return sorted(value for (value,) in cursor.fetchall())

    def prepare(
        self,
        table: Table,
        rows: Iterable[Sequence[Any]],
        *,
        shapes: Sequence[tuple[int, ...]] | None = None,
        defaults: Sequence[Any] | None = None,
    ) -> Prepared:
        """The rows as COPY text (copytext.py). With `shapes` (per row, the indexes of the
        columns it may hold other than their `defaults`), the columns no row binds are
        formatted once: a profile sets a dozen of its hundred-odd columns, and formatting all
        of them row by row was a fifth of a bulk import's main thread."""
        listed = rows if isinstance(rows, list) else list(rows)
        return Prepared(copy_text(listed, shapes, defaults), len(listed))

    def insert(self, table: Table, rows: Iterable[Sequence[Any]] | Prepared) -> None:
        if not rows:
            return
        quote = connection.ops.quote_name
        sql = f"COPY {quote(table.name)} ({', '.join(map(quote, table.columns))}) FROM STDIN"
        started = time.perf_counter()
        if self._sender is not None:
            prepared = rows if isinstance(rows, Prepared) else self.prepare(table, rows)
            self._sender.submit(sql, prepared.data)
            _log_query(sql, started)
            return
        _drain_background()  # another store's rows go first: they may be what these refer to
        with (
            connection.wrap_database_errors,
            connection.cursor() as cursor,
            cursor.cursor.copy(sql) as copy,
        ):
            if isinstance(rows, Prepared):
                copy.write(rows.data)
            else:
                for row in rows:
                    copy.write_row(row)
        _log_query(sql, started)

    def adapt_datetime(self, value: Any) -> Any:
        return value

    @contextmanager
    def in_background(self) -> Iterator[None]:
        """Inside, `insert` formats its rows on this thread and a second thread sends them.

        The connection does the rest: the server stores one batch while this thread builds the
        next. Anything else on this connection first waits for what is queued: queries made
        through Django (an execute wrapper), and other stores' COPYs. The connection's own
        lock makes the two threads take turns on the wire; the waiting keeps the order.
        """
        if connection.vendor != "postgresql":
            yield
            return
        with _sending_in_background(self, _copy_write):
            yield


@contextmanager
def _sending_in_background(
    store: PostgresStore | SQLiteStore, write: Callable[[Any, str, Any], None]
) -> Iterator[None]:
    """A store's `in_background`: its inserts go to a thread that runs `write(raw connection,
    sql, prepared data)`; Django's queries on the connection wait for what is queued."""
    # One sender per connection: inside another store's, this one writes directly (after
    # waiting for the other's queue, like anything else on the connection).
    if getattr(_ACTIVE, "sender", None) is not None:
        yield
        return
    connection.ensure_connection()
    sender = _BackgroundCopy(connection.connection, write)
    store._sender = sender
    _ACTIVE.sender = sender
    try:
        with connection.execute_wrapper(sender.wrapper):
            yield
    except BaseException:
        sender.close(raise_error=False)  # the caller's error is the one to report
        raise
    else:
        sender.close(raise_error=True)
    finally:
        store._sender = None
        _ACTIVE.sender = None


def _copy_write(raw: Any, sql: str, data: bytes) -> None:
    with raw.cursor() as cursor, cursor.copy(sql) as copy:
        copy.write(data)


def _literal(value: Any) -> str:
    """A column default as SQL text; only the plain values a model default can be."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        # Quoted for SQL. (SQLiteStore runs its statements on the raw connection, so a % is
        # just a %, not the start of a Django placeholder.)
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"no literal for a default of type {type(value).__name__}; bind the column")


@contextmanager
def references_checked_now(*tables: type[models.Model]) -> Iterator[None]:
    """PostgreSQL, inside a transaction: the deferred foreign keys of these tables are checked
    as each statement stores its rows (SET CONSTRAINTS … IMMEDIATE), not all at commit.

    The checks cost the same either way, but at commit they run while nothing else does; as
    rows arrive, the server does them beside the Python that builds the next batch (the bulk
    create of a million people: 15 s less). Deferred again on the way out; after an error
    they stay immediate to the end of the transaction, which changes when a check runs, not
    what it accepts, for the bulk paths that write a profile before what refers to it.
    """
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        yield
        return
    names = _deferred_foreign_keys(tuple(t._meta.db_table for t in tables))
    if not names:
        yield
        return
    listed = ", ".join(connection.ops.quote_name(name) for name in names)
    with connection.cursor() as cursor:
        cursor.execute(f"SET CONSTRAINTS {listed} IMMEDIATE")
    yield
    with connection.cursor() as cursor:
        cursor.execute(f"SET CONSTRAINTS {listed} DEFERRED")


BULK_CACHE_KIB = 131_072  # SQLite's page cache while a bulk path writes (default: 2 MiB)


@contextmanager
def bulk_page_cache() -> Iterator[None]:
    """SQLite: a bigger page cache while a bulk path inserts, the default again after.

    A million new profiles insert into a dozen indexes at random places. With SQLite's 2 MiB
    cache the transaction's dirty pages spill to the write-ahead log and are read back and
    spilled again, over and over, as the indexes outgrow it. The cache is memory only while it
    holds pages, and it is given back when the size is set back.
    """
    with _sqlite_setting("cache_size", -BULK_CACHE_KIB):
        yield


@contextmanager
def _sqlite_setting(pragma: str, value: int) -> Iterator[None]:
    """A connection setting of SQLite's changed for a while, and set back even on an error."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA {pragma}")
        (previous,) = cursor.fetchone()
        cursor.execute(f"PRAGMA {pragma} = {int(value)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA {pragma} = {int(previous)}")


# SQLite checkpoints when a commit leaves the write-ahead log over this many pages (default
# 1,000); within deferred_checkpoints(): 1 GiB of 4 KiB pages.
BULK_WAL_PAGES = 262_144


@contextmanager
def deferred_checkpoints() -> Iterator[None]:
    """SQLite: checkpoint the write-ahead log once at the end of a path that commits batch
    after batch, not after nearly every commit.

    The initial sync's reconciliation rewrites the same pages in each batch: the tails of the
    history, events and `updated_at` indexes. With SQLite's default (a checkpoint whenever a
    commit leaves more than 1,000 pages in the log) they were copied into the database again
    after nearly every batch: 2.0 s of 6.1 s reconciling the 100k share went to commits.
    Deferred, each page is copied once, here at the end (or by the commit that passes
    BULK_WAL_PAGES), and the log is emptied.
    """
    with _sqlite_setting("wal_autocheckpoint", BULK_WAL_PAGES):
        yield
    if connection.vendor == "sqlite" and not connection.in_atomic_block:
        # Waits (busy_timeout) for readers of older pages; if they outlast it, the next
        # commit's automatic checkpoint copies what is left.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cursor.fetchall()


@contextmanager
def compressed_wal() -> Iterator[None]:
    """PostgreSQL: this connection compresses the page images it writes to the write-ahead
    log (lz4) for a while, when its role may set that for itself (a superuser may; for other
    roles ALTER SYSTEM does it for every connection) and the server compresses none yet.

    The initial sync rewrites profiles and index pages all over their tables, and the first
    write to a page after each checkpoint logs the whole page: reconciling a 1M share wrote
    11.5 GB of WAL, nearly all page images, with a checkpoint every few seconds at the default
    max_wal_size. Compressed, the log is smaller, checkpoints come less often, and fewer pages
    are logged whole again (docs/benchmarks.md).
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_settings WHERE name = 'wal_compression' AND setting = 'off' "
            "AND 'lz4' = ANY(enumvals) AND (context = 'user' OR current_setting('is_superuser') = 'on')"
        )
        allowed = cursor.fetchone() is not None
        if allowed:
            cursor.execute("SET wal_compression = lz4")
    try:
        yield
    finally:
        if allowed and connection.connection is not None:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("RESET wal_compression")
            except DatabaseError:
                pass  # the connection broke (the error on its way up says why); so did its setting


# PRAGMA temp_store: 2 keeps temporary tables and indexes in memory (0, the default: in a file).
TEMP_STORE_MEMORY = 2


@contextmanager
def temp_tables_in_memory() -> Iterator[None]:
    """SQLite: temporary tables in memory while a path builds and drops a few MB of them per
    batch, outside a transaction (SQLite cannot switch once a transaction has used them).

    The reconciliation's batch tables (pairs, changes, claims: about 3 MB for 2,000 pairs)
    outgrew the temporary database's small cache and were written to its file, only to be
    dropped: 1.5 GB of writes reconciling a 1M share. Memory held is one batch's tables.
    """
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    with _sqlite_setting("temp_store", TEMP_STORE_MEMORY):
        yield


_CATALOG: dict[tuple[str, str, str], list[tuple[Any, ...]]] = {}


def _from_catalog(sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """The rows of a query on PostgreSQL's catalog, asked once per database: names of
    sequences and constraints change only with migrations, and the bulk paths ask per call."""
    key = (connection.settings_dict["NAME"], sql, repr(params))
    if key not in _CATALOG:
        with connection.cursor() as cursor:
            cursor.execute(sql, list(params))
            _CATALOG[key] = cursor.fetchall()
    return _CATALOG[key]


def _serial_sequence(table: str) -> str:
    """The id sequence of this table, as a quoted SQL literal."""
    [(literal,)] = _from_catalog("SELECT quote_literal(pg_get_serial_sequence(%s, 'id'))", table)
    return str(literal)


def _deferred_foreign_keys(tables: tuple[str, ...]) -> list[str]:
    """The names of these tables' foreign keys that are checked at commit (Django's kind)."""
    rows = _from_catalog(
        "SELECT conname FROM pg_constraint WHERE contype = 'f' AND condeferrable "
        "AND condeferred AND conrelid::regclass::text = ANY(%s) ORDER BY conname",
        list(tables),
    )
    return [name for (name,) in rows]


# The background copy running on this thread's connection. Thread-local because Django's
# connections are: `django.db.connection` is one proxy object for every thread, so it cannot
# be the key (another thread's import would make this one wait for it, or fail with it).
_ACTIVE = threading.local()


def _drain_background() -> None:
    sender = getattr(_ACTIVE, "sender", None)
    if sender is not None:
        sender.drain()


class QueuedWriteFailed(Exception):
    """A COPY queued by `in_background` failed; `__cause__` is the database's error (Django's
    class, e.g. IntegrityError). Raised on the caller's thread at its next wait, so it may
    surface in any statement of the caller's that follows the write."""


QUEUED = 8  # COPYs waiting for the background thread: two batches of people_bulk_create


class _BackgroundCopy:
    """One thread that writes already prepared rows, in order, on the caller's connection (so
    inside the caller's transaction): `write(raw, sql, data)`, a COPY by default. The first
    error stops it; `drain` raises it."""

    def __init__(self, raw: Any, write: Callable[[Any, str, Any], None] | None = None) -> None:
        self._raw = raw
        self._write = write or _copy_write
        # Bounded: a caller that formats faster than the server stores waits here, rather
        # than holding every formatted batch of a million rows in memory.
        self._jobs: queue.Queue[tuple[str, Any] | None] = queue.Queue(maxsize=QUEUED)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="background-copy", daemon=True)
        self._thread.start()

    def submit(self, sql: str, data: Any) -> None:
        self._raise()
        self._jobs.put((sql, data))

    def wrapper(self, execute: Callable[..., Any], *args: Any) -> Any:
        self.drain()
        return execute(*args)

    def drain(self) -> None:
        """Wait until everything queued is on the server (or failed)."""
        self._jobs.join()
        self._raise()

    def close(self, *, raise_error: bool) -> None:
        self._jobs.put(None)
        self._thread.join()
        if raise_error:
            self._raise()

    def _raise(self) -> None:
        if self._error is None:
            return
        try:
            with connection.wrap_database_errors:  # psycopg's error as Django's
                raise self._error
        except Exception as exc:
            raise QueuedWriteFailed(f"a write queued on this connection failed: {exc}") from exc

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                if job is None:
                    return
                if self._error is None:  # after an error the transaction is lost anyway
                    self._write(self._raw, *job)
            except BaseException as exc:  # raised on the caller's thread by drain()
                self._error = exc
            finally:
                self._jobs.task_done()


class SQLiteStore:
    def __init__(self) -> None:
        self._sender: _BackgroundCopy | None = None
        self._parameters: int | None = None  # SQLite's limit on a statement's parameters

    def allocate_ids(self, model: type[models.Model], count: int) -> list[int]:
        # The transaction holds SQLite's write lock (BEGIN IMMEDIATE), so no one else can take
        # these ids. Moving the AUTOINCREMENT counter past them now (not only when they are
        # inserted) keeps any other insert, even in this transaction, off them, as a
        # PostgreSQL sequence does.
        table = model._meta.db_table
        highest = f"COALESCE((SELECT MAX(id) FROM {connection.ops.quote_name(table)}), 0)"
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE sqlite_sequence SET seq = MAX(seq, {highest}) + %s WHERE name = %s "
                "RETURNING seq",
                [count, table],
            )
            row = cursor.fetchone()
            if row is None:  # the table's first rows: SQLite has no counter for it yet
                cursor.execute(f"SELECT {highest}")
                row = (cursor.fetchone()[0] + count,)
                cursor.execute(
                    "INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, row[0]]
                )
        last = row[0] - count
        return list(range(last + 1, last + 1 + count))

    def prepare(
        self,
        table: Table,
        rows: Iterable[Sequence[Any]],
        *,
        shapes: Sequence[tuple[int, ...]] | None = None,
        defaults: Sequence[Any] | None = None,
    ) -> Prepared:
        """The rows as multi-row INSERT statements with their parameters, flattened.

        Many rows a statement, not `executemany`: sqlite3 lets go of the interpreter lock
        while a statement runs, and takes it back at each row it steps, so one statement for
        hundreds of rows can run on another thread (`in_background`) beside this one.

        With `shapes` (per row, the indexes of the columns it may hold other than their
        `defaults`): only the columns some row's shape names are bound, the others are written
        once in the statement as literals. Binding is most of an insert's cost, and a profile
        holds a dozen of its hundred-odd columns. One set of columns for all the rows (not a
        statement per shape): each statement is a wait for the interpreter lock."""
        statements: list[tuple[str, list[Any]]] = []
        listed = [tuple(row) for row in rows]
        if not listed:
            return Prepared(statements, 0)
        if shapes is None or defaults is None:
            bound = None
            width = len(table.columns)
        else:
            bound = tuple(sorted(set().union(*set(shapes))))
            width = len(bound)
            pick = row_picker(bound)
            if width != len(table.columns):
                listed = [pick(row) for row in listed]
        for start, count in self._spans(len(listed), width):
            flat = list(itertools.chain.from_iterable(listed[start : start + count]))
            statements.append((self._sql(table, bound, defaults or (), count), flat))
        return Prepared(statements, len(listed))

    def insert(self, table: Table, rows: Iterable[Sequence[Any]] | Prepared) -> None:
        if not isinstance(rows, Prepared):
            rows = self.prepare(table, rows)
        if not rows:
            return
        label = f"INSERT INTO {connection.ops.quote_name(table.name)} … ({len(rows)} rows)"
        started = time.perf_counter()
        if self._sender is not None:
            self._sender.submit(label, rows.data)
            _log_query(label, started)
            return
        _drain_background()  # another store's rows go first: they may be what these refer to
        connection.ensure_connection()
        with connection.wrap_database_errors:
            _execute_write(connection.connection, label, rows.data)
        _log_query(label, started)

    ROWS_PER_STATEMENT = 1000  # 200 a statement took 40% longer to store than 1,000

    def _spans(self, count: int, width: int) -> Iterator[tuple[int, int]]:
        """(first row, rows) of each statement: as many as SQLite's limit on parameters lets
        one statement bind, up to ROWS_PER_STATEMENT."""
        if self._parameters is None:
            connection.ensure_connection()
            self._parameters = int(
                connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
            )
        per = max(1, min(self.ROWS_PER_STATEMENT, self._parameters // max(width, 1)))
        for start in range(0, count, per):
            yield start, min(per, count - start)

    @staticmethod
    def _sql(
        table: Table, shape: tuple[int, ...] | None, defaults: Sequence[Any], count: int
    ) -> str:
        quote = connection.ops.quote_name
        head = f"INSERT INTO {quote(table.name)} ({', '.join(map(quote, table.columns))}) "
        if shape is None:
            return head + "VALUES " + _placeholders(len(table.columns), count)
        # The bound columns come from a VALUES list (column1, column2, … in SQLite's naming);
        # the others are their defaults, written once in the SELECT rather than in every row.
        position = {index: n for n, index in enumerate(shape, start=1)}
        picked = [
            f"column{position[i]}" if i in position else _literal(defaults[i])
            for i in range(len(table.columns))
        ]
        return (
            head
            + f"SELECT {', '.join(picked)} FROM (VALUES "
            + _placeholders(len(shape), count)
            + ")"
        )

    def adapt_datetime(self, value: Any) -> Any:
        return connection.ops.adapt_datetimefield_value(value)

    def in_background(self) -> AbstractContextManager[None]:
        """Inside, `insert` prepares its statements on this thread and a second thread runs
        them, as PostgresStore's does with COPY: SQLite stores one batch (without the
        interpreter lock) while this thread builds the next."""
        return _sending_in_background(self, _execute_write)


def _execute_write(raw: Any, sql: str, statements: list[tuple[str, list[Any]]]) -> None:
    """Run SQLiteStore's prepared statements on the raw connection (`sql` only names them).
    Not through Django's cursor: it would rewrite every statement's thousands of %s."""
    for statement, parameters in statements:
        raw.execute(statement, parameters)


@functools.lru_cache(maxsize=64)
def _placeholders(width: int, count: int) -> str:
    one = "(" + ", ".join(["?"] * width) + ")"
    return ", ".join([one] * count)
