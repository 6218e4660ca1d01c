"""Large `__in` lists of ids (or strings) without one placeholder per id.

Django renders `pk__in=[...]` as `IN (%s, %s, …)`: for the thousands of ids a worker's batch
holds, building and parsing that query costs more than running it. On PostgreSQL the list
travels as one array parameter instead; SQLite keeps the plain list (it has no arrays, and its
queries are not sent over a wire).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connection
from django.db.models.expressions import RawSQL


def many_ids(ids: Iterable[int]) -> Any:
    """A value for an `__in` lookup on an integer id column."""
    return _many(list(ids), "bigint")


def many_texts(texts: Iterable[str]) -> Any:
    """A value for an `__in` lookup on a text column (emails, IDs)."""
    return _many(list(texts), "text")


def _many(values: list[Any], sql_type: str) -> Any:
    if connection.vendor == "postgresql":
        return RawSQL(f"SELECT unnest(%s::{sql_type}[])", [values])
    return values


def inline_ids(ids: Iterable[int]) -> str:
    """An id list for `IN (…)` in hand-written SQL, as text: the integers come from our own
    tables and are cast with int(), and neither sqlite3 nor psycopg 3 expands a tuple
    parameter. "NULL" for none, so the condition is simply false."""
    return ", ".join(str(int(i)) for i in ids) or "NULL"
