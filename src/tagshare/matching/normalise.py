"""Normalisation for matching (SPEC §4): the keys two profiles are compared on.

Pure functions, no database: the write path stores these keys, imports compute them for rows.
"""

from __future__ import annotations

import datetime as dt
import re
import string
import unicodedata
from functools import lru_cache

import phonenumbers


def email_key(email: str | None) -> str:
    return (email or "").strip().lower()


_ASCII_PUNCTUATION = str.maketrans("", "", string.punctuation)


def name_key(name: str | None) -> str:
    """Case-folded, accents and punctuation stripped, white space collapsed: "Zoë  O'Brien" -> "zoe obrien"."""
    if not name:
        return ""
    if name.isascii():
        # The same rule for plain ASCII, without the per-character loop: NFKD changes nothing,
        # and ASCII's punctuation and symbols are exactly string.punctuation (a test checks).
        return " ".join(name.lower().translate(_ASCII_PUNCTUATION).split())
    return unicode_name_key(name)


def unicode_name_key(name: str) -> str:
    """name_key for any text, character by character (the rule; ASCII takes a shortcut)."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    kept = []
    for char in decomposed:
        category = unicodedata.category(char)
        if category.startswith("M"):  # combining accents
            continue
        if category.startswith(("P", "S")):  # punctuation and symbols vanish: O'Brien -> obrien
            continue
        kept.append(" " if char.isspace() else char)
    return " ".join("".join(kept).split())


# The North American Numbering Plan: a ten-digit national number whose area code starts 2-9.
_NANP_REGIONS = frozenset(phonenumbers.COUNTRY_CODE_TO_REGION_CODE[1])
_FORMATTING = str.maketrans("", "", " ()-.")
_NANP_NATIONAL = re.compile(r"[2-9][0-9]{9}")


@lru_cache(maxsize=65536)
def phone_key(phone: str | None, region: str = "US") -> str:
    """E.164 in the nation's default region; "" when it cannot be read (it then takes no part)."""
    if not phone or not phone.strip():
        return ""
    if region in _NANP_REGIONS:
        # Most numbers of a North American file are ten digits, maybe after +1, in spaces,
        # brackets, dashes or dots: read those here, 20 times faster than the library (which
        # gives the same answer: a test checks). Anything else (letters, an extension, a
        # leading 1 without +, another country) is the library's to read.
        digits = phone.translate(_FORMATTING)
        if digits.startswith("+1"):
            digits = digits[2:]
        if _NANP_NATIONAL.fullmatch(digits) and len(phone) <= 64:
            return "+1" + digits
    return library_phone_key(phone, region)


def library_phone_key(phone: str, region: str) -> str:
    """phone_key as the phonenumbers library reads it (every number phone_key does not)."""
    try:
        parsed = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException:
        return ""
    # "Possible" (right length for the country), not "valid": real data has unassigned ranges.
    if not phonenumbers.is_possible_number(parsed):
        return ""
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def date_key(value: dt.date | str | None) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        return None


# Columns on Person holding the stored match keys, and the catalog fields each is derived from.
KEY_SOURCES: dict[str, str] = {
    "first_key": "first_name",
    "last_key": "last_name",
    "phone_key": "phone",
    "mobile_key": "mobile",
    "work_phone_key": "work_phone_number",
}
PHONE_KEY_COLUMNS = ("phone_key", "mobile_key", "work_phone_key")


def match_keys(values: dict[str, object], region: str) -> dict[str, str]:
    """The stored match keys for a profile's values (missing fields give "")."""
    return {
        column: match_key(column, values.get(source), region)
        for column, source in KEY_SOURCES.items()
    }


def match_key(column: str, raw: object, region: str) -> str:
    """One stored match key: it depends on its own source field only (and the region)."""
    text = raw if isinstance(raw, str) else ""
    return phone_key(text, region) if column in PHONE_KEY_COLUMNS else name_key(text)
