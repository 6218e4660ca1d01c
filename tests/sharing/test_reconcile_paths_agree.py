"""Reconciling a share's matched pairs gives one result, per pair in Python or set-based in SQL
(SPEC §5.3).

`initial_sync.SET_BASED` chooses the path: False sends every pair through `reconcile_links`;
True sends the pairs no Python rule needs through SQL and the rest through Python. Whichever
path a pair takes, both nations must end up with the same values, match keys, email index,
versions, history, outbox events, link states and notes, and review items.

Each example builds one small world — a sending and a receiving nation, a few matched pairs with
random values drawn from small pools (so blanks, equal values and conflicts all happen), a few
bystander profiles holding emails and IDs the pairs may claim, and some later edits — accepts
the share under one flag, reads everything back by natural keys, rolls it all back, and does it
again under the other flag. Ids and fresh timestamps differ between the two runs, so versions
are compared by what they are (the profile's own from before the sync, its partner's, or a
fresh one from a given nation), never by their raw values.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tagshare.errors import DomainError
from tagshare.nations.actors import Actor
from tagshare.nations.models import Nation, User
from tagshare.outbox.hlc import Version
from tagshare.outbox.models import EventKind, OutboxEvent
from tagshare.people import catalog, values
from tagshare.people.models import Person, PersonChange, PersonEmail
from tagshare.people.services import person_update
from tagshare.sharing import initial_sync
from tagshare.sharing import services as shares
from tagshare.sharing.models import LINKED_STATES, JobStatus, ReviewItem, ShareLink, ShareSyncJob
from tagshare.tags.services import tag_apply

# The profile's marker: an optional field no share here syncs, so it never changes and names
# the profile in both runs (database ids do not).
MARKER = "church"
NORTH, RIVER = "north", "river"  # the two sides, as the snapshots name their nations
# The receiving nation reads phone numbers in the sender's region, or in another one.
REGIONS = ["US", "GB"]

# Emails a pair may carry in email2/email3: one differing only in case from another, the
# bystanders' own emails (held by another profile of the nation), and another pair's email1.
EMAILS = ["e1@x.org", "E1@x.org", "e2@x.org", "by0@x.org", "nby0@x.org", "p1@x.org"]
# US and UK numbers, written with and without their country code: which ones the receiving
# nation's default region can read decides its match keys.
PHONES = ["617-555-0100", "+1 617 555 0100", "020 7946 0958", "+44 20 7946 0958"]
POOLS: dict[str, list[Any]] = {
    "first_name": ["Ann", "ann", "Bo"],
    "last_name": ["Lee", "Park"],
    "occupation": ["Nurse", "Doctor"],
    "employer": ["Clinic", "School"],
    "party": ["D", "R"],
    "note": ["Call back", "Met at the rally"],
    "email2": EMAILS,
    "email3": EMAILS,
    "phone": PHONES,
    "mobile": PHONES,
    "birthdate": ["1990-01-01", "1985-05-05"],
    "is_deceased": [True, False],
    "email_opt_in": [True, False],
    "do_not_call": [True, False],
    "support_level": [1, 2, 3, 4, 5],
    "home_address": [
        {"city": "Boston"},
        {"city": "boston"},
        {"address1": "1 Main St", "city": "Cambridge", "zip": "02139"},
    ],
    "registered_address": [
        {"state": "NY", "city": "Albany"},
        {"state": "NY", "city": "Troy"},
        {"state": "CA"},
    ],
    "nbec_guid": ["G-a", "G-b"],
    "facebook_username": ["fb-a", "fb-b"],
    "external_id": ["X-1", "X-2"],
}
# Optional fields a share may choose (the rest of POOLS is always synced). The opt-in ID also
# takes part in matching when chosen.
OPTIONAL = ["support_level", "party", "note", "external_id"]
OPTIONS = ["accept_all", "blank_only", "review"]
KEY_COLUMNS = ("first_key", "last_key", "phone_key", "mobile_key", "work_phone_key")


@dataclass(frozen=True)
class Profile:
    marker: str
    values: dict[str, Any]
    tagged: bool = False  # a sender profile carrying the shared tag


@dataclass(frozen=True)
class Edit:
    """A local write after every profile exists: newer than both sides' creation."""

    marker: str
    field: str
    value: Any


@dataclass(frozen=True)
class World:
    receiver_region: str
    sync_option: str
    optional_fields: tuple[str, ...]
    receivers: tuple[Profile, ...]  # in creation order: bystanders first, so they hold first
    senders: tuple[Profile, ...]
    edits: tuple[Edit, ...] = ()


# --- generating worlds ---------------------------------------------------------------------------

some_values = st.fixed_dictionaries(
    {}, optional={name: st.sampled_from(pool) for name, pool in POOLS.items()}
)
some_ids = st.fixed_dictionaries(
    {},
    optional={name: st.sampled_from(POOLS[name]) for name in ("nbec_guid", "facebook_username")},
)


@st.composite
def worlds(draw: Any) -> World:
    receivers = [
        Profile(f"river-by{k}", {"email1": f"by{k}@x.org", **draw(some_ids)})
        for k in range(draw(st.integers(0, 2)))
    ]
    senders = [
        Profile(f"north-by{k}", {"email1": f"nby{k}@x.org", **draw(some_ids)})
        for k in range(draw(st.integers(0, 1)))
    ]
    pairs = draw(st.integers(1, 6))
    for i in range(pairs):
        there, here = draw(some_values), draw(some_values)
        # Matched by email (the same, or differing in case), or by voter GUID — which comes
        # first in the cascade, so the pair's other emails and IDs may clash with anyone's.
        here_email = draw(st.sampled_from([f"p{i}@x.org", f"P{i}@X.org", "", f"q{i}@x.org"]))
        if draw(st.booleans()):
            there["nbec_guid"] = here["nbec_guid"] = f"G{i}"
        senders.append(Profile(f"north-p{i}", {"email1": f"p{i}@x.org", **there}, tagged=True))
        receivers.append(Profile(f"river-p{i}", {"email1": here_email, **here}))
    # Edits come after both sides were created: mostly on the receiving side, whose version
    # then beats the sender's (a value it loses gets a fresh version, not the sender's).
    markers = [f"{side}-p{i}" for i in range(pairs) for side in (RIVER, RIVER, NORTH)]
    edit = st.sampled_from(sorted(POOLS)).flatmap(
        lambda name: st.builds(
            Edit, st.sampled_from(markers), st.just(name), st.sampled_from(["", *POOLS[name]])
        )
    )
    return World(
        receiver_region=draw(st.sampled_from(REGIONS)),
        sync_option=draw(st.sampled_from(OPTIONS)),
        optional_fields=tuple(draw(st.lists(st.sampled_from(OPTIONAL), unique=True))),
        receivers=tuple(receivers),
        senders=tuple(senders),
        edits=tuple(draw(st.lists(edit, max_size=10))),
    )


# --- building a world and accepting its share ----------------------------------------------------


def _identity(name: str, value: Any) -> Any:
    """What a value claims in its nation, if it must be unique there (an email, a unique ID)."""
    if name in catalog.EMAIL_FIELDS and value:
        return ("email", values.normalise_email(value))
    if name in catalog.UNIQUE_ID_SET and value:
        return (name, value)
    return None


def _create(make_person: Any, nation: Any, profile: Profile, taken: set[Any]) -> Person:
    """Create the profile, leaving out what another profile of the nation (or another slot of
    this one) already holds: the world must be valid before the sync, and the same every run."""
    kept: dict[str, Any] = {}
    for name, value in profile.values.items():
        claim = _identity(name, value)
        if claim is not None:
            if claim in taken:
                continue
            taken.add(claim)
        kept[name] = value
    return make_person(nation, **kept, **{MARKER: profile.marker})


def _edit(people: dict[str, Person], edit: Edit) -> None:
    person = Person.objects.get(pk=people[edit.marker].pk)
    try:
        with transaction.atomic():
            person_update(
                nation=person.nation,
                actor=Actor.system(),
                person=person,
                changes={edit.field: edit.value},
            )
    except DomainError:
        pass  # an email or ID another profile holds: refused the same way in both runs


@dataclass
class Coalition:
    """The sending nation and a receiving nation per default region, with their admins: made
    once per test (an admin's password hash alone takes a second), every profile per run."""

    make_person: Any
    north: Nation
    north_admin: User
    rivers: dict[str, tuple[Nation, User]]  # default region -> receiving nation, its admin


def _run(coalition: Coalition, world: World, *, set_based: bool) -> tuple[dict[str, Any], int]:
    """Build the world, accept its share under one path, and read back what it did (and how
    many pairs SQL reconciled); then roll everything back, so the other path starts from the
    same nothing."""
    north, north_admin = coalition.north, coalition.north_admin
    river, river_admin = coalition.rivers[world.receiver_region]
    with transaction.atomic():
        people: dict[str, Person] = {}
        for nation, profiles in ((river, world.receivers), (north, world.senders)):
            taken: set[Any] = set()
            for profile in profiles:
                person = _create(coalition.make_person, nation, profile, taken)
                people[profile.marker] = person
                if profile.tagged:
                    tag_apply(nation=north, actor=Actor.system(), person=person, name="climate")
        for edit in world.edits:
            _edit(people, edit)
        [share] = shares.share_create(
            nation=north,
            actor=Actor.for_user(north_admin),
            tag_name="climate",
            nations=river.slug,
            sync_data=True,
            optional_fields=list(world.optional_fields),
        )
        before = _Before(
            versions={
                marker: dict(versions)
                for marker, versions in Person.objects.values_list(MARKER, "field_versions")
            },
            last_event=OutboxEvent.objects.order_by("-id").values_list("id", flat=True).first()
            or 0,
            roles={north.pk: NORTH, river.pk: RIVER},
        )
        with pytest.MonkeyPatch.context() as patch:
            # raising=False: runnable before the flag exists (both runs then take the Python path).
            patch.setattr(initial_sync, "SET_BASED", set_based, raising=False)
            in_sql = _count_pairs_in_sql(patch)
            shares.share_accept(
                nation=river,
                actor=Actor.for_user(river_admin),
                share=share,
                sync_option=world.sync_option,
            )
        snapshot = _snapshot(share.pk, before)
        transaction.set_rollback(True)
    return snapshot, in_sql[0]


def _count_pairs_in_sql(patch: pytest.MonkeyPatch) -> list[int]:
    """How many pairs the SQL path kept (not handed back to Python): only for the statistics
    (`pytest --hypothesis-show-statistics`), so that a property that never reached SQL shows."""
    taken = [0]
    real = getattr(initial_sync, "reconcile_set_based", None)
    if real is not None:

        def counted(share: Any, links: list[int]) -> list[int]:
            rest = real(share, links)
            taken[0] += len(links) - len(rest)
            return rest

        patch.setattr(initial_sync, "reconcile_set_based", counted)
    return taken


# --- reading back what a run did, by natural keys ------------------------------------------------


@dataclass
class _Before:
    versions: dict[str, dict[str, Any]]  # marker -> field_versions before the sync
    last_event: int  # the last outbox event before the accept
    roles: dict[int, str]  # nation id -> north / river


class _Names:
    """Markers for ids, and versions described by what they are rather than their timestamps."""

    def __init__(self, before: _Before) -> None:
        self.before = before
        self.marker = dict(Person.objects.values_list("id", MARKER))
        self.partner: dict[str, str] = {}

    def person(self, pk: int | None) -> str | None:
        return None if pk is None else self.marker.get(pk, f"gone {pk}")

    def text(self, text: str) -> str:
        """A message naming profiles by id ("belongs to person 12"), with markers instead."""
        return re.sub(r"\bperson (\d+)", lambda m: f"person {self.person(int(m[1]))}", text)

    def version(self, raw: Any, owner: str, field: str, *, replaces: bool = True) -> Any:
        version = Version.from_json(raw)
        if version is None:
            return raw
        own = Version.from_json(self.before.versions[owner].get(field))
        if version == own:
            return "own"
        partner = self.partner.get(owner)
        if partner and version == Version.from_json(self.before.versions[partner].get(field)):
            return "partner's"
        for marker, versions in sorted(self.before.versions.items()):
            if version in (Version.from_json(v) for v in versions.values()):
                return f"pre-existing, of {marker}"
        origin = self.before.roles.get(version.origin, f"nation {version.origin}")
        if version.ts == 0:
            return f"zero from {origin}"
        if replaces:
            # A fresh version must be newer than the one it replaced, or a replay would lose.
            assert own is None or version > own, (owner, field, version, own)
        return f"fresh from {origin}"


def _snapshot(share_id: int, before: _Before) -> dict[str, Any]:
    names = _Names(before)
    out: dict[str, Any] = {}

    # A failed sync's message, without PostgreSQL's DETAIL and CONTEXT lines (which statement).
    out["jobs"] = [
        (status, detail.split("\n")[0])
        for status, detail in ShareSyncJob.objects.filter(share_id=share_id).values_list(
            "status", "detail"
        )
    ]

    links: dict[str, Any] = {}
    for link in ShareLink.objects.filter(share_id=share_id):
        sender = names.person(link.sender_person_id)
        receiver = names.person(link.receiver_person_id)
        if link.state in LINKED_STATES and sender and receiver:
            names.partner[sender], names.partner[receiver] = receiver, sender
        links[sender or ""] = (
            receiver,
            link.state,
            link.rule,
            names.text(link.reason),
            sorted(str(names.person(pk)) for pk in link.candidates),
        )
    out["links"] = links

    emails: dict[str, list[tuple[str, str]]] = {}
    for person_id, slot, address in PersonEmail.objects.values_list("person_id", "slot", "address"):
        emails.setdefault(names.person(person_id) or "", []).append((slot, address))
    profiles: dict[str, Any] = {}
    for person in Person.objects.all():
        marker = getattr(person, MARKER)
        profiles[marker] = {
            "values": {f.name: values.to_json(values.read(person, f.name)) for f in catalog.FIELDS},
            "keys": {column: getattr(person, column) for column in KEY_COLUMNS},
            "status": (person.is_supporter, person.is_prospect),
            "emails": sorted(emails.get(marker, [])),
            "versions": {
                name: names.version(raw, marker, name)
                for name, raw in sorted(person.field_versions.items())
            },
        }
    out["profiles"] = profiles

    # History of the share's writes, per profile in the order written: changed fields with
    # their old and new values and versions.
    history: dict[str, list[Any]] = {}
    change_at: dict[int, tuple[str, int]] = {}  # change id -> (profile, its place in history)
    for change in PersonChange.objects.filter(share_id=share_id).order_by("id"):
        marker = names.person(change.person_id) or ""
        entries = {
            name: (entry["old"], entry["new"], names.version(entry["version"], marker, name))
            for name, entry in sorted(change.entries().items())
        }
        rows = history.setdefault(marker, [])
        change_at[change.pk] = (marker, len(rows))
        rows.append((change.kind, change.source, names.before.roles[change.nation_id], entries))
    out["history"] = history

    # person.updated events of the share: their field lists exactly, and the history row each
    # points at (which must be its own profile's). Other events: which, for whom, how many.
    updated: dict[str, list[Any]] = {}
    others: Counter[tuple[str, str | None, str]] = Counter()
    for row in OutboxEvent.objects.filter(id__gt=before.last_event).order_by("id"):
        marker = names.person(row.person_id)
        role = before.roles.get(row.nation_id, "?")
        if row.kind == EventKind.PERSON_UPDATED and row.payload.get("share_id") == share_id:
            points_at = change_at.get(row.payload.get("change_id"))
            assert points_at is not None and points_at[0] == marker, (marker, row.payload)
            payload = {k: v for k, v in row.payload.items() if k not in ("change_id", "share_id")}
            updated.setdefault(marker or "", []).append((role, payload, points_at[1]))
        else:
            others[(role, marker, row.kind)] += 1
    out["updated events"] = updated
    out["other events"] = sorted(others.items(), key=repr)

    out["review items"] = sorted(
        (
            (
                before.roles[item.nation_id],
                names.person(item.person_id),
                item.field,
                item.current_value,
                item.proposed_value,
                item.status,
                names.version(
                    item.proposed_version,
                    names.person(item.person_id) or "",
                    item.field,
                    replaces=False,
                ),
                names.version(
                    item.base_version,
                    names.person(item.person_id) or "",
                    item.field,
                    replaces=False,
                ),
            )
            for item in ReviewItem.objects.filter(share_id=share_id)
        ),
        key=repr,
    )
    return out


def _both_paths(coalition: Coalition, world: World) -> dict[str, Any]:
    """Run the world under each path, assert they agree part by part, and return the result."""
    return _compared(coalition, world)[0]


def _compared(coalition: Coalition, world: World) -> tuple[dict[str, Any], int]:
    """The same, with how many pairs the SQL path reconciled."""
    in_python, _ = _run(coalition, world, set_based=False)
    set_based, in_sql = _run(coalition, world, set_based=True)
    for part, expected in in_python.items():
        got = set_based[part]
        if isinstance(expected, dict):  # profile by profile, link by link: a readable diff
            for key in sorted(expected.keys() | got.keys()):
                assert got.get(key) == expected.get(key), (part, key)
        assert got == expected, part
    return in_python, in_sql


def _done(result: dict[str, Any]) -> dict[str, Any]:
    assert [status for status, _ in result["jobs"]] == [JobStatus.DONE], result["jobs"]
    return result


@pytest.fixture
def coalition(make_nation, make_user, make_person) -> Coalition:
    north = make_nation(NORTH, plan="organization", default_region="US")
    rivers = {}
    for region in REGIONS:
        river = make_nation(f"river-{region.lower()}", plan="enterprise", default_region=region)
        rivers[region] = (river, make_user(river, "admin"))
    return Coalition(make_person, north, make_user(north, "admin"), rivers)


# --- the property -------------------------------------------------------------------------------


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(world=worlds())
def test_set_based_and_per_pair_reconciling_give_the_same_result(coalition, world):
    # Every world is valid before the sync, so the sync finishes: a clash is refused and noted,
    # never written (a job failing alike under both paths would still be a defect).
    result, in_sql = _compared(coalition, world)
    _done(result)
    # What the examples reached (pytest --hypothesis-show-statistics).
    event(f"{in_sql} pair(s) reconciled in SQL")
    states = Counter(link[1] for link in result["links"].values())
    event(f"{states['synced']} pair(s) reconciled")
    if any("not synced" in link[3] for link in result["links"].values()):
        event("a value refused and noted on its link")
    if result["review items"]:
        event("review items queued")
    if any(
        "fresh" in str(label)
        for profile in result["profiles"].values()
        for label in profile["versions"].values()
    ):
        event("a fresh version (the replaced one was newer)")


# --- cases that matter, spelled out --------------------------------------------------------------


def _world(receivers: list[Profile], senders: list[Profile], **kw: Any) -> World:
    kw.setdefault("receiver_region", "US")
    kw.setdefault("sync_option", "accept_all")
    kw.setdefault("optional_fields", ())
    return World(receivers=tuple(receivers), senders=tuple(senders), **kw)


def test_an_email_another_receiving_profile_holds_is_refused_and_noted_under_both_paths(
    coalition,
):
    # Matched by voter GUID, so the cascade never looked at the emails: the sender's email2 is
    # a bystander's, and only reconciling finds the clash. The other fields still sync.
    world = _world(
        receivers=[
            Profile("river-by0", {"email1": "by0@x.org"}),
            Profile("river-p0", {"nbec_guid": "G0", "email1": "p0@x.org"}),
        ],
        senders=[
            Profile(
                "north-p0",
                {
                    "nbec_guid": "G0",
                    "email1": "p0@x.org",
                    "email2": "BY0@x.org",
                    "employer": "Clinic",
                },
                tagged=True,
            )
        ],
    )
    result = _done(_both_paths(coalition, world))
    here = result["profiles"]["river-p0"]
    assert (here["values"]["email2"], here["values"]["employer"]) == ("", "Clinic")
    receiver, state, rule, reason, _ = result["links"]["north-p0"]
    assert (receiver, state, rule) == ("river-p0", "synced", "voter_guid")
    assert reason == "email2 not synced: by0@x.org belongs to person river-by0"


def test_an_email_one_pair_gives_up_can_be_taken_by_another_pair_in_the_same_sync(coalition):
    # Accepting all, river-p0's email2 becomes the sender's e2@x.org, which frees e1@x.org for
    # river-p1 (matched by GUID) to take: whichever path each pair goes through, the release
    # counts, and nothing is refused.
    world = _world(
        receivers=[
            Profile("river-p0", {"email1": "p0@x.org", "email2": "e1@x.org"}),
            Profile("river-p1", {"nbec_guid": "G1", "email1": "p1@x.org"}),
        ],
        senders=[
            Profile("north-p0", {"email1": "p0@x.org", "email2": "e2@x.org"}, tagged=True),
            Profile(
                "north-p1",
                {"nbec_guid": "G1", "email1": "p1@x.org", "email2": "e1@x.org"},
                tagged=True,
            ),
        ],
    )
    result = _done(_both_paths(coalition, world))
    assert result["profiles"]["river-p0"]["emails"] == [
        ("email1", "p0@x.org"),
        ("email2", "e2@x.org"),
    ]
    assert result["profiles"]["river-p1"]["emails"] == [
        ("email1", "p1@x.org"),
        ("email2", "e1@x.org"),
    ]
    assert [link[3] for link in result["links"].values()] == ["", ""]


def test_a_phone_filled_in_from_another_region_is_keyed_in_the_receivers_region(coalition):
    # A UK number without its country code: unreadable in the sender's US, read in the
    # receiver's GB. The value travels as written, with the sender's version; the key is the
    # receiver's own, under both paths.
    world = _world(
        receiver_region="GB",
        receivers=[Profile("river-p0", {"email1": "p0@x.org"})],
        senders=[
            Profile("north-p0", {"email1": "p0@x.org", "phone": "020 7946 0958"}, tagged=True)
        ],
    )
    result = _done(_both_paths(coalition, world))
    here, there = result["profiles"]["river-p0"], result["profiles"]["north-p0"]
    assert here["values"]["phone"] == "020 7946 0958"
    assert here["keys"]["phone_key"] == "+442079460958"
    assert there["keys"]["phone_key"] != here["keys"]["phone_key"]
    assert here["versions"]["phone"] == "partner's"


def test_an_email_freed_by_a_change_that_is_then_refused_stays_with_its_holder(coalition):
    # river-p1 would give e1@x.org up for the sender's by0@x.org, but a bystander holds that,
    # so its change is refused and it keeps e1@x.org. river-p0's claim of e1@x.org, counted
    # as free because of the change, must be refused too — not written next to the holder's.
    world = _world(
        receivers=[
            Profile("river-by0", {"email1": "by0@x.org"}),
            Profile("river-p0", {"nbec_guid": "G0", "email1": "p0@x.org"}),
            Profile("river-p1", {"nbec_guid": "G1", "email1": "p1@x.org", "email2": "e1@x.org"}),
        ],
        senders=[
            Profile(
                "north-p0",
                {"nbec_guid": "G0", "email1": "p0@x.org", "email2": "e1@x.org"},
                tagged=True,
            ),
            Profile(
                "north-p1",
                {"nbec_guid": "G1", "email1": "p1@x.org", "email2": "by0@x.org"},
                tagged=True,
            ),
        ],
    )
    result = _done(_both_paths(coalition, world))
    assert result["profiles"]["river-p1"]["values"]["email2"] == "e1@x.org"
    assert result["profiles"]["river-p0"]["values"]["email2"] == ""
    assert result["links"]["north-p0"][3] == (
        "email2 not synced: e1@x.org belongs to person river-p1"
    )
