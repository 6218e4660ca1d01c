"""JSON text for the bulk paths: orjson, several times faster than the standard library.

A sync batch or an import writes a history document, a field-version document and an event
payload per profile, and reads the version document of every profile it locks: with `json`
these were a fifth of a sync's Python time. The text is compact (no spaces after separators);
PostgreSQL's jsonb and every reader here parse it the same as `json.dumps`'s.

`JSONTextField` stores such documents as text rather than jsonb.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from django.db import models


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def loads(text: str | bytes) -> Any:
    return orjson.loads(text)


class JSONTextField(models.TextField):
    """A JSON document stored as plain text, on PostgreSQL as on SQLite.

    PostgreSQL turns a jsonb value into its binary form as it is written, which costs as much
    as storing it: history documents (100,000 of about 1 KB: 1.2-1.4 s as jsonb, 0.6-0.7 s as
    text), a profile's field versions, event payloads — documents written by the million by
    the bulk paths and only ever read back whole (docs/benchmarks.md). Nothing queries inside
    them in SQL; a query that must (a benchmark's floor) casts the text to jsonb.
    """

    if TYPE_CHECKING:  # for django-stubs: a document in and out, not text
        _pyi_private_set_type: Any
        _pyi_private_get_type: Any

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return None if value is None else loads(value)

    def to_python(self, value: Any) -> Any:
        return loads(value) if isinstance(value, str) else value

    def get_prep_value(self, value: Any) -> Any:
        return None if value is None else dumps(value)

    def value_to_string(self, obj: models.Model) -> str:
        return dumps(self.value_from_object(obj))
