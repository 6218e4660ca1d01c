"""Large `__in` lists of ids without one placeholder per id.

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
    values = list(ids)
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", [values])
    return values
