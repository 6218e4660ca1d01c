"""COPY text made by copytext.py (for PostgresStore.prepare) rather than psycopg's TextFormatter.

The bulk paths' rows are formatted a column at a time, the columns no row binds once. The
rule that keeps it correct: the bytes are psycopg's, value for value, and whatever the fast
path does not know, psycopg formats. The properties check that against psycopg itself.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tagshare import copytext
from tagshare.dbcopy import PostgresStore, Table
from tagshare.people.models import Source
from tagshare.tags.models import Tag

ANY_TABLE = Table("t", ())  # prepare formats rows; the table matters only to insert


def psycopg_text(rows: list[Any]) -> bytes:
    """The reference: psycopg's TextFormatter, as the old prepare used it."""
    from psycopg._copy_base import TextFormatter
    from psycopg.adapt import Transformer

    formatter = TextFormatter(Transformer(), encoding="utf-8")
    data = bytearray()
    for row in rows:
        data += formatter.write_row(row)
    data += formatter.end()
    return bytes(data)


def outcome(make: Any) -> bytes | type[BaseException]:
    """The bytes, or the kind of error (psycopg refuses NUL, lone surrogates, dicts)."""
    try:
        return make()
    except Exception as exc:
        return type(exc)


class Mood(enum.StrEnum):  # str before Enum in the MRO: psycopg writes the value
    HAPPY = "happy\tday"


class Shout(str):  # its own __str__, which psycopg does not use
    def __str__(self) -> str:
        return self.upper()


UTC = dt.UTC
SAME_INSTANT = (  # equal datetimes, different text: a cache by value would mix them up
    dt.datetime(2024, 3, 1, 12, 0, tzinfo=UTC),
    dt.datetime(2024, 3, 1, 13, 0, tzinfo=dt.timezone(dt.timedelta(hours=1))),
)
ONE_ISH = (1, True, 1.0, Decimal(1), Decimal("1.00"), 0, False, 0.0, -0.0, None)  # 1 == True

awkward_text = st.lists(
    st.one_of(
        st.sampled_from(["\\", "\t", "\n", "\r", "\b", "\f", "\v", "\\N", "N", "%s", "{}", "é"]),
        st.characters(codec="utf-8"),  # any character UTF-8 holds, controls too
    ),
    max_size=8,
).map("".join)
aware = st.builds(
    lambda moment, minutes: moment.replace(tzinfo=dt.timezone(dt.timedelta(minutes=minutes))),
    st.datetimes(),
    st.integers(-1439, 1439),
)
plain_values = st.one_of(
    awkward_text,
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),  # inf, -inf, nan, -0.0 included
    st.dates(),
    st.datetimes(),
    aware,
    st.datetimes(timezones=st.just(UTC)),
    st.decimals(),  # NaN, sNaN, Infinity too: left to psycopg
    st.sampled_from(SAME_INSTANT + ONE_ISH),
)
odd_values = st.sampled_from(
    [Source.IMPORT, Mood.HAPPY, Shout("quiet"), uuid.UUID(int=7), "nul\x00inside", "\ud800"]
)


@st.composite
def columns(draw: Any, width: int) -> list[Any]:
    """A strategy per column: one type (most columns in the bulk paths), one object
    throughout (nation, `now`), or anything at all."""
    kinds = []
    for _ in range(width):
        kind = draw(st.integers(0, 7))
        if kind == 0:
            kinds.append(st.just(draw(plain_values)))  # the same object in every row
        elif kind == 1:
            kinds.append(awkward_text)
        elif kind == 2:
            kinds.append(st.one_of(st.none(), st.text(max_size=5)))
        elif kind == 3:
            kinds.append(st.sampled_from([None, True, False, dt.date(2001, 2, 3)]))
        elif kind == 4:
            kinds.append(plain_values)
        elif kind == 5:
            kinds.append(st.sampled_from(SAME_INSTANT))
        elif kind == 6:
            kinds.append(st.sampled_from(ONE_ISH))
        else:
            kinds.append(st.one_of(plain_values, odd_values))
    return kinds


@st.composite
def tables(draw: Any) -> list[list[Any]]:
    width = draw(st.integers(0, 7))
    kinds = draw(columns(width))
    count = draw(st.integers(0, 12))
    return [[draw(kind) for kind in kinds] for _ in range(count)]


# A small chunk crosses chunk boundaries; a huge _MOST_VARY keeps psycopg from taking over
# chunks where most columns vary, so the fast path itself is what is compared.
chunking = st.tuples(st.sampled_from([1, 3, 2048]), st.sampled_from([0.6, 1000.0]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=tables(), tuning=chunking)
def test_rows_come_out_as_psycopg_writes_them(rows, tuning):
    chunk, most_vary = tuning
    with (
        mock.patch.object(copytext, "_CHUNK", chunk),
        mock.patch.object(copytext, "_MOST_VARY", most_vary),
    ):
        ours = outcome(lambda: PostgresStore().prepare(ANY_TABLE, rows).data)
        tuples = outcome(lambda: PostgresStore().prepare(ANY_TABLE, map(tuple, rows)).data)
    assert ours == outcome(lambda: psycopg_text(rows))
    assert tuples == ours


@st.composite
def shaped_tables(draw: Any) -> tuple[list[list[Any]], list[tuple[int, ...]], list[Any]]:
    """Rows as people.bulk builds them: a copy of the defaults, with the columns of the row's
    shape set; every other column holds the default object itself."""
    width = draw(st.integers(0, 9))
    defaults = [draw(st.one_of(plain_values, st.just(""))) for _ in range(width)]
    kinds = draw(columns(width))
    rows, shapes = [], []
    for _ in range(draw(st.integers(0, 12))):
        shape = tuple(sorted(draw(st.sets(st.integers(0, width - 1))) if width else ()))
        row = defaults.copy()
        for i in shape:
            row[i] = draw(kinds[i])
        rows.append(row)
        shapes.append(shape)
    return rows, shapes, defaults


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=shaped_tables(), tuning=chunking)
def test_rows_with_shapes_come_out_as_psycopg_writes_them(table, tuning):
    rows, shapes, defaults = table
    chunk, most_vary = tuning
    with (
        mock.patch.object(copytext, "_CHUNK", chunk),
        mock.patch.object(copytext, "_MOST_VARY", most_vary),
    ):
        ours = outcome(
            lambda: PostgresStore().prepare(ANY_TABLE, rows, shapes=shapes, defaults=defaults).data
        )
    assert ours == outcome(lambda: psycopg_text(rows))


def test_psycopg_text_has_no_trailer():
    # The old prepare appended formatter.end(): for text COPY that is only what it still
    # buffered, never an end-of-data marker, so the new text needs none either.
    formatter = copytext.copy_formatter()
    assert bytes(formatter.end()) == b""
    formatter.write_row(["a", None])
    assert bytes(formatter.end()) == b"a\t\\N\n"
    assert bytes(formatter.end()) == b""


def test_profiles_of_plain_values_never_reach_psycopg(monkeypatch):
    # The speed is in the fast path: the values the bulk paths write must not fall back.
    now = timezone.now()
    defaults = [None, "", "", None, False, 0, "", None] + [""] * 100
    rows, shapes = [], []
    for n in range(3000):
        row = defaults.copy()
        shape = (0, 1, 2, 4, 7, 50 + n % 5)
        row[0], row[1], row[2], row[4], row[7] = n, f"Zoë {n}", "line\none\\", n % 2 == 0, now
        row[50 + n % 5] = dt.date(1990, 1, 1 + n % 28)
        rows.append(row)
        shapes.append(shape)
    changes = [
        (n, 7, n, "create", Source.IMPORT, None, None, '{"a": "\\"q\\""}', now) for n in range(50)
    ]
    expected = psycopg_text(rows), psycopg_text(changes)

    def refused(*args, **kwargs):
        raise AssertionError("psycopg formatted rows the fast path should have")

    monkeypatch.setattr(copytext, "copy_formatter", refused)
    store = PostgresStore()
    assert store.prepare(ANY_TABLE, rows, shapes=shapes, defaults=defaults).data == expected[0]
    assert store.prepare(ANY_TABLE, changes).data == expected[1]


def test_a_shape_count_that_does_not_match_the_rows_is_an_error():
    with pytest.raises(ValueError, match="shapes"):
        PostgresStore().prepare(ANY_TABLE, [["a"], ["b"]], shapes=[(0,)], defaults=[""])


postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="COPY text is PostgreSQL's"
)

AWKWARD = [
    "tab\there",
    "new\nline",
    "carriage\rreturn",
    "back\\slash",
    "end\\",
    "\\N",
    "\\\\N",
    "N",
    "",
    " ",
    "\b\f\v",
    "Zoë 北京 🙂",
    "%s {} %%",
    "\\t literally",
]


@postgres_only
@pytest.mark.django_db
def test_awkward_text_round_trips_through_copy(nation):
    tags = Table("tags_tag", ("nation_id", "name", "created_at"))
    now = timezone.now()
    store = PostgresStore()
    with transaction.atomic():
        # Shapeless, prepared ahead; and with a shape (only `name` bound), as people.bulk does.
        store.insert(tags, store.prepare(tags, [(nation.pk, name, now) for name in AWKWARD]))
        defaults = [nation.pk, "", now]
        shaped = []
        for name in AWKWARD:
            row = defaults.copy()
            row[1] = f"shaped {name}"
            shaped.append(row)
        prepared = store.prepare(tags, shaped, shapes=[(1,)] * len(shaped), defaults=defaults)
        store.insert(tags, prepared)
    names = set(Tag.objects.filter(nation=nation).values_list("name", flat=True))
    assert names == set(AWKWARD) | {f"shaped {name}" for name in AWKWARD}
    stored = Tag.objects.filter(nation=nation).values_list("created_at", flat=True)
    assert set(stored) == {now}
