"""Reading a CSV file into rows of catalog values, with row-numbered problems (SPEC §8).

Row numbers are the spreadsheet's: the header is row 1, the first person row 2.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tagshare.errors import ValidationFailed
from tagshare.imports import columns
from tagshare.people import catalog, values
from tagshare.tags.services import clean_tag_name

MAX_FIELD_SIZE = 1_000_000


class FileRejected(Exception):
    """The file as a whole cannot be imported; nothing is."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass
class Row:
    number: int
    values: dict[str, Any]
    tags: list[str] = field(default_factory=list)


@dataclass
class RowProblem:
    number: int
    field: str
    message: str


def check_encoding(path: Path) -> None:
    """Refuse a file that is not UTF-8, naming the line of the first bad byte."""
    with path.open("rb") as handle:
        line = 1
        carry = b""
        first = handle.readline(1 << 16)
        if b"\x00" in first:
            # UTF-16 without a byte-order mark decodes as UTF-8 (a NUL between letters), and
            # would be reported as unknown columns named with NULs; no CSV header holds a NUL.
            raise FileRejected(
                "The file is not UTF-8 text: its first line has NUL bytes, so it looks like "
                "UTF-16 ('Unicode text'). Save the file as 'CSV UTF-8' and upload it again."
            )
        handle.seek(0)
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            data = carry + chunk
            try:
                data.decode("utf-8")
                carry = b""
            except UnicodeDecodeError as exc:
                if exc.end >= len(data) - 3 and exc.reason == "unexpected end of data":
                    carry = data[exc.start :]  # a character split across chunks
                    data = data[: exc.start]
                else:
                    line += data[: exc.start].count(b"\n")
                    raise FileRejected(
                        f"The file is not UTF-8 text: byte 0x{data[exc.start]:02x} on line {line} "
                        "cannot be read. Save the file as 'CSV UTF-8' and upload it again."
                    ) from None
            line += data.count(b"\n")
        if carry:
            raise FileRejected("The file is not UTF-8 text: it ends in the middle of a character.")


def read_header(path: Path) -> dict[int, str]:
    """Column index -> target (catalog field, address column, `tag_list` or `id`)."""
    with _open(path) as handle:
        reader = csv.reader(handle, strict=True)
        try:
            header = next(reader)
        except StopIteration:
            raise FileRejected(
                "The file is empty: it needs a header row naming its columns."
            ) from None
        except csv.Error as exc:
            raise FileRejected(f"The header row cannot be read as CSV: {exc}.") from None
    if not any(h.strip() for h in header):
        raise FileRejected(
            "The first row must name the columns (e.g. email, first_name, last_name)."
        )
    mapping: dict[int, str] = {}
    unknown: list[str] = []
    seen: dict[str, str] = {}
    for index, raw in enumerate(header):
        if not raw.strip():
            continue
        target = columns.target_of(raw)
        if target is None:
            unknown.append(f"{raw!r} (column {index + 1})")
            continue
        if target in seen:
            raise FileRejected(
                f"Columns {seen[target]!r} and {raw!r} both mean {target}; keep one of them."
            )
        seen[target] = raw
        mapping[index] = target
    if unknown:
        separator = _other_separator(header)
        if separator is not None:
            raise FileRejected(
                f"The columns are separated by {separator} rather than commas (spreadsheet "
                "programs do this in some countries). Save the file as 'CSV UTF-8 (comma "
                "delimited)' and upload it again."
            )
        raise FileRejected(
            f"Unknown column{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}. Use the field "
            "names of GET /api/v1/fields (addresses as home_address1, home_city, home_zip, …), "
            "or remove the column."
        )
    return mapping


_SEPARATORS = {";": "semicolons", "\t": "tabs", "|": "vertical bars"}


def _other_separator(header: list[str]) -> str | None:
    """How the header is separated when it is one cell that splits, on a separator other than
    the comma, into column names every one of which is known; None otherwise."""
    if len(header) != 1:
        return None
    for separator, name in _SEPARATORS.items():
        parts = [part.strip() for part in header[0].split(separator)]
        if len(parts) > 1 and all(columns.target_of(part) for part in parts if part):
            return name
    return None


def _open(path: Path) -> io.TextIOWrapper:
    # utf-8-sig drops a byte-order mark, which spreadsheet programs like to add.
    return path.open("r", encoding="utf-8-sig", newline="")


def read_rows(path: Path, mapping: dict[int, str]) -> Iterator[Row | RowProblem]:
    """Each data row as a Row of cleaned values, or a RowProblem saying what to fix."""
    csv.field_size_limit(MAX_FIELD_SIZE)
    with _open(path) as handle:
        # Strict: a quote left open at the end of the file is an error, not one last cell
        # holding every line after it (rows that would vanish without a word).
        reader = csv.reader(handle, strict=True)
        width = len(next(reader, None) or ())
        number = 1
        while True:
            number += 1  # one spreadsheet row per record, even if a quoted cell spans lines
            first_line = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                # A quote left open swallows the lines after it: say which, so that no row is
                # lost without the report naming it.
                lines = (
                    f"line {first_line}"
                    if reader.line_num <= first_line
                    else f"lines {first_line} to {reader.line_num} (a quote left open?)"
                )
                yield RowProblem(
                    number,
                    "",
                    f"cannot be read as CSV: {exc}; nothing in {lines} of the file was imported",
                )
                continue
            if not any(c.strip() for c in cells):
                continue  # blank lines are not people
            if len(cells) > width:
                # A cell beyond the header is most often an unquoted comma ("Smith, Jr."),
                # which shifts every value after it: refuse the row rather than import it
                # shifted. Empty cells past the end (spreadsheets add them) are harmless.
                used = len(cells)
                while used > width and not cells[used - 1].strip():
                    used -= 1
                if used > width:
                    yield RowProblem(
                        number,
                        "",
                        f"has {used} cells but the header has {width} columns; quote cells "
                        'that contain commas ("Smith, Jr.")',
                    )
                    continue
            yield parse_cells(number, cells, mapping)


def parse_cells(number: int, cells: list[str], mapping: dict[int, str]) -> Row | RowProblem:
    raw: dict[str, Any] = {}
    addresses: dict[str, dict[str, str]] = {}
    tags: list[str] = []
    for index, target in mapping.items():
        cell = cells[index].strip() if index < len(cells) else ""
        if not cell or target == "id":
            continue  # empty cells never clear data
        if target == columns.TAG_LIST:
            tags.extend(t for t in (p.strip() for p in cell.split(",")) if t)
            continue
        part = columns.address_part(target)
        if part is not None:
            slot, name = part
            addresses.setdefault(slot, {})[name] = cell
        else:
            raw[target] = cell
    raw.update(addresses)
    try:
        cleaned = values.clean_changes(raw)
    except ValidationFailed as exc:
        name, message = next(iter(exc.errors.items()))
        more = f" (and {len(exc.errors) - 1} more)" if len(exc.errors) > 1 else ""
        return RowProblem(number, name, message + more)
    problem = _email_given_twice(number, cleaned)
    if problem is not None:
        return problem
    cleaned_tags: list[str] = []
    for tag in tags:
        try:
            name = clean_tag_name(tag)
        except ValidationFailed as exc:
            return RowProblem(number, columns.TAG_LIST, exc.detail)
        if ":" in name:
            return RowProblem(
                number,
                columns.TAG_LIST,
                f"tag {name!r}: names with ':' belong to tags shared by other nations, which an "
                "import cannot add",
            )
        if name not in cleaned_tags:
            cleaned_tags.append(name)
    if not has_identity(cleaned):
        return RowProblem(
            number,
            "",
            "needs an email, a unique ID, or a first and last name with a birthdate or phone",
        )
    return Row(number, cleaned, cleaned_tags)


def _email_given_twice(number: int, row: dict[str, Any]) -> RowProblem | None:
    """The row's problem if two of its email columns hold one address (in any case). Found
    here, it rejects the row alone; left to the writes, it would refuse the whole batch."""
    seen: dict[str, str] = {}
    for slot in catalog.EMAIL_FIELDS:
        address = row.get(slot)
        if not address:
            continue
        prior = seen.setdefault(values.normalise_email(address), slot)
        if prior != slot:
            return RowProblem(
                number,
                slot,
                f"{catalog.BY_NAME[slot].label}: {address} is the same email as {prior} "
                f"({row[prior]}) in this row; a profile holds each email once, so leave one of "
                "the two cells empty",
            )
    return None


def has_identity(row: dict[str, Any]) -> bool:
    if any(row.get(name) for name in catalog.EMAIL_FIELDS):
        return True
    if any(row.get(name) for name in catalog.UNIQUE_IDS):
        return True
    named = row.get("first_name") and row.get("last_name")
    reachable = row.get("birthdate") or any(
        row.get(p) for p in ("phone", "mobile", "work_phone_number")
    )
    return bool(named and reachable)
