"""A synthetic coalition with known ground truth, for matching and sharing benchmarks.

Two nations hold overlapping populations: about half of the incoming nation's people are also in
the receiving nation, written differently (another email, a reformatted phone, a name in another
case or without accents, a missing birthdate, a typo). Each profile's `note` carries a ground-truth
token (`truth:<k>`), so a match is correct exactly when both notes are equal. Some people in the
receiving nation are true duplicates (two profiles of one person), and households share a phone.
Names come from a large space, as in real voter files, so unrelated people rarely share a name
and a birthdate.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tagshare.people.synthetic import CITIES, FIRST_NAMES, LAST_NAMES, STREETS

SYLLABLES = [
    "an",
    "be",
    "ca",
    "del",
    "er",
    "fa",
    "gi",
    "ho",
    "il",
    "jo",
    "ka",
    "lo",
    "ma",
    "ne",
    "or",
    "pa",
    "qu",
    "ri",
    "sa",
    "to",
    "ul",
    "va",
    "we",
    "xi",
    "yo",
    "za",
    "bra",
    "cle",
    "dri",
    "fro",
    "gla",
    "kri",
    "mon",
    "nor",
    "pel",
    "ros",
    "sta",
    "tri",
    "vin",
    "wal",
]


def _syllable_name(rng: random.Random, parts: int) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(parts)).capitalize()


@dataclass(frozen=True)
class WorldShape:
    receiving: int
    incoming: int
    overlap: float = 0.5  # share of incoming people who also live in the receiving nation
    duplicates: float = 0.01  # receiving people with a second profile (true duplicates)
    households: float = 0.05  # receiving people sharing a phone with a relative


def _base(rng: random.Random, k: int, area: str = "312") -> dict[str, Any]:
    first = rng.choice(FIRST_NAMES) if rng.random() < 0.5 else _syllable_name(rng, 2)
    last = rng.choice(LAST_NAMES) if rng.random() < 0.2 else _syllable_name(rng, 3)
    city, state, county = rng.choice(CITIES)
    return {
        "first_name": first,
        "last_name": last,
        "email1": f"p{k}.{last.lower()[:6]}@example.org".encode("ascii", "ignore").decode(),
        "birthdate": dt.date(1935, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 70)),
        "mobile": f"+1 {area} {200 + k // 10_000 % 800:03d} {k % 10_000:04d}",
        "nbec_guid": f"guid-{k}" if rng.random() < 0.4 else None,
        "home_address": {
            "address1": f"{rng.randrange(1, 9999)} {rng.choice(STREETS)} St",
            "city": city,
            "state": state,
            "county": county,
            "zip": f"{rng.randrange(10000, 99999)}",
        },
        "note": f"truth:{k}",
    }


def _typo(name: str, rng: random.Random) -> str:
    i = rng.randrange(len(name))
    return name[:i] + rng.choice("aeiouxz") + name[i + 1 :]


def _variant(base: dict[str, Any], rng: random.Random, k: int) -> dict[str, Any]:
    """The same person as another nation keeps them: the way shows which rule can match."""
    row = dict(base)
    roll = rng.random()
    if roll < 0.40:  # same email, other case
        row["email1"] = base["email1"].upper()
        row["nbec_guid"] = None
    elif roll < 0.55 and base["nbec_guid"]:  # another email, the voter GUID
        row["email1"] = f"other{k}@example.net"
    elif roll < 0.75:  # another email, the name written differently, same birthdate
        row["email1"] = f"other{k}@example.net"
        row["nbec_guid"] = None
        row["first_name"] = base["first_name"].upper()
        row["last_name"] = base["last_name"].lower()
        row.pop("mobile")
    elif roll < 0.90:  # another email, no birthdate, the mobile written differently
        row["email1"] = f"other{k}@example.net"
        row["nbec_guid"] = None
        row["birthdate"] = None
        digits = "".join(c for c in base["mobile"] if c.isdigit())[-10:]
        row["phone"] = f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
        row.pop("mobile")
    else:  # another email and a typo in the last name: no rule of the seed can match it
        row["email1"] = f"other{k}@example.net"
        row["nbec_guid"] = None
        row["last_name"] = _typo(base["last_name"], rng)
        row.pop("mobile")
    return row


def receiving_people(shape: WorldShape, seed: int = 7) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    for k in range(shape.receiving):
        base = _base(rng, k)
        if rng.random() < 0.2:
            base["birthdate"] = None
        yield base
        if rng.random() < shape.duplicates:  # a second profile of the same person, no email
            yield {
                **base,
                "email1": None,
                "nbec_guid": None,
                "mobile": None,
                "birthdate": base["birthdate"] or dt.date(1970, 1, 1),
            }
        if rng.random() < shape.households:  # a relative at the same landline
            yield {
                "first_name": _syllable_name(rng, 2),
                "last_name": base["last_name"],
                "email1": f"rel{k}@example.org",
                "phone": base["mobile"],
                "note": f"truth:rel{k}",
            }


def incoming_people(shape: WorldShape, seed: int = 7) -> Iterator[dict[str, Any]]:
    """`overlap` of them are receiving people k < receiving; the rest are new to it."""
    base_rng = random.Random(seed)  # replays receiving_people's draws to rebuild the bases
    rng = random.Random(seed + 1)
    overlapping = int(shape.incoming * shape.overlap)
    for k in range(min(overlapping, shape.receiving)):
        base = _base(base_rng, k)
        if base_rng.random() < 0.2:
            pass  # the receiving copy lost its birthdate; this nation still has it
        if base_rng.random() < shape.duplicates:
            pass
        if base_rng.random() < shape.households:
            _syllable_name(base_rng, 2)
        yield _variant(base, rng, k)
    fresh_rng = random.Random(seed + 2)
    for j in range(shape.incoming - overlapping):
        k = 10**9 + j
        yield _base(fresh_rng, k, area="415")  # another area code: no phone shared by chance
