"""Demo nations, users, people and tags for `tagshare demo`, built through the services.

Idempotent: a person is keyed by their first email, so a second run creates only what is missing
and every run resets the demo users' password.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from tagshare.matching.engine import default_id_fields, match_values
from tagshare.nations import services as nation_services
from tagshare.nations.actors import Actor
from tagshare.nations.models import Nation, Plan, Role, User
from tagshare.people import services as people_services
from tagshare.people.synthetic import synthetic_people
from tagshare.people.values import clean_changes
from tagshare.tags import services as tag_services

DEMO_PASSWORD = "demo-password"
# Share of a nation's people that carries each of its tags.
TAG_RATE = 0.2


@dataclass(frozen=True)
class DemoNation:
    slug: str
    name: str
    plan: str
    seed: int
    unique_tag: str
    tags: tuple[str, ...]
    coalition_tag: str = ""  # put on every shared person, so a tag share has them to send


DEMO_NATIONS = (
    DemoNation(
        "northside",
        "Northside Organizing Collective",
        Plan.ORGANIZATION,
        101,
        "n",
        ("Volunteer", "Donor", "Newsletter"),
        coalition_tag="Climate Coalition",
    ),
    DemoNation(
        "riverside",
        "Riverside Alliance",
        Plan.ENTERPRISE,
        202,
        "r",
        ("Member", "Phone Bank", "Canvass 2025"),
    ),
    DemoNation("hilltop", "Hilltop Neighbours", Plan.LEADER, 303, "h", ("Neighbour", "Event RSVP")),
)


def _home(address1: str, city: str, state: str, county: str, zip_code: str) -> dict[str, str]:
    return {
        "address1": address1,
        "city": city,
        "state": state,
        "county": county,
        "zip": zip_code,
        "country_code": "US",
    }


# The same real-looking people known to several nations, each nation's copy a little different,
# covering the matching rules of SPEC §4: voter GUID, another unique ID, email, name + birthdate
# or phone. Keys of the per-nation overrides replace the base value; None drops it.
SHARED_PEOPLE: tuple[tuple[dict[str, Any], dict[str, dict[str, Any]]], ...] = (
    (
        {
            "first_name": "Maria",
            "last_name": "Gonzalez",
            "email1": "maria.gonzalez@example.org",
            "birthdate": dt.date(1984, 3, 14),
            "mobile": "+1 555 201 3344",
            "nbec_guid": "NB-77001",
            "home_address": _home("12 Oak St", "Springfield", "IL", "Sangamon", "62701"),
            "occupation": "Teacher",
            "employer": "City Library",
        },
        {
            "riverside": {"email1": "mgonzalez@riverside-mail.example", "occupation": "Librarian"},
            "hilltop": {"email1": "maria.g@example.net", "employer": None},
        },
    ),
    (
        {
            "first_name": "James",
            "last_name": "O'Brien",
            "email1": "jim.obrien@example.com",
            "twitter_login": "jimobrien",
            "mobile": "+1 555 201 4410",
            "home_address": _home("88 Lake St", "Madison", "WI", "Dane", "53703"),
        },
        {
            "riverside": {"email1": "james.obrien@example.net", "phone": "555-201-0099"},
            "hilltop": {"email1": "obrien.james@example.org"},
        },
    ),
    (
        {
            "first_name": "Aaliyah",
            "last_name": "Okafor",
            "email1": "aaliyah.okafor@example.org",
            "birthdate": dt.date(1992, 7, 2),
            "employer": "Riverside Hospital",
            "occupation": "Nurse",
            "home_address": _home("401 Cedar St", "Columbus", "OH", "Franklin", "43215"),
        },
        {
            "riverside": {"email1": " Aaliyah.Okafor@Example.org ", "occupation": "Charge Nurse"},
            "hilltop": {"email1": "AALIYAH.OKAFOR@example.org", "mobile": "+1 555 201 7781"},
        },
    ),
    (
        {
            "first_name": "Wei",
            "last_name": "Yamamoto",
            "email1": "wei.yamamoto@example.com",
            "birthdate": dt.date(1978, 11, 23),
            "mobile": "+1 555 201 5521",
            "home_address": _home("7 Pine St", "Portland", "OR", "Multnomah", "97205"),
        },
        {
            "riverside": {"email1": "wei@yamamoto-family.example", "mobile": "(555) 201-5521"},
            "hilltop": {"email1": "w.yamamoto@example.net", "mobile": None},
        },
    ),
    (
        {
            "first_name": "Sofía",
            "last_name": "Núñez",
            "email1": "sofia.nunez@example.org",
            "birthdate": dt.date(2001, 5, 9),
            "occupation": "Student",
            "home_address": _home("230 Maple St", "Austin", "TX", "Travis", "78701"),
        },
        {
            "riverside": {
                "first_name": "Sofia",
                "last_name": "Nunez",
                "email1": "sofia.nunez.2001@example.com",
            }
        },
    ),
    (
        {
            "first_name": "Kwame",
            "last_name": "Osei",
            "email1": "kwame.osei@example.net",
            "mobile": "+1 555 201 6630",
            "employer": "Green Grocers",
            "home_address": _home("19 Elm St", "Raleigh", "NC", "Wake", "27601"),
        },
        {"riverside": {"email2": "k.osei@work.example", "employer": "Self-employed"}},
    ),
    (
        {
            "first_name": "Siobhán",
            "last_name": "McAllister",
            "email1": "siobhan.mcallister@example.com",
            "birthdate": dt.date(1966, 1, 30),
            "phone": "555-201-2288",
            "home_address": _home("5 River St", "Denver", "CO", "Denver", "80202"),
        },
        {
            "riverside": {
                "email1": "Siobhan.McAllister@example.com",
                "phone": None,
                "home_address": _home("77 Sunset St", "Denver", "CO", "Denver", "80203"),
            }
        },
    ),
    (
        {
            "first_name": "André",
            "last_name": "Dubois",
            "email1": "andre.dubois@example.org",
            "linkedin_id": "andre-dubois-42",
            "occupation": "Engineer",
            "home_address": _home("64 Hill St", "Richmond", "VA", "Richmond City", "23219"),
        },
        {"riverside": {"email1": "adubois@example.com", "occupation": "Electrician"}},
    ),
)


@dataclass
class DemoResult:
    nation: Nation
    users: list[User]
    people_created: int


def shared_rows(spec: DemoNation) -> list[dict[str, Any]]:
    """This nation's copies of the shared people (the first demo nation holds the originals)."""
    rows = []
    for base, overrides in SHARED_PEOPLE:
        if spec.slug == DEMO_NATIONS[0].slug or spec.slug in overrides:
            row = {**base, **overrides.get(spec.slug, {})}
            rows.append({name: value for name, value in row.items() if value is not None})
    return rows


def missing_rows(spec: DemoNation, count: int) -> list[tuple[dict[str, Any], bool]]:
    """Rows not yet in the nation, each with whether it is one of the shared people."""
    synthetic = synthetic_people(count, seed=spec.seed, unique_tag=spec.unique_tag)
    rows = [(row, False) for row in synthetic] + [(row, True) for row in shared_rows(spec)]
    nation = Nation.objects.filter(slug=spec.slug).first()
    if nation is None:
        return rows
    # What is already there is what the matching cascade finds: a shared person's email may
    # have been replaced by the coalition share's sync, but their voter GUID still matches.
    outcomes = match_values(
        nation=nation,
        rows=[(i, clean_changes(row)) for i, (row, _) in enumerate(rows)],
        id_fields=default_id_fields(),
    )
    missing = {o.ref for o in outcomes if o.status == "not_found"}
    return [pair for i, pair in enumerate(rows) if i in missing]


def ensure_nation(spec: DemoNation) -> Nation:
    nation = Nation.objects.filter(slug=spec.slug).first()
    if nation is None:
        nation = nation_services.nation_create(slug=spec.slug, name=spec.name, plan=spec.plan)
    return nation


def ensure_users(nation: Nation) -> list[User]:
    users = []
    for role in (Role.ADMIN, Role.STAFF):
        email = f"{role}@{nation.slug}.example"
        user = User.objects.filter(nation=nation, email=email).first()
        if user is None:
            user = nation_services.user_create(
                nation=nation,
                email=email,
                role=role,
                password=DEMO_PASSWORD,
                first_name="Demo",
                last_name=role.title(),
            )
        else:
            # Reset on every run, so the printed sign-in table is always true.
            user.set_password(DEMO_PASSWORD)
            user.is_active = True
            user.save(update_fields=["password", "is_active"])
        users.append(user)
    return users


def build_nation(
    spec: DemoNation, rows: list[tuple[dict[str, Any], bool]], advance: Callable[[], None]
) -> DemoResult:
    """Create the nation, its users and the missing people with tags, in one transaction."""
    with transaction.atomic():
        nation = ensure_nation(spec)
        users = ensure_users(nation)
        actor = Actor.importer(users[0])
        rng = random.Random(spec.seed + 1)
        for row, shared in rows:
            person = people_services.person_create(nation=nation, actor=actor, values_in=row)
            names = [tag for tag in spec.tags if rng.random() < TAG_RATE]
            if shared and spec.coalition_tag:
                names.append(spec.coalition_tag)
            for name in names:
                tag_services.tag_apply(nation=nation, actor=actor, person=person, name=name)
            advance()
    return DemoResult(nation=nation, users=users, people_created=len(rows))


def ensure_coalition(nations: dict[str, Nation]) -> list[str]:
    """Northside shares its coalition tag with data sync: Riverside has accepted, Hilltop not yet.

    Idempotent: a share that already exists (in any state) is left as it is.
    """
    from tagshare.sharing import services as sharing
    from tagshare.sharing.models import TagShare

    sender = nations["northside"]
    tag_name = DEMO_NATIONS[0].coalition_tag
    admin = sender.users.filter(role="admin").first()
    lines = []
    for slug, accept in (("riverside", True), ("hilltop", False)):
        receiver = nations[slug]
        if TagShare.objects.filter(sender=sender, tag__name=tag_name, receiver=receiver).exists():
            continue
        [share] = sharing.share_create(
            nation=sender,
            actor=Actor.for_user(admin) if admin else Actor.system(),
            tag_name=tag_name,
            nations=slug,
            sync_data=True,
            optional_fields=["support_level", "party", "is_volunteer"],
            create_profiles=True,
        )
        if accept:
            receiver_admin = receiver.users.filter(role="admin").first()
            sharing.share_accept(
                nation=receiver,
                actor=Actor.for_user(receiver_admin) if receiver_admin else Actor.system(),
                share=share,
                sync_option="accept_all",
                create_profiles=True,
                as_prospects=True,
            )
            lines.append(
                f"{share.shared_tag_name} shared with {slug}: accepted (accept all changes)."
            )
        else:
            lines.append(
                f"{share.shared_tag_name} shared with {slug}: pending — sign in to {slug} to accept."
            )
    return lines
