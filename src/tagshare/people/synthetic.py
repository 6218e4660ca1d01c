"""Realistic synthetic people for the demo, tests and benchmarks (seeded, so reproducible).

Rows are plain dicts of catalog values, as the API, CSV import and bulk path take them.
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from collections.abc import Iterator
from typing import Any

FIRST_NAMES = [
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Christopher",
    "Lisa",
    "Daniel",
    "Nancy",
    "Matthew",
    "Betty",
    "Anthony",
    "Margaret",
    "Mark",
    "Sandra",
    "Donald",
    "Ashley",
    "Steven",
    "Kimberly",
    "Paul",
    "Emily",
    "Andrew",
    "Donna",
    "Joshua",
    "Michelle",
    "Kenneth",
    "Carol",
    "Kevin",
    "Amanda",
    "Brian",
    "Dorothy",
    "George",
    "Melissa",
    "Timothy",
    "Deborah",
    "Ronald",
    "Stephanie",
    "Edward",
    "Rebecca",
    "Jason",
    "Sharon",
    "Jeffrey",
    "Laura",
    "Ryan",
    "Cynthia",
    "Jacob",
    "Kathleen",
    "Gary",
    "Amy",
    "Nicholas",
    "Angela",
    "Eric",
    "Shirley",
    "Jonathan",
    "Anna",
    "Stephen",
    "Brenda",
    "Larry",
    "Pamela",
    "Justin",
    "Emma",
    "Scott",
    "Nicole",
    "Brandon",
    "Helen",
    "Benjamin",
    "Samantha",
    "Samuel",
    "Katherine",
    "José",
    "María",
    "Zoë",
    "Chloé",
    "Renée",
    "André",
    "Siobhán",
    "Nguyễn",
    "Aaliyah",
    "Omar",
    "Fatima",
    "Wei",
    "Priya",
    "Kwame",
    "Ngozi",
    "Sofía",
    "Mateo",
]
LAST_NAMES = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "O'Brien",
    "McAllister",
    "Núñez",
    "Côté",
    "Okafor",
    "Haddad",
    "Kowalski",
    "Petrović",
    "Yamamoto",
    "Singh",
    "Osei",
    "Dubois",
]
STREETS = [
    "Main",
    "Oak",
    "Pine",
    "Maple",
    "Cedar",
    "Elm",
    "Washington",
    "Lake",
    "Hill",
    "Park",
    "Sunset",
    "Lincoln",
    "Jackson",
    "River",
]
CITIES = (
    ("Springfield", "IL", "Sangamon"),
    ("Columbus", "OH", "Franklin"),
    ("Madison", "WI", "Dane"),
    ("Austin", "TX", "Travis"),
    ("Portland", "OR", "Multnomah"),
    ("Raleigh", "NC", "Wake"),
    ("Denver", "CO", "Denver"),
    ("Richmond", "VA", "Richmond City"),
)
EMPLOYERS = [
    "Acme Corp",
    "City Library",
    "Riverside Hospital",
    "Green Grocers",
    "State University",
    "Self-employed",
]
OCCUPATIONS = [
    "Teacher",
    "Nurse",
    "Engineer",
    "Organizer",
    "Student",
    "Retired",
    "Electrician",
    "Designer",
]
DOMAINS = ("example.org", "example.com", "example.net", "mail.example")


def synthetic_person(rng: random.Random, index: int, *, unique_tag: str = "") -> dict[str, Any]:
    """One plausible profile. `index` keeps emails and IDs unique within a generated batch."""
    first = rng.choice(FIRST_NAMES)
    last = rng.choice(LAST_NAMES)
    city, state, county = rng.choice(CITIES)
    # Email validators take ASCII local parts only, so "José Núñez" mails as jose.nunez.
    folded = unicodedata.normalize("NFKD", f"{first}.{last}").encode("ascii", "ignore").decode()
    local = folded.lower().replace("'", "").replace(" ", "")
    row: dict[str, Any] = {
        "first_name": first,
        "last_name": last,
        "email1": f"{local}.{unique_tag}{index}@{rng.choice(DOMAINS)}",
        "birthdate": dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 65)),
        "sex": rng.choice("MFO") if rng.random() < 0.9 else None,
        "home_address": {
            "address1": f"{rng.randrange(1, 9999)} {rng.choice(STREETS)} St",
            "city": city,
            "state": state,
            "county": county,
            "zip": f"{rng.randrange(10000, 99999)}",
            "country_code": "US",
        },
        "email_opt_in": rng.random() < 0.7,
    }
    if rng.random() < 0.8:
        row["mobile"] = f"+1 (555) {rng.randrange(200, 999)}-{index % 10000:04d}"
    if rng.random() < 0.4:
        row["phone"] = f"555-{rng.randrange(200, 999)}-{rng.randrange(0, 9999):04d}"
    if rng.random() < 0.5:
        row["employer"] = rng.choice(EMPLOYERS)
        row["occupation"] = rng.choice(OCCUPATIONS)
    if rng.random() < 0.3:
        row["support_level"] = rng.randint(1, 5)
    if rng.random() < 0.5:
        row["nbec_guid"] = f"guid-{unique_tag}{index:08d}"
    if rng.random() < 0.15:
        row["email2"] = f"{first[0].lower()}{index}{unique_tag}@work.example"
    return row


def synthetic_people(
    count: int, *, seed: int = 1, unique_tag: str = ""
) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    for index in range(count):
        yield synthetic_person(rng, index, unique_tag=unique_tag)
