"""Push (overwrite) and add (fill blanks) one profile through the matching engine."""

import pytest

from tagshare.errors import Conflict, ValidationFailed
from tagshare.imports.push import person_push
from tagshare.nations.actors import Actor
from tagshare.people.models import Person


def test_push_creates_when_nothing_matches_and_overwrites_when_something_does(nation, make_person):
    first = person_push(
        nation=nation,
        actor=Actor.system(),
        values_in={"email1": "a@x.org", "occupation": "Poet"},
        overwrite=True,
    )
    assert first.created and first.person.occupation == "Poet"
    again = person_push(
        nation=nation,
        actor=Actor.system(),
        values_in={"email1": "A@x.org", "occupation": "Chef"},
        overwrite=True,
    )
    assert (again.created, again.rule, again.person.pk) == (False, "email", first.person.pk)
    assert Person.objects.get(pk=first.person.pk).occupation == "Chef"


def test_add_fills_only_blank_fields(nation, make_person):
    person = make_person(nation, email1="a@x.org", occupation="Poet")
    result = person_push(
        nation=nation,
        actor=Actor.system(),
        values_in={"email1": "a@x.org", "occupation": "Chef", "employer": "Inn"},
        overwrite=False,
    )
    person.refresh_from_db()
    assert (result.created, person.occupation, person.employer) == (False, "Poet", "Inn")


def test_push_refuses_ambiguous_matches_and_unidentifiable_people(nation, make_person):
    make_person(nation, first_name="Sam", last_name="Lee", birthdate="1990-01-01")
    make_person(nation, first_name="Sam", last_name="Lee", birthdate="1990-01-01")
    with pytest.raises(Conflict) as exc:
        person_push(
            nation=nation,
            actor=Actor.system(),
            values_in={"first_name": "Sam", "last_name": "Lee", "birthdate": "1990-01-01"},
            overwrite=True,
        )
    assert "Merge the duplicates" in exc.value.detail
    with pytest.raises(ValidationFailed):
        person_push(
            nation=nation, actor=Actor.system(), values_in={"first_name": "Sam"}, overwrite=True
        )
    assert Person.objects.count() == 2
