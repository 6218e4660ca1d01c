"""Reading, cleaning and comparing catalog values (SPEC §2.1).

A value is what the API, CSV and sync exchange for one catalog field: text, a date, a bool, an
int, or for an address slot a dict of its eight parts. Blank means null, "" or an all-empty address.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from itertools import compress
from operator import attrgetter, ne
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import EmailValidator, URLValidator

from tagshare.errors import ValidationFailed
from tagshare.people import catalog
from tagshare.people.catalog import ADDRESS_PARTS, FieldSpec, Kind

Value = Any
# The kinds as module constants: reading an enum member off its class (`Kind.DATE`) goes through
# a descriptor, and `clean_value` and `read` run for every cell of a million-row import.
_ADDRESS, _DATE, _BOOL, _INT = Kind.ADDRESS, Kind.DATE, Kind.BOOL, Kind.INT
_EMAIL, _PHONE, _CHOICE, _URL = Kind.EMAIL, Kind.PHONE, Kind.CHOICE, Kind.URL
Address = dict[str, str]

_email_validator = EmailValidator()
MAX_EMAIL_LENGTH = 254  # RFC 5321's limit, and the email index column's width
# Most addresses of a file: a dot-atom of letters, digits and _+- before the @, host labels that
# start and end with a letter or digit, a TLD of letters. Every address this matches is one
# Django's EmailValidator accepts (a property test checks), and matching it is several times
# cheaper; the others go through the validator.
PLAIN_EMAIL = re.compile(
    r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
_url_validator = URLValidator(schemes=["http", "https"])
_PHONE_CHARS = re.compile(r"^[0-9+\-().\s/xXextEXT#*]+$")
_TRUE = {"1", "true", "yes", "y", "t", "on"}
_FALSE = {"0", "false", "no", "n", "f", "off"}


def empty_address() -> Address:
    return dict.fromkeys(ADDRESS_PARTS, "")


def is_blank(value: Value) -> bool:
    if value is None or value == "":
        return True
    if isinstance(value, dict):  # an address: blank when every part is
        for part in value.values():  # noqa: SIM110 - a loop, not all(): run for every import row
            if part and str(part).strip():
                return False
        return True
    return False


def clean_value(spec: FieldSpec, raw: Value) -> Value:
    """Return the stored form of `raw` for `spec`, or raise ValueError saying what to fix."""
    if spec.kind is _ADDRESS:
        return _clean_address(raw)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return _blank_for(spec)
    if spec.kind is _DATE:
        return _clean_date(raw)
    if spec.kind is _BOOL:
        return _clean_bool(raw)
    if spec.kind is _INT:
        return _clean_int(spec, raw)
    if not _textual(raw):
        raise ValueError("expected text")
    text = str(raw).strip()
    if "\x00" in text:
        raise ValueError("contains a NUL character; remove it")
    if spec.kind is _CHOICE:
        # Before the length check: "male" is a value outside the choices, and the message
        # must name them, not the one-character limit they share.
        text = text.upper()
        if text not in spec.choices:
            raise ValueError(f"must be one of {', '.join(spec.choices)}")
        return text
    if len(text) > spec.max_length:
        raise ValueError(f"is longer than {spec.max_length} characters")
    if spec.kind is _EMAIL:
        if len(text) > MAX_EMAIL_LENGTH:
            raise ValueError(
                f"is longer than {MAX_EMAIL_LENGTH} characters (the most an address can have)"
            )
        if not PLAIN_EMAIL.fullmatch(text):  # the plain ones pass Django's check: skip it
            try:
                _email_validator(text)
            except DjangoValidationError:
                raise ValueError(f"{text!r} is not a valid email address") from None
    elif spec.kind is _PHONE:
        if not _PHONE_CHARS.match(text) or not any(c.isdigit() for c in text):
            raise ValueError(f"{text!r} is not a phone number")
    elif spec.kind is _URL:
        candidate = text if "://" in text else f"https://{text}"
        try:
            _url_validator(candidate)
        except DjangoValidationError:
            raise ValueError(f"{text!r} is not a web address") from None
    return text


def _textual(raw: Value) -> bool:
    """Text, or a whole number taken as its digits (an ID, a zip code). Not true or false: they
    are ints to Python, and would be stored as the words "True" and "False"."""
    return isinstance(raw, str) or (isinstance(raw, int) and not isinstance(raw, bool))


def _blank_for(spec: FieldSpec) -> Value:
    if spec.kind in (_DATE, _BOOL, _INT) or spec.unique:
        return None
    return ""


def _clean_date(raw: Value) -> dt.date:
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    try:
        return dt.date.fromisoformat(str(raw).strip())
    except ValueError:
        raise ValueError(f"{raw!r} is not a date; use YYYY-MM-DD") from None


def _clean_bool(raw: Value) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{raw!r} is not true or false")


def _clean_int(spec: FieldSpec, raw: Value) -> int:
    if isinstance(raw, bool):
        raise ValueError("expected a whole number")
    try:
        number = int(str(raw).strip())
    except ValueError:
        raise ValueError(f"{raw!r} is not a whole number") from None
    if spec.min_value is not None and number < spec.min_value:
        raise ValueError(f"must be between {spec.min_value} and {spec.max_value}")
    if spec.max_value is not None and number > spec.max_value:
        raise ValueError(f"must be between {spec.min_value} and {spec.max_value}")
    return number


def _clean_address(raw: Value) -> Address:
    if raw is None or raw == "":
        return empty_address()
    if not isinstance(raw, dict):
        raise ValueError(f"an address is an object with parts {', '.join(ADDRESS_PARTS)}")
    unknown = sorted(set(raw) - set(ADDRESS_PARTS))
    if unknown:
        raise ValueError(
            f"unknown address part(s) {', '.join(unknown)}; use {', '.join(ADDRESS_PARTS)}"
        )
    out = empty_address()
    for part, value in raw.items():
        if value is None:
            continue
        if not _textual(value):
            raise ValueError(f"address part {part} must be text")
        text = str(value).strip()
        if "\x00" in text:
            raise ValueError(f"address part {part} contains a NUL character; remove it")
        if len(text) > 120:
            raise ValueError(f"address part {part} is longer than 120 characters")
        out[part] = text.upper() if part == "country_code" else text
    return out


def clean_changes(raw: dict[str, Value]) -> dict[str, Value]:
    """Clean a mapping of catalog field -> value; every problem is reported at once, per field."""
    errors: dict[str, str] = {}
    cleaned: dict[str, Value] = {}
    for name, value in raw.items():
        spec = catalog.BY_NAME.get(name)
        if spec is None:
            errors[name] = unknown_field_message(name)
            continue
        try:
            cleaned[name] = clean_value(spec, value)
        except ValueError as exc:
            errors[name] = f"{spec.label}: {exc}"
    if errors:
        raise ValidationFailed(_summary(errors), errors=errors)
    return cleaned


def unknown_field_message(name: str) -> str:
    if re.fullmatch(r"email\d+", name):
        return (
            f"Unknown field {name!r}: a person has at most {catalog.MAX_EMAILS} emails "
            "(email1 to email4)."
        )
    return f"Unknown field {name!r}. GET /api/v1/fields lists the fields a person has."


def _summary(errors: dict[str, str]) -> str:
    if len(errors) == 1:
        return next(iter(errors.values()))
    return "Some fields are not valid: " + "; ".join(errors.values())


def read(person: Any, name: str) -> Value:
    """The current value of catalog field `name` on a Person."""
    spec = catalog.BY_NAME[name]
    if spec.kind is _ADDRESS:
        return {
            part: getattr(person, column) or ""
            for part, column in catalog.address_columns(name).items()
        }
    return getattr(person, name)


class StoredColumns:
    """The stored columns of some fields, read off two profiles at once to find the fields
    that may differ. Fields whose columns are equal hold the same value; a field it names may
    still be `same` (a blank stored as null on one and "" on the other), which `same` decides.
    For a sync batch this is the first sieve: most fields of most pairs are equal."""

    def __init__(self, names: list[str]) -> None:
        columns: list[str] = []
        self._owners: list[str] = []
        for name in names:
            spec = catalog.BY_NAME[name]
            own = list(catalog.address_columns(name).values()) if spec.is_address else [name]
            columns.extend(own)
            self._owners.extend([name] * len(own))
        getter = attrgetter(*columns)
        self._read: Callable[[Any], tuple[Any, ...]] = (
            getter if len(columns) > 1 else lambda person: (getter(person),)
        )

    def differing(self, a: Any, b: Any) -> list[str]:
        """The fields whose stored columns differ, in the order given."""
        return list(dict.fromkeys(compress(self._owners, map(ne, self._read(a), self._read(b)))))


def write(person: Any, name: str, value: Value) -> None:
    spec = catalog.BY_NAME[name]
    if spec.kind is _ADDRESS:
        for part, column in catalog.address_columns(name).items():
            setattr(person, column, value.get(part, "") if value else "")
    else:
        setattr(person, name, value)


def same(a: Value, b: Value) -> bool:
    """Equal as stored values; blanks of any form are equal to each other."""
    if is_blank(a) and is_blank(b):
        return True
    return to_json(a) == to_json(b)


def to_json(value: Value) -> Value:
    """A JSON-safe form (dates as ISO strings) for history, events and the API."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: value.get(k, "") for k in ADDRESS_PARTS}
    return value


def normalise_email(email: str) -> str:
    return email.strip().lower()
