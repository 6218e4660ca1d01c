"""Every write of a field records a version and a history entry (SPEC §2.3)."""

import pytest

from tagshare.errors import NotAllowed
from tagshare.nations.actors import Actor
from tagshare.outbox.hlc import Version
from tagshare.people import services
from tagshare.people.models import PersonChange
from tagshare.people.selectors import person_history


def _version(person, field):
    return Version.from_json(person.field_versions[field])


def test_create_versions_every_written_field_with_this_nation_as_origin(nation, make_person):
    person = make_person(
        nation, first_name="Ada", birthdate="1815-12-10", home_address={"city": "London"}
    )
    assert set(person.field_versions) == {"first_name", "birthdate", "home_address"}
    assert {_version(person, f).origin for f in person.field_versions} == {nation.pk}
    change = PersonChange.objects.get(person=person)
    assert change.kind == "create"
    assert change.changes["birthdate"] == {
        "old": None,
        "new": "1815-12-10",
        "version": person.field_versions["birthdate"],
    }
    assert change.changes["home_address"]["new"]["city"] == "London"


def test_update_bumps_only_the_changed_fields(nation, make_person):
    person = make_person(nation, first_name="Ada", last_name="Byron")
    before = dict(person.field_versions)
    services.person_update(
        nation=nation,
        actor=Actor.system(),
        person=person,
        changes={"first_name": "Ada", "last_name": "Lovelace"},
    )
    assert person.field_versions["first_name"] == before["first_name"]
    assert _version(person, "last_name") > Version.from_json(before["last_name"])
    entries = person_history(nation, person, field="last_name")
    assert [(e["old"], e["new"]) for e in entries] == [("Byron", "Lovelace"), ("", "Byron")]


def test_a_write_that_changes_nothing_records_nothing(nation, make_person):
    person = make_person(nation, first_name="Ada", email1="a@x.org")
    before = PersonChange.objects.count()
    result = services.person_update(
        nation=nation,
        actor=Actor.system(),
        person=person,
        changes={"first_name": " Ada ", "email1": "a@x.org", "middle_name": None},
    )
    assert result is None
    assert PersonChange.objects.count() == before


def test_history_names_the_source_and_the_user(nation, admin, make_person):
    person = make_person(nation, first_name="Ada")
    services.person_update(
        nation=nation,
        actor=Actor.for_user(admin, via="api"),
        person=person,
        changes={"first_name": "Ana"},
    )
    newest = person_history(nation, person)[0]
    assert (newest["field"], newest["old"], newest["new"]) == ("first_name", "Ada", "Ana")
    assert (newest["source"], newest["actor"]) == ("api", admin.email)


def test_restore_writes_the_old_value_again_as_a_new_write(nation, admin, make_person):
    person = make_person(nation, occupation="Poet")
    change = services.person_update(
        nation=nation, actor=Actor.system(), person=person, changes={"occupation": "Mathematician"}
    )
    overwritten_version = _version(person, "occupation")
    services.person_restore_value(
        nation=nation,
        actor=Actor.for_user(admin),
        person=person,
        change_id=change.pk,
        field="occupation",
    )
    person.refresh_from_db()
    assert person.occupation == "Poet"
    assert _version(person, "occupation") > overwritten_version
    assert person_history(nation, person)[0]["kind"] == "restore"


def test_only_admins_restore(nation, staff, make_person):
    person = make_person(nation, occupation="Poet")
    change = services.person_update(
        nation=nation, actor=Actor.system(), person=person, changes={"occupation": "Clerk"}
    )
    with pytest.raises(NotAllowed):
        services.person_restore_value(
            nation=nation,
            actor=Actor.for_user(staff),
            person=person,
            change_id=change.pk,
            field="occupation",
        )


def test_a_carried_version_is_kept_and_replaying_it_changes_nothing(
    nation, other_nation, make_person
):
    person = make_person(nation, occupation="Poet")
    remote = Version(_version(person, "occupation").ts + 10, other_nation.pk)
    services.person_update(
        nation=nation,
        actor=Actor.share(7),
        person=person,
        changes={"occupation": "Engineer"},
        versions={"occupation": remote},
    )
    assert _version(person, "occupation") == remote
    assert PersonChange.objects.filter(person=person).first().share_id == 7
    count = PersonChange.objects.count()
    # The same write again, and an older one: both are no-ops.
    for version, value in ((remote, "Engineer"), (Version(remote.ts - 5, other_nation.pk), "Old")):
        assert (
            services.person_update(
                nation=nation,
                actor=Actor.share(7),
                person=person,
                changes={"occupation": value},
                versions={"occupation": version},
            )
            is None
        )
    person.refresh_from_db()
    assert person.occupation == "Engineer"
    assert PersonChange.objects.count() == count


def test_a_local_write_after_a_carried_future_version_is_newer_still(
    nation, other_nation, make_person
):
    person = make_person(nation, occupation="Poet")
    future = Version((_version(person, "occupation").ts) + (10**6 << 16), other_nation.pk)
    services.person_update(
        nation=nation,
        actor=Actor.share(1),
        person=person,
        changes={"occupation": "Future"},
        versions={"occupation": future},
    )
    services.person_update(
        nation=nation, actor=Actor.system(), person=person, changes={"occupation": "Now"}
    )
    assert _version(person, "occupation") > future


def test_support_level_sets_supporter_status(nation, make_person):
    person = make_person(nation, support_level=2)
    assert person.is_supporter is True
    services.person_update(
        nation=nation, actor=Actor.system(), person=person, changes={"support_level": 5}
    )
    person.refresh_from_db()
    assert person.is_supporter is False


def test_deleting_a_nation_takes_its_peoples_history_and_emails_and_no_one_elses(
    nation, other_nation, make_person
):
    # Their nation keys are not checked by the database (nor followed on delete): the rows go
    # with their person.
    from tagshare.people.models import PersonEmail

    make_person(nation, first_name="Ada", email1="ada@x.org")
    kept = make_person(other_nation, first_name="Bob", email1="ada@x.org")
    nation.delete()
    assert list(PersonChange.objects.values_list("person_id", flat=True)) == [kept.pk]
    assert list(PersonEmail.objects.values_list("person_id", "address")) == [(kept.pk, "ada@x.org")]


def test_deleting_a_profile_takes_its_history_and_leaves_the_others(nation, make_person):
    # The history's profile key is not checked by the database: the deletion removes the rows.
    gone = make_person(nation, first_name="Ada")
    kept = make_person(nation, first_name="Bob")
    services.person_update(
        nation=nation, actor=Actor.system(), person=gone, changes={"last_name": "Byron"}
    )
    services.person_delete(nation=nation, actor=Actor.system(), person=gone)
    assert set(PersonChange.objects.values_list("person_id", flat=True)) == {kept.pk}


def test_a_fields_history_is_its_own_whatever_the_values_say(nation, make_person):
    # History documents are stored as text and narrowed by text in SQL; a value that spells
    # another field's key must not make its write part of that field's history.
    from django.db import connection

    from tagshare.people.bulk import people_bulk_create

    person = make_person(nation, first_name="Ada", last_name="Byron")
    services.person_update(
        nation=nation, actor=Actor.system(), person=person, changes={"note": '"last_name": x'}
    )
    people_bulk_create(
        nation=nation, actor=Actor.system(), rows=[{"first_name": "Bo", "last_name": "Bulk"}]
    )
    bulk = PersonChange.objects.exclude(person=person).get().person
    assert [e["new"] for e in person_history(nation, person, field="last_name")] == ["Byron"]
    assert [e["new"] for e in person_history(nation, bulk, field="last_name")] == ["Bulk"]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT changes FROM {PersonChange._meta.db_table} WHERE person_id = %s", [bulk.pk]
        )
        (stored,) = cursor.fetchone()
    assert isinstance(stored, str) and '"last_name":' in stored


def test_a_bulk_created_profiles_history_reads_like_any_other(nation, admin, make_person):
    # The bulk path (imports, a share's new profiles) stores a creation compactly: the old
    # values are implied blanks and the fields share one version, unless a value carries its own.
    from tagshare.people.bulk import VERSIONS, people_bulk_create

    carried = Version(42, 999)
    rows = [
        {"first_name": "Ada", "home_address": {"city": "London"}, VERSIONS: {"last_name": carried}},
        {"first_name": "Bob", "last_name": "Byron"},
    ]
    rows[0]["last_name"] = "Lovelace"
    created: list[tuple[int, int]] = []
    people_bulk_create(nation=nation, actor=Actor.system(), rows=rows, on_created=created.extend)
    ada = services.Person.objects.get(pk=dict(created)[1])
    single = make_person(nation, first_name="Ada", home_address={"city": "London"})

    def shown(person):
        return {
            e["field"]: (e["old"], e["new"], e["version"], e["kind"])
            for e in person_history(nation, person)
        }

    entries = shown(ada)
    assert set(entries) == {"first_name", "last_name", "home_address"}
    assert entries["last_name"] == ("", "Lovelace", [42, 999], "create")
    assert entries["first_name"][2] == ada.field_versions["first_name"] != [42, 999]
    # the blanks the single path records as old values
    old_single = {e["field"]: e["old"] for e in person_history(nation, single)}
    assert entries["home_address"][0] == old_single["home_address"]
    assert entries["first_name"][:2] == ("", "Ada")
    # one field's history, and restoring a value of the compact record
    assert [e["field"] for e in person_history(nation, ada, field="last_name")] == ["last_name"]
    change_id = person_history(nation, ada)[0]["change_id"]
    services.person_restore_value(
        nation=nation,
        actor=Actor.for_user(admin),
        person=ada,
        change_id=change_id,
        field="first_name",
        which="old",
    )
    ada.refresh_from_db()
    assert ada.first_name == ""
