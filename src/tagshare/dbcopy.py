"""Writing many rows fast: COPY on PostgreSQL, executemany on SQLite, ids allocated up front.

The bulk paths (people.bulk, matching staging) build plain row tuples in Python and hand them
here, so the per-row cost is building a tuple, not an ORM object.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.db import connection, models


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


class RowStore(Protocol):
    def allocate_ids(self, model: type[models.Model], count: int) -> list[int]: ...

    def insert(self, table: Table, rows: Iterable[Sequence[Any]]) -> None: ...

    def adapt_datetime(self, value: Any) -> Any: ...


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
    def allocate_ids(self, model: type[models.Model], count: int) -> list[int]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [model._meta.db_table, count],
            )
            return sorted(value for (value,) in cursor.fetchall())

    def insert(self, table: Table, rows: Iterable[Sequence[Any]]) -> None:
        if not rows:
            return
        quote = connection.ops.quote_name
        sql = f"COPY {quote(table.name)} ({', '.join(map(quote, table.columns))}) FROM STDIN"
        started = time.perf_counter()
        with (
            connection.wrap_database_errors,
            connection.cursor() as cursor,
            cursor.cursor.copy(sql) as copy,
        ):
            for row in rows:
                copy.write_row(row)
        _log_query(sql, started)

    def adapt_datetime(self, value: Any) -> Any:
        return value


class SQLiteStore:
    def allocate_ids(self, model: type[models.Model], count: int) -> list[int]:
        # The transaction holds SQLite's write lock (BEGIN IMMEDIATE), so no one else can take
        # these ids; inserting them explicitly moves the AUTOINCREMENT counter past them.
        table = model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = %s), 0),"
                f" COALESCE((SELECT MAX(id) FROM {connection.ops.quote_name(table)}), 0))",
                [table],
            )
            (last,) = cursor.fetchone()
        return list(range(last + 1, last + 1 + count))

    def insert(self, table: Table, rows: Iterable[Sequence[Any]]) -> None:
        rows = rows if isinstance(rows, Sequence) else list(rows)
        if not rows:
            return
        quote = connection.ops.quote_name
        marks = ", ".join(["%s"] * len(table.columns))
        sql = f"INSERT INTO {quote(table.name)} ({', '.join(map(quote, table.columns))}) VALUES ({marks})"
        with connection.cursor() as cursor:
            cursor.executemany(sql, rows)

    def adapt_datetime(self, value: Any) -> Any:
        return connection.ops.adapt_datetimefield_value(value)
