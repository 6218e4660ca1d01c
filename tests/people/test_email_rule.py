"""An email is in at most one profile of a nation, and a person has at most four (SPEC §2.2)."""

import pytest
from django.db import IntegrityError, transaction

from tagshare.errors import Conflict, ValidationFailed
from tagshare.nations.actors import Actor
from tagshare.outbox.models import OutboxEvent
from tagshare.people import services
from tagshare.people.models import Person, PersonChange, PersonEmail


def _counts():
    return (
        Person.objects.count(),
        PersonEmail.objects.count(),
        PersonChange.objects.count(),
        OutboxEvent.objects.count(),
    )


@pytest.mark.parametrize("variant", ["ada@example.org", "ADA@Example.ORG", "  ada@example.org  "])
def test_same_email_in_a_second_profile_is_refused_naming_the_holder(nation, make_person, variant):
    holder = make_person(nation, first_name="Ada", last_name="Lovelace", email1="Ada@example.org")
    before = _counts()
    with pytest.raises(Conflict) as exc:
        services.person_create(
            nation=nation, actor=Actor.system(), values_in={"first_name": "Eve", "email2": variant}
        )
    assert "ada@example.org" in exc.value.detail
    assert f"person {holder.pk}" in exc.value.detail
    assert "email2" in exc.value.errors
    assert _counts() == before


def test_update_taking_another_profiles_email_changes_nothing(nation, make_person):
    make_person(nation, email1="one@example.org")
    other = make_person(nation, first_name="Bo", email1="two@example.org")
    before = _counts()
    with pytest.raises(Conflict):
        services.person_update(
            nation=nation,
            actor=Actor.system(),
            person=other,
            changes={"first_name": "Bob", "email2": " ONE@example.org"},
        )
    other.refresh_from_db()
    assert (other.first_name, other.email2) == ("Bo", "")
    assert _counts() == before


def test_the_same_email_may_live_in_two_nations(nation, other_nation, make_person):
    make_person(nation, email1="shared@example.org")
    make_person(other_nation, email1="shared@example.org")
    assert PersonEmail.objects.filter(address="shared@example.org").count() == 2


def test_a_fifth_email_is_a_clear_error_not_a_silent_drop(nation, make_person):
    person = make_person(
        nation, email1="a@x.org", email2="b@x.org", email3="c@x.org", email4="d@x.org"
    )
    with pytest.raises(ValidationFailed) as exc:
        services.person_add_email(
            nation=nation, actor=Actor.system(), person=person, email="e@x.org"
        )
    assert "already has 4 emails" in exc.value.detail
    with pytest.raises(ValidationFailed) as exc2:
        services.person_update(
            nation=nation, actor=Actor.system(), person=person, changes={"email5": "e@x.org"}
        )
    assert "at most 4 emails" in exc2.value.detail
    person.refresh_from_db()
    assert [person.email1, person.email2, person.email3, person.email4] == [
        "a@x.org",
        "b@x.org",
        "c@x.org",
        "d@x.org",
    ]


def test_add_email_fills_the_first_free_slot_and_ignores_one_already_there(nation, make_person):
    person = make_person(nation, email1="a@x.org")
    services.person_add_email(nation=nation, actor=Actor.system(), person=person, email="b@x.org")
    assert (
        services.person_add_email(
            nation=nation, actor=Actor.system(), person=person, email="A@X.org"
        )
        is None
    )
    person.refresh_from_db()
    assert (person.email1, person.email2, person.email3) == ("a@x.org", "b@x.org", "")


def test_the_same_email_twice_in_one_profile_is_refused(nation):
    with pytest.raises(ValidationFailed) as exc:
        services.person_create(
            nation=nation,
            actor=Actor.system(),
            values_in={"email1": "a@x.org", "email3": "A@x.org "},
        )
    assert "email3" in exc.value.errors
    assert Person.objects.count() == 0


def test_a_freed_email_can_be_taken_by_another_profile(nation, make_person):
    first = make_person(nation, email1="move@x.org")
    services.person_update(
        nation=nation, actor=Actor.system(), person=first, changes={"email1": ""}
    )
    second = make_person(nation, email1="Move@x.org")
    assert PersonEmail.objects.get(address="move@x.org").person_id == second.pk


def test_moving_an_email_between_slots_of_one_profile(nation, make_person):
    person = make_person(nation, email1="a@x.org", email2="b@x.org")
    services.person_update(
        nation=nation,
        actor=Actor.system(),
        person=person,
        changes={"email1": "b@x.org", "email2": "a@x.org"},
    )
    assert dict(PersonEmail.objects.filter(person=person).values_list("slot", "address")) == {
        "email1": "b@x.org",
        "email2": "a@x.org",
    }


def test_the_database_itself_enforces_one_profile_per_email(nation, make_person):
    make_person(nation, email1="db@x.org")
    other = make_person(nation, email1="other@x.org")
    with pytest.raises(IntegrityError), transaction.atomic():
        PersonEmail.objects.create(nation=nation, person=other, slot="email2", address="db@x.org")


def test_invalid_email_is_a_validation_error(nation):
    with pytest.raises(ValidationFailed) as exc:
        services.person_create(
            nation=nation, actor=Actor.system(), values_in={"email1": "not-an-email"}
        )
    assert "not a valid email" in exc.value.detail


def test_an_email_longer_than_254_characters_is_refused(nation):
    long_email = "a" * 64 + "@" + ("b" * 60 + ".") * 3 + "exa.org"
    assert len(long_email) == 255
    with pytest.raises(ValidationFailed) as exc:
        services.person_create(
            nation=nation, actor=Actor.system(), values_in={"email1": long_email}
        )
    assert "longer than 254" in exc.value.detail
