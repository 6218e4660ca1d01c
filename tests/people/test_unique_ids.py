"""Unique IDs are unique within a nation when not blank; file IDs are qualified (SPEC §2.2)."""

import pytest
from django.db import IntegrityError, transaction

from tagshare.errors import Conflict
from tagshare.nations.actors import Actor
from tagshare.people import services
from tagshare.people.models import Person

REG_IL = {"state": "IL", "county": "Cook"}
REG_OH = {"state": "OH", "county": "Cook"}


@pytest.mark.parametrize("field", ["nbec_guid", "twitter_id", "linkedin_id", "van_id", "rnc_id"])
def test_a_unique_id_held_by_another_profile_is_refused(nation, make_person, field):
    holder = make_person(nation, first_name="Ann", **{field: "X-1"})
    with pytest.raises(Conflict) as exc:
        make_person(nation, first_name="Ben", **{field: "X-1"})
    assert f"person {holder.pk}" in exc.value.detail
    assert field in exc.value.errors
    assert Person.objects.count() == 1


def test_blank_ids_never_clash(nation, make_person):
    make_person(nation, first_name="A", nbec_guid="")
    make_person(nation, first_name="B", nbec_guid=None)
    make_person(nation, first_name="C")
    assert Person.objects.filter(nbec_guid__isnull=True).count() == 3


def test_ids_are_per_nation(nation, other_nation, make_person):
    make_person(nation, nbec_guid="G-1")
    make_person(other_nation, nbec_guid="G-1")


def test_state_file_id_is_unique_together_with_registered_state(nation, make_person):
    make_person(nation, state_file_id="S-9", registered_address=REG_IL)
    make_person(nation, state_file_id="S-9", registered_address=REG_OH)  # another state: fine
    with pytest.raises(Conflict) as exc:
        make_person(nation, state_file_id="S-9", registered_address={"state": "IL"})
    assert "registered_state" in exc.value.detail


def test_county_file_id_is_unique_with_registered_state_and_county(nation, make_person):
    make_person(nation, county_file_id="C-1", registered_address={"state": "IL", "county": "Cook"})
    make_person(nation, county_file_id="C-1", registered_address={"state": "IL", "county": "Lake"})
    with pytest.raises(Conflict):
        make_person(
            nation, county_file_id="C-1", registered_address={"state": "IL", "county": "Cook"}
        )


def test_moving_the_registered_address_into_a_clash_is_refused(nation, make_person):
    make_person(nation, state_file_id="S-1", registered_address=REG_IL)
    mover = make_person(nation, state_file_id="S-1", registered_address=REG_OH)
    with pytest.raises(Conflict):
        services.person_update(
            nation=nation,
            actor=Actor.system(),
            person=mover,
            changes={"registered_address": REG_IL},
        )
    mover.refresh_from_db()
    assert mover.registered_state == "OH"


def test_the_database_enforces_unique_ids(nation, make_person):
    make_person(nation, nbec_guid="G-2")
    other = make_person(nation, first_name="Z")
    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.filter(pk=other.pk).update(nbec_guid="G-2")
