"""The bulk-create path gives what person_create gives, refuses bad rows whole, and is set-based."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tagshare.errors import NotFound, ValidationFailed
from tagshare.nations.actors import Actor
from tagshare.outbox.hlc import Version
from tagshare.outbox.models import OutboxEvent
from tagshare.people import bulk, catalog, services
from tagshare.people.bulk import people_bulk_create
from tagshare.people.models import Person, PersonChange, PersonEmail
from tagshare.people.synthetic import synthetic_people

ROWS: list[dict[str, Any]] = [
    {
        "first_name": " Ada ",
        "last_name": "Lovelace",
        "email1": " Ada@Example.ORG ",
        "email2": "ada@work.example",
        "birthdate": "1815-12-10",
        "home_address": {"address1": "12 St James's Sq", "city": "London", "country_code": "gb"},
        "support_level": 1,
        "email_opt_in": "yes",
        "nbec_guid": "guid-1",
        "note": "",
        "middle_name": None,
    },
    {
        "first_name": "Grace",
        "email1": "grace@navy.example",
        "support_level": "5",
        "do_not_call": False,
        "state_file_id": "SF-1",
        "registered_address": {"state": "VA", "county": "Arlington"},
        "county_file_id": "CF-1",
        "mailing_address": {},
    },
    {"last_name": "Hopper", "support_level": 3, "sex": "f", "website": "example.org"},
    {},
]


def _counts() -> tuple[int, int, int, int]:
    return (
        Person.objects.count(),
        PersonEmail.objects.count(),
        PersonChange.objects.count(),
        OutboxEvent.objects.count(),
    )


def _columns(person: Person) -> dict[str, Any]:
    skip = {"id", "nation", "field_versions", "created_at", "updated_at"}
    return {
        f.attname: getattr(person, f.attname)
        for f in Person._meta.concrete_fields
        if f.name not in skip
    }


def _strip_versions(changes: dict[str, Any]) -> dict[str, Any]:
    return {name: {"old": c["old"], "new": c["new"]} for name, c in changes.items()}


def test_bulk_people_look_exactly_like_person_create_people(nation, other_nation):
    rows = ROWS + list(synthetic_people(40, seed=7))
    singles = [
        services.person_create(nation=nation, actor=Actor.system(), values_in=copy.deepcopy(row))
        for row in rows
    ]
    assert people_bulk_create(
        nation=other_nation, actor=Actor.system(), rows=iter(copy.deepcopy(rows)), batch_size=7
    ) == len(rows)

    bulk = list(Person.objects.filter(nation=other_nation).order_by("id"))
    assert len(bulk) == len(singles)
    for single, made in zip(singles, bulk, strict=True):
        single.refresh_from_db()
        assert _columns(made) == _columns(single)
        assert set(made.field_versions) == set(single.field_versions)
        assert {Version.from_json(v).origin for v in made.field_versions.values()} <= {
            other_nation.pk
        }

        (change,) = PersonChange.objects.filter(person=made)
        (single_change,) = PersonChange.objects.filter(person=single)
        assert (change.kind, change.source, change.actor_id) == ("create", "system", None)
        # The bulk path stores a creation compactly; read back, it is the single path's.
        assert _strip_versions(change.entries()) == _strip_versions(single_change.entries())
        assert {name: c["version"] for name, c in change.entries().items()} == made.field_versions

        emails = set(PersonEmail.objects.filter(person=made).values_list("slot", "address"))
        assert emails == set(
            PersonEmail.objects.filter(person=single).values_list("slot", "address")
        )
        assert all(made.nation_id == e.nation_id for e in PersonEmail.objects.filter(person=made))

        (event,) = OutboxEvent.objects.filter(person_id=made.pk)
        (single_event,) = OutboxEvent.objects.filter(person_id=single.pk)
        assert (event.kind, event.nation_id) == ("person.created", other_nation.pk)
        assert event.payload == {**single_event.payload, "change_id": change.pk}


def test_the_first_row_reads_as_given(nation):
    people_bulk_create(nation=nation, actor=Actor.system(), rows=ROWS)
    ada = Person.objects.get(nation=nation, last_name="Lovelace")
    assert (ada.first_name, ada.email1, ada.home_country_code) == ("Ada", "Ada@Example.ORG", "GB")
    assert ada.is_supporter is True
    assert set(PersonEmail.objects.filter(person=ada).values_list("address", flat=True)) == {
        "ada@example.org",
        "ada@work.example",
    }
    assert Person.objects.get(nation=nation, first_name="Grace").is_supporter is False
    assert Person.objects.get(nation=nation, last_name="Hopper").is_supporter is False


def test_every_written_field_gets_its_own_increasing_version(nation):
    people_bulk_create(
        nation=nation, actor=Actor.system(), rows=list(synthetic_people(30)), batch_size=8
    )
    stamps = []
    for person in Person.objects.filter(nation=nation).order_by("id"):
        versions = {Version.from_json(v) for v in person.field_versions.values()}
        assert len(versions) == 1  # one write, one version for all its fields
        stamps.append(versions.pop().ts)
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)


def test_history_and_events_name_the_actor(nation, admin):
    people_bulk_create(nation=nation, actor=Actor.for_user(admin, via="import"), rows=ROWS[:2])
    for change in PersonChange.objects.filter(nation=nation):
        assert (change.source, change.actor_id, change.kind) == ("import", admin.pk, "create")
    assert {e.payload["source"] for e in OutboxEvent.objects.filter(nation_id=nation.pk)} == {
        "import"
    }


def test_status_columns_may_be_given_per_row(nation):
    people_bulk_create(
        nation=nation,
        actor=Actor.system(),
        rows=[{"first_name": "A", "support_level": 5, "is_supporter": "true", "is_prospect": True}],
    )
    person = Person.objects.get(nation=nation)
    assert (person.is_supporter, person.is_prospect) == (True, True)
    assert set(person.field_versions) == {"first_name", "support_level"}


def test_a_user_of_another_nation_cannot_bulk_create(nation, other_admin):
    with pytest.raises(NotFound):
        people_bulk_create(nation=nation, actor=Actor.for_user(other_admin), rows=ROWS)
    assert _counts() == (0, 0, 0, 0)


# --- refused rows: the row number, and nothing written ---------------------------------------


def _refused(nation, rows, **kw) -> ValidationFailed:
    before = _counts()
    with pytest.raises(ValidationFailed) as info:
        people_bulk_create(nation=nation, actor=Actor.system(), rows=iter(rows), **kw)
    assert _counts() == before
    return info.value


def _fill(count: int, tag: str) -> list[dict[str, Any]]:
    return [{"first_name": f"P{i}", "email1": f"{tag}{i}@example.org"} for i in range(count)]


def test_a_duplicate_email_in_the_stream_differing_in_case_and_space_is_refused(nation):
    rows = _fill(12, "p")
    rows[11]["email2"] = "  P3@EXAMPLE.org "
    error = _refused(nation, rows)
    assert set(error.errors) == {"row 12: email2"}
    assert "row 4" in error.errors["row 12: email2"]
    assert "row 12" in error.detail


def test_a_duplicate_email_in_a_later_batch_is_refused_after_earlier_batches_were_written(nation):
    rows = _fill(25, "p")
    rows[21]["email1"] = "P2@example.org"
    error = _refused(nation, rows, batch_size=5)
    assert error.errors == {
        "row 22: email1": error.errors["row 22: email1"],
    }
    assert "p2@example.org is already in row 3" in error.errors["row 22: email1"]


def test_an_email_a_stored_profile_holds_is_refused(nation, make_person):
    make_person(nation, first_name="Ada", last_name="Lovelace", email1="ada@example.org")
    rows = _fill(5, "p")
    rows[3]["email3"] = "ADA@example.org"
    error = _refused(nation, rows)
    assert list(error.errors) == ["row 4: email3"]
    assert "Ada Lovelace (person " in error.errors["row 4: email3"]


def test_the_same_email_twice_in_one_row_is_refused(nation):
    error = _refused(nation, [{"email1": "a@example.org", "email2": "A@example.org"}])
    assert list(error.errors) == ["row 1: email2"]


def test_a_stored_email_of_another_nation_is_no_clash(nation, other_nation, make_person):
    make_person(other_nation, email1="ada@example.org")
    assert (
        people_bulk_create(
            nation=nation, actor=Actor.system(), rows=[{"email1": "ada@example.org"}]
        )
        == 1
    )


def test_a_duplicate_unique_id_is_refused_in_the_stream_and_against_stored_data(
    nation, make_person
):
    make_person(nation, first_name="Old", van_id="V-1")
    rows = _fill(6, "p")
    rows[1]["nbec_guid"] = "g-1"
    rows[4]["nbec_guid"] = "g-1"
    rows[5]["van_id"] = "V-1"
    error = _refused(nation, rows, batch_size=3)
    assert set(error.errors) == {"row 5: nbec_guid", "row 6: van_id"}
    assert "row 2" in error.errors["row 5: nbec_guid"]
    assert "Old (person " in error.errors["row 6: van_id"]


def test_state_file_id_clashes_only_within_the_same_registered_state(nation, make_person):
    make_person(nation, state_file_id="SF-9", registered_address={"state": "OH"})
    other_states = [
        {"state_file_id": "SF-9", "registered_address": {"state": "TX"}},
        {"state_file_id": "SF-9", "registered_address": {"state": "VA", "county": "Fairfax"}},
        {"state_file_id": "SF-9"},
    ]
    assert people_bulk_create(nation=nation, actor=Actor.system(), rows=other_states) == 3

    error = _refused(
        nation,
        [
            {"first_name": "A"},
            {"state_file_id": "SF-9", "registered_address": {"state": "OH", "city": "X"}},
        ],
    )
    assert list(error.errors) == ["row 2: state_file_id"]
    assert "registered_state 'OH'" in error.errors["row 2: state_file_id"]

    error = _refused(nation, [{"state_file_id": "SF-1", "registered_address": {"state": "OH"}}] * 2)
    assert list(error.errors) == ["row 2: state_file_id"]


def test_a_bad_date_is_refused_with_its_row_and_every_other_bad_row_is_listed(nation):
    rows = _fill(30, "p")
    rows[9]["birthdate"] = "31/12/1990"
    rows[24]["support_level"] = 9
    rows[26] = "not a row"  # type: ignore[call-overload]
    error = _refused(nation, rows, batch_size=10)
    assert set(error.errors) == {"row 10: birthdate", "row 25: support_level", "row 27"}
    assert "YYYY-MM-DD" in error.errors["row 10: birthdate"]
    assert error.detail.startswith("3 rows are not valid, so no one was created")


def test_row_numbers_may_start_elsewhere_for_a_file_with_a_header(nation):
    error = _refused(nation, [{"first_name": "A"}, {"email1": "nope"}], first_row=2)
    assert list(error.errors) == ["row 3: email1"]


def test_unknown_fields_are_refused_like_person_create_refuses_them(nation):
    error = _refused(nation, [{"email5": "a@example.org"}])
    assert "at most 4 emails" in error.errors["row 1: email5"]


# --- set-based: queries grow with batches, never with rows -----------------------------------


def _identity_rows(count: int, tag: str) -> list[dict[str, Any]]:
    return [
        {
            "first_name": f"P{i}",
            "email1": f"{tag}{i}@example.org",
            "email2": f"{tag}{i}@work.example",
            "nbec_guid": f"{tag}-{i}",
            "state_file_id": f"{tag}-{i}",
            "registered_address": {"state": "OH"},
        }
        for i in range(count)
    ]


def _queries(nation, rows, batch_size) -> int:
    # A first call looks up names it then keeps (the foreign keys checked as rows arrive).
    people_bulk_create(nation=nation, actor=Actor.system(), rows=[{"first_name": "Warm"}])
    with CaptureQueriesContext(connection) as ctx:
        people_bulk_create(nation=nation, actor=Actor.system(), rows=rows, batch_size=batch_size)
    return len(ctx.captured_queries)


def test_queries_do_not_grow_with_rows(nation, django_assert_max_num_queries):
    small = _queries(nation, _identity_rows(50, "a"), batch_size=500)
    large = _queries(nation, _identity_rows(500, "b"), batch_size=500)
    assert small == large
    # allocate ids x2, email check, two unique-ID checks, four bulk writes, savepoint in/out;
    # on PostgreSQL the foreign keys are checked as rows arrive (SET CONSTRAINTS in and out),
    # on SQLite the page cache grows for the call (read the size, set it, set it back)
    with django_assert_max_num_queries(13 if connection.vendor == "postgresql" else 14):
        people_bulk_create(
            nation=nation, actor=Actor.system(), rows=_identity_rows(500, "c"), batch_size=500
        )
    assert Person.objects.filter(nation=nation).exclude(first_name="Warm").count() == 1050


def test_queries_grow_with_batches_not_rows(nation):
    one_batch = _queries(nation, _identity_rows(100, "a"), batch_size=100)
    one_big_batch = _queries(nation, _identity_rows(500, "b"), batch_size=500)
    five_batches = _queries(nation, _identity_rows(500, "c"), batch_size=100)
    # Once per call: the savepoint in and out, and PostgreSQL's SET CONSTRAINTS in and out or
    # SQLite's page cache (read, set, set back).
    per_call = 2 + (2 if connection.vendor == "postgresql" else 3)
    assert one_big_batch == one_batch
    # Ids are taken several batches ahead, so five batches ask less than five times.
    assert one_batch < five_batches < per_call + 5 * (one_batch - per_call)


def test_catalog_unique_ids_are_all_checked(nation, make_person):
    # A unique ID added to the catalog is checked without touching the bulk path.
    for i, name in enumerate(catalog.UNIQUE_IDS):
        make_person(nation, **{name: f"id-{i}"})
    rows = [{name: f"id-{i}"} for i, name in enumerate(catalog.UNIQUE_IDS)]
    error = _refused(nation, rows)
    assert set(error.errors) == {
        f"row {i + 1}: {name}" for i, name in enumerate(catalog.UNIQUE_IDS)
    }


@pytest.mark.skipif(connection.vendor != "postgresql", reason="planner statistics are PostgreSQL's")
def test_the_planner_learns_of_a_nation_that_grows_inside_the_call(nation, monkeypatch):
    # Without this the identity lookups of a big first import may walk the whole nation per batch.
    monkeypatch.setattr(bulk._PlannerStatistics, "FIRST_AT", 100)
    people_bulk_create(nation=nation, actor=Actor.system(), rows=_fill(400, "s"), batch_size=100)
    statistics = bulk._PlannerStatistics(nation)
    with connection.cursor() as cursor:
        estimates = {table: statistics._estimate(cursor, table) for table in statistics.TABLES}
    assert all(estimate >= 200 for estimate in estimates.values()), estimates


@pytest.mark.django_db
def test_bulk_update_never_cuts_a_value_short(nation, make_person):
    """Callers pass cleaned values; should one still be too long, PostgreSQL refuses the write
    (as a plain UPDATE would) instead of storing it cut — SQLite keeps it whole."""
    from django.db import DataError, connection, transaction

    from tagshare.people.bulk_update import Write, people_bulk_update

    person = Person.objects.get(pk=make_person(nation, email1="a@x.org").pk)
    write = Write(person, {"suffix": "x" * 60, "occupation": "Nurse"})
    if connection.vendor == "postgresql":
        with pytest.raises(DataError), transaction.atomic():
            people_bulk_update(nation=nation, actor=Actor.system(), writes=[write])
        assert Person.objects.get(pk=person.pk).suffix == ""
    else:
        people_bulk_update(nation=nation, actor=Actor.system(), writes=[write])
        assert Person.objects.get(pk=person.pk).suffix == "x" * 60


def test_locked_profiles_read_exactly_as_the_orm_reads_them(nation):
    from django.db import transaction

    from tagshare.people.bulk_update import people_for_update

    person = services.person_create(
        nation=nation,
        actor=Actor.system(),
        values_in={
            "first_name": "Ada",
            "birthdate": "1990-02-03",
            "email_opt_in": True,
            "home_address": {"city": "Chicago", "state": "IL"},
        },
    )
    with transaction.atomic():
        assert people_for_update([]) == {}
        loaded = people_for_update([person.pk])[person.pk]
    expected = Person.objects.get(pk=person.pk)
    for field in Person._meta.concrete_fields:
        got, want = getattr(loaded, field.attname), getattr(expected, field.attname)
        assert (got, type(got)) == (want, type(want)), field.attname


def test_vouched_rows_still_meet_the_databases_unique_indexes(nation, make_person):
    # `vouched` skips the lookups of stored profiles; a caller wrong about that gets a clash
    # (Conflict) and nothing written, never a second profile with the same email.
    from django.db import transaction

    from tagshare.errors import Conflict

    make_person(nation, email1="taken@example.org", first_name="First")
    rows = [{"email1": f"new{i}@example.org", "first_name": "New"} for i in range(30)]
    rows.append({"email1": "TAKEN@example.org", "first_name": "Second"})
    with pytest.raises(Conflict), transaction.atomic():
        people_bulk_create(nation=nation, actor=Actor.system(), rows=rows, vouched=True)
    assert list(Person.objects.filter(nation=nation).values_list("first_name", flat=True)) == [
        "First"
    ]


def test_vouched_rows_repeating_each_other_in_a_batch_are_still_reported(nation):
    rows = [{"email1": "same@example.org"}, {"email1": "same@example.org"}]
    error = _refused(nation, rows, vouched=True)
    assert list(error.errors) == ["row 2: email1"]
    assert not Person.objects.filter(nation=nation).exists()
