"""COPY text for PostgreSQL made here, byte for byte what psycopg's TextFormatter writes.

psycopg's TextFormatter adapts each value of each row: in C, but a dumper lookup and call per
value, and a profile has 112 columns, most of them left to their defaults. That was a fifth
of a bulk import's main thread. Here rows are formatted a column at a time, a chunk of rows
at once, with Python's own C loops (map, zip, join) rather than a Python loop per value:
- the columns no row binds (outside every shape) hold their defaults: formatted once;
- a column that holds one object throughout the chunk (nation, `now`, False): formatted once;
- the others, converted as psycopg's dumpers do: texts kept as they are (one check of the
  column for anything to escape), None as \\N, bools as t/f, numbers and dates as str().
Then each line is its column texts joined with the constant text between them. A row per
shape was tried first: with blanks, a batch holds thousands of shapes, and it was slower.
Whatever this does not know for sure (another type, text with NUL) psycopg formats, for the
rows that hold it: the output never depends on the fast path, and tests (test_copy_text.py)
compare its bytes with psycopg's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from datetime import date, datetime
from decimal import Decimal
from itertools import repeat
from operator import is_, itemgetter
from typing import Any


def copy_formatter() -> Any:
    """psycopg's own COPY text formatting, with no connection behind it.

    Formatting runs on the caller's thread while the background thread uses the connection,
    and libpq is not safe for two threads at once: a formatter made from the connection would
    read its parameters (the client encoding) from the live connection object. The rows the
    bulk paths write hold plain values (text, numbers, booleans, dates, JSON already as text)
    that the default adapters format exactly as the connection's do, in UTF-8, which is what
    Django's connections use; a test checks the two agree.
    """
    from psycopg._copy_base import TextFormatter
    from psycopg.adapt import Transformer

    return TextFormatter(Transformer(), encoding="utf-8")


_CHUNK = 2048  # rows formatted together (one emoji makes a str 4 bytes a character)
_MOST_VARY = 0.6  # past this share of a row's columns varying, psycopg formats the rows
_NONE = type(None)
_PLAIN_TYPES = frozenset({str, int, float, date, datetime, bool, _NONE})  # exact types
_NULL = {None: "\\N"}
_NULL_OR_BOOL = {None: "\\N", False: "f", True: "t"}  # for columns with no number (1 == True)
_ESCAPES = (  # psycopg's (_copy_base._dump_repl): PostgreSQL's COPY escapes; backslash first
    ("\\", "\\\\"),
    ("\t", "\\t"),
    ("\n", "\\n"),
    ("\r", "\\r"),
    ("\b", "\\b"),
    ("\f", "\\f"),
    ("\v", "\\v"),
)
_STR_LIKE: dict[type, bool] = {}


class _NotMine(Exception):
    """A value the fast path leaves to psycopg."""


def copy_text(
    rows: list[Sequence[Any]],
    shapes: Sequence[tuple[int, ...]] | None,
    defaults: Sequence[Any] | None,
) -> bytes:
    """The rows as COPY text, byte for byte what psycopg's TextFormatter (copy_formatter)
    writes for them; `shapes` and `defaults` as PostgresStore.prepare takes them."""
    if shapes is not None and len(shapes) != len(rows):
        raise ValueError(f"{len(rows)} rows but {len(shapes)} shapes")
    widths = set(map(len, rows))
    if len(widths) > 1:  # rows of no one table: psycopg's to format (or to fail at)
        return _psycopg_text(rows)
    width = widths.pop() if widths else 0
    constants = _constant_columns(width, shapes, defaults)
    varying = [i for i in range(width) if i not in constants]
    try:
        return b"".join(
            _chunk_text(rows[start : start + _CHUNK], width, varying, constants)
            for start in range(0, len(rows), _CHUNK)
        )
    except UnicodeEncodeError:
        # Text UTF-8 cannot hold (a lone surrogate): psycopg's error, from the row it is in.
        return _psycopg_text(rows)


def _psycopg_text(rows: Iterable[Sequence[Any]]) -> bytes:
    formatter = copy_formatter()
    data = bytearray()
    for row in rows:
        data += formatter.write_row(row)
    data += formatter.end()  # for text, what is buffered: COPY text has no trailer
    return bytes(data)


def _constant_columns(
    width: int, shapes: Sequence[tuple[int, ...]] | None, defaults: Sequence[Any] | None
) -> dict[int, str]:
    """The text of each column no row's shape binds: its default, formatted once."""
    if shapes is None or defaults is None or len(defaults) != width:
        return {}
    bound: set[int] = set().union(*set(shapes))
    if not all(isinstance(i, int) and 0 <= i < width for i in bound):
        return {}  # not shapes of these rows: every column as the rows hold it
    constants = {}
    for i in range(width):
        if i not in bound:
            with suppress(Exception):  # else psycopg's, in every row (it may well refuse it)
                constants[i] = _field(defaults[i])
    return constants


def _chunk_text(
    rows: list[Sequence[Any]], width: int, varying: list[int], constants: dict[int, str]
) -> bytes:
    texts: dict[int, str | Sequence[str]] = dict(constants)  # a column's text, or its rows'
    for i in varying:
        first = rows[0][i]
        # One object throughout the chunk (nation, `now`): its text once. (A column that
        # varies is found out within a few rows.)
        if all(map(is_, map(itemgetter(i), rows), repeat(first))):
            with suppress(Exception):  # else value by value, below
                texts[i] = _field(first)
    changing = [i for i in varying if i not in texts]
    if len(changing) > width * _MOST_VARY + 2:
        # Most columns vary (a profile of every field): psycopg's loop in C is then quicker
        # than a column at a time, which costs about twice as much a value.
        return _psycopg_text(rows)
    refused: set[int] = set()  # rows psycopg formats
    if len(changing) == width:
        columns = zip(*rows, strict=True)
    else:
        columns = zip(*map(row_picker(changing), rows), strict=True)
    for i, column in zip(changing, columns, strict=True):
        texts[i] = _column_texts(column, refused)
    # Each line: the column texts with the constant text (tabs, constant columns) between.
    pieces: list[Iterable[str]] = []
    between = ""
    for i in range(width):
        text = texts[i]
        end = "\t" if i < width - 1 else "\n"
        if isinstance(text, str):
            between += text + end
        else:
            if between:
                pieces.append(repeat(between))
            pieces.append(text)
            between = end
    if not pieces:  # no column varies: every line the same
        lines = [between or "\n"] * len(rows)
    else:
        pieces.append(repeat(between))
        lines = list(map("".join, zip(*pieces, strict=False)))  # `repeat`s end with the rest
    out = []
    done = 0
    formatter: Any = None
    for n in sorted(refused):
        out.append("".join(lines[done:n]).encode())
        formatter = formatter or copy_formatter()
        out.append(bytes(formatter.write_row(rows[n])) + bytes(formatter.end()))
        done = n + 1
    out.append("".join(lines[done:]).encode())
    return b"".join(out)


def _column_texts(column: tuple[Any, ...], refused: set[int]) -> Sequence[str]:
    """A column's values as COPY text; the rows of values left to psycopg go in `refused`."""
    try:
        texts = _plain_column_texts(column)
    except Exception:  # a conversion psycopg may do otherwise (or refuse): value by value
        texts = None
    if texts is not None:
        return texts
    texts = []
    for n, value in enumerate(column):
        try:
            texts.append(_field(value))
        except Exception:
            refused.add(n)
            texts.append("")
    return texts


def _plain_column_texts(column: tuple[Any, ...]) -> Sequence[str] | None:
    """A column of plain values (texts, numbers, bools, dates, None) as COPY text, converted a
    column at a time; None for anything else."""
    types = set(map(type, column))
    if not types <= _PLAIN_TYPES:
        return None
    texts: Sequence[Any] = column
    if types != {str}:
        if datetime in types:
            # str() of a datetime costs a microsecond, and a batch's rows share one `now`:
            # once an object. (By identity: equal datetimes may differ in offset, so in text.)
            objects = dict(zip(map(id, column), column, strict=True))
            known = {key: str(value) for key, value in objects.items() if type(value) is datetime}
            texts = list(map(known.get, map(id, column), column))
        texts = list(map(str, texts))  # None and bools too, for now: no escapes in those
    if _needs_care("".join(texts)):
        joined = "\x00".join(texts)
        if joined.count("\x00") != len(texts) - 1:
            return None  # a text holds NUL: psycopg refuses it, with its own error
        texts = _escape(joined).split("\x00")
    if bool in types:
        if int in types or float in types:
            return None  # a dict would take 1 for True
        texts = list(map(_NULL_OR_BOOL.get, column, texts))  # by the value: its text or t/f/\N
    elif _NONE in types:
        texts = list(map(_NULL.get, column, texts))
    return texts


def _field(value: Any) -> str:
    """One value as COPY text, as psycopg's TextFormatter writes it; _NotMine if not sure."""
    cls = value.__class__
    if cls is str:
        if not _needs_care(value):
            return value
        if "\x00" in value:
            raise _NotMine  # psycopg refuses it, with its own error
        return _escape(value)
    if value is None:
        return "\\N"
    if cls is bool:
        return "t" if value else "f"
    if cls in _PLAIN_TYPES:
        # What psycopg's dumpers write for exactly these types (a subclass may have its own
        # __str__ or dumper): str(value). The repr of an int or a float (inf, -inf and nan,
        # which PostgreSQL reads), ISO of a date, ISO with a space (and the offset of an aware
        # one) of a datetime.
        return str(value)
    if cls is Decimal:
        if not value.is_finite():
            # psycopg's C and Python dumpers spell NaN (-NaN, sNaN) differently: its own.
            raise _NotMine
        return str(value)
    if _dumped_as_str(cls):  # a TextChoices member, say: psycopg writes its text
        return _field(str.__str__(value))
    raise _NotMine


def _needs_care(text: str) -> bool:
    """Whether COPY text escapes a character of this (or psycopg refuses one: NUL). One `in`
    each: a regular expression's search took ten times as long."""
    return (
        "\\" in text
        or "\t" in text
        or "\n" in text
        or "\r" in text
        or "\x00" in text
        or "\b" in text
        or "\f" in text
        or "\v" in text
    )


def _escape(text: str) -> str:
    # `replace` for what is there, not str.translate: that looks up every character in a
    # dict once the text is not ASCII.
    for char, escaped in _ESCAPES:
        if char in text:
            text = text.replace(char, escaped)
    return text


def _dumped_as_str(cls: type) -> bool:
    """Whether psycopg writes values of this class as the text they hold: a str subclass
    whose dumper (found through its MRO) is str's, not one of its own (an Enum's, say)."""
    known = _STR_LIKE.get(cls)
    if known is None:
        known = False
        if issubclass(cls, str) and cls.encode is str.encode:  # psycopg's Python dumper encodes
            from psycopg import adapters
            from psycopg.adapt import PyFormat

            try:
                known = adapters.get_dumper(cls, PyFormat.TEXT) is adapters.get_dumper(
                    str, PyFormat.TEXT
                )
            except Exception:  # no dumper at all: psycopg's error, for the row
                known = False
        _STR_LIKE[cls] = known
    return known


def row_picker(columns: Sequence[int]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """A function giving a row's values at `columns`, always as a tuple (itemgetter gives
    one value for one column, and needs at least one)."""
    if not columns:
        return lambda row: ()
    if len(columns) == 1:
        (only,) = columns
        return lambda row: (row[only],)
    return itemgetter(*columns)
