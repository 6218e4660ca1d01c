"""Catalog-driven profile fields for the panel: the edit form's inputs and the values' display.

Validation is not done here: the posted text goes to people.services, whose per-field errors
are put back beside the inputs. This module only turns values into text and text back into
the raw values the services take.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict

from tagshare.people import catalog, values
from tagshare.people.catalog import ADDRESS_PARTS, FieldSpec, Kind
from tagshare.people.models import Person, Source

# Catalog groups in catalog order: the order a profile reads in.
GROUPS: tuple[str, ...] = tuple(dict.fromkeys(spec.group for spec in catalog.FIELDS))

SUPPORT_LEVELS = {
    1: "1 (strong support)",
    2: "2 (support)",
    3: "3 (undecided)",
    4: "4 (opposition)",
    5: "5 (strong opposition)",
}
SEX_LABELS = {"M": "Male", "F": "Female", "O": "Other"}
PART_LABELS = {
    "address1": "Street",
    "address2": "Line 2",
    "address3": "Line 3",
    "city": "City",
    "county": "County",
    "state": "State",
    "zip": "ZIP",
    "country_code": "Country",
}
FLAG_FIELDS = ("is_supporter", "is_prospect")
# Marks a POST that carries the supporter/prospect checkboxes (unchecked boxes send nothing).
FLAGS_MARKER = "_flags"

FormValue = str | dict[str, str]


def group_title(group: str) -> str:
    return group[:1].upper() + group[1:]


# --- display -------------------------------------------------------------------------------


def display_text(spec: FieldSpec | None, value: Any) -> str:
    """A stored or history (JSON) value as a person reads it; "" when blank."""
    if values.is_blank(value):
        return ""
    if isinstance(value, dict):
        return format_address(value, one_line=True)
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if spec is not None and spec.name == "support_level":
        return SUPPORT_LEVELS.get(_as_int(value), str(value))
    if spec is not None and spec.name == "sex":
        return SEX_LABELS.get(str(value), str(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def format_address(address: Mapping[str, Any], *, one_line: bool = False) -> str:
    """Postal layout: street lines, "City, STATE ZIP", then county and country."""
    part = {k: str(address.get(k) or "").strip() for k in ADDRESS_PARTS}
    lines = [part["address1"], part["address2"], part["address3"]]
    locality = part["city"]
    region = " ".join(p for p in (part["state"], part["zip"]) if p)
    lines.append(f"{locality}, {region}" if locality and region else locality or region)
    lines += [part["county"], part["country_code"]]
    kept = [line for line in lines if line]
    return ", ".join(kept) if one_line else "\n".join(kept)


@dataclass
class ShownField:
    spec: FieldSpec
    text: str
    href: str = ""
    multiline: bool = False


@dataclass
class ShownGroup:
    title: str
    fields: list[ShownField]


def profile_groups(person: Person) -> list[ShownGroup]:
    """The profile's non-blank fields, grouped as the catalog groups them."""
    groups: list[ShownGroup] = []
    for group in GROUPS:
        shown: list[ShownField] = []
        for spec in catalog.FIELDS:
            if spec.group != group:
                continue
            value = values.read(person, spec.name)
            if values.is_blank(value):
                continue
            shown.append(_shown(spec, value))
        if shown:
            groups.append(ShownGroup(group_title(group), shown))
    return groups


def _shown(spec: FieldSpec, value: Any) -> ShownField:
    if spec.kind is Kind.ADDRESS:
        return ShownField(spec, format_address(value), multiline=True)
    text = display_text(spec, value)
    if spec.kind is Kind.EMAIL:
        return ShownField(spec, text, href=f"mailto:{text}")
    if spec.kind is Kind.PHONE:
        dial = "".join(c for c in text if c.isdigit() or c == "+")
        return ShownField(spec, text, href=f"tel:{dial}")
    if spec.kind is Kind.URL:
        return ShownField(spec, text, href=text if "://" in text else f"https://{text}")
    return ShownField(spec, text, multiline=spec.kind is Kind.LONG_TEXT)


def field_label(name: str) -> str:
    spec = catalog.BY_NAME.get(name)
    return spec.label if spec else name


def source_label(source: str) -> str:
    try:
        return str(Source(source).label)
    except ValueError:
        return source


def _as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


# --- the edit form ---------------------------------------------------------------------------


@dataclass
class AddressInput:
    part: str
    label: str
    name: str
    value: str


@dataclass
class FieldInput:
    spec: FieldSpec
    value: FormValue
    error: str = ""
    choices: list[tuple[str, str]] = field(default_factory=list)
    parts: list[AddressInput] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def filled(self) -> bool:
        if isinstance(self.value, dict):
            return any(v.strip() for v in self.value.values())
        return bool(self.value.strip())

    @property
    def widget(self) -> str:
        """Which control the template draws."""
        kind = self.spec.kind
        if kind is Kind.ADDRESS:
            return "address"
        if kind is Kind.LONG_TEXT:
            return "textarea"
        if self.choices:
            return "select"
        return "input"

    @property
    def input_type(self) -> str:
        return {
            Kind.EMAIL: "email",
            Kind.PHONE: "tel",
            Kind.DATE: "date",
        }.get(self.spec.kind, "text")


@dataclass
class FormGroup:
    title: str
    fields: list[FieldInput]


def form_text(spec: FieldSpec, value: Any) -> FormValue:
    """A stored value as the text its input shows."""
    if spec.kind is Kind.ADDRESS:
        return {part: str((value or {}).get(part) or "") for part in ADDRESS_PARTS}
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def initial_values(person: Person | None) -> dict[str, FormValue]:
    return {
        spec.name: form_text(spec, values.read(person, spec.name) if person else None)
        for spec in catalog.FIELDS
    }


def posted_values(post: QueryDict, initial: Mapping[str, FormValue]) -> dict[str, FormValue]:
    """The form's values as posted; a field the POST leaves out keeps its initial value."""
    posted: dict[str, FormValue] = {}
    for spec in catalog.FIELDS:
        if spec.kind is Kind.ADDRESS:
            columns = catalog.address_columns(spec.name)
            before = initial[spec.name]
            assert isinstance(before, dict)
            posted[spec.name] = {
                part: _one_line(str(post.get(column, before[part])))
                for part, column in columns.items()
            }
        elif spec.name in post:
            posted[spec.name] = _newlines(str(post[spec.name]))
        else:
            posted[spec.name] = initial[spec.name]
    return posted


def _newlines(text: str) -> str:
    # Browsers send a textarea's line breaks as CRLF; stored text uses LF.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _one_line(text: str) -> str:
    return " ".join(_newlines(text).split("\n"))


def changed_values(
    initial: Mapping[str, FormValue], posted: Mapping[str, FormValue]
) -> dict[str, Any]:
    """Only what the user changed, so untouched fields are neither rewritten nor re-validated
    (and a concurrent edit of another field is not overwritten with this form's stale copy)."""
    changes: dict[str, Any] = {}
    for name, value in posted.items():
        before = initial[name]
        if isinstance(value, dict):
            assert isinstance(before, dict)
            if {k: v.strip() for k, v in value.items()} != before:
                changes[name] = value
        elif value.strip() != before:
            changes[name] = value
    return changes


def posted_flags(post: QueryDict) -> dict[str, bool] | None:
    if FLAGS_MARKER not in post:
        return None
    return {name: name in post for name in FLAG_FIELDS}


def form_groups(
    current: Mapping[str, FormValue], errors: Mapping[str, str] | None = None
) -> list[FormGroup]:
    errors = errors or {}
    groups: list[FormGroup] = []
    for group in GROUPS:
        inputs = [
            _input(spec, current[spec.name], errors.get(spec.name, ""))
            for spec in catalog.FIELDS
            if spec.group == group
        ]
        groups.append(FormGroup(group_title(group), inputs))
    return groups


def _input(spec: FieldSpec, value: FormValue, error: str) -> FieldInput:
    item = FieldInput(spec=spec, value=value, error=error)
    if spec.kind is Kind.ADDRESS:
        assert isinstance(value, dict)
        item.parts = [
            AddressInput(part, PART_LABELS[part], column, value.get(part, ""))
            for part, column in catalog.address_columns(spec.name).items()
        ]
    elif spec.kind is Kind.BOOL:
        item.choices = [("", "Not set"), ("true", "Yes"), ("false", "No")]
    elif spec.kind is Kind.CHOICE:
        item.choices = [("", "Not set")] + [(c, SEX_LABELS.get(c, c)) for c in spec.choices]
    elif spec.name == "support_level":
        item.choices = [("", "Not set")] + [(str(k), v) for k, v in SUPPORT_LEVELS.items()]
    if item.choices and isinstance(value, str) and value not in dict(item.choices):
        # A stored value the choices don't list must still show, or saving would blank it.
        item.choices.append((value, value))
    return item
