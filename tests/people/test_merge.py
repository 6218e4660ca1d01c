"""Merging two profiles folds one into the other (SPEC §8)."""

import pytest

from tagshare.errors import NotFound, ValidationFailed
from tagshare.nations.actors import Actor
from tagshare.people.merge import person_merge
from tagshare.people.models import Person, PersonEmail
from tagshare.people.selectors import person_history, person_tags
from tagshare.people.services import person_restore_value
from tagshare.tags.services import tag_apply


def test_merge_folds_emails_ids_tags_and_history_into_the_kept_profile(nation, admin, make_person):
    keep = make_person(
        nation, first_name="Sam", last_name="Lee", email1="sam@x.org", occupation="Chef"
    )
    other = make_person(
        nation,
        first_name="Samuel",
        last_name="Lee",
        email1="sam.lee@y.org",
        twitter_login="samlee",
        occupation="Cook",
        employer="Diner",
    )
    tag_apply(nation=nation, actor=Actor.system(), person=keep, name="donor")
    tag_apply(nation=nation, actor=Actor.system(), person=other, name="donor")
    tag_apply(nation=nation, actor=Actor.system(), person=other, name="volunteer")
    merged = person_merge(nation=nation, actor=Actor.for_user(admin), keep=keep, other=other)
    assert not Person.objects.filter(pk=other.pk).exists()
    assert (merged.email1, merged.email2) == ("sam@x.org", "sam.lee@y.org")
    assert PersonEmail.objects.get(address="sam.lee@y.org").person_id == keep.pk
    assert (merged.twitter_login, merged.employer) == ("samlee", "Diner")
    assert (merged.first_name, merged.occupation) == ("Sam", "Chef")  # kept profile wins
    assert person_tags(merged) == ["donor", "volunteer"]
    history = person_history(nation, merged)
    kinds = {e["kind"] for e in history}
    assert {"create", "merge"} <= kinds
    lost = next(e for e in history if e["kind"] == "merge" and e["field"] == "occupation")
    assert (lost["old"], lost["new"]) == ("Cook", "Chef")
    # The losing value can be restored from history.
    person_restore_value(
        nation=nation,
        actor=Actor.for_user(admin),
        person=merged,
        change_id=lost["change_id"],
        field="occupation",
    )
    merged.refresh_from_db()
    assert merged.occupation == "Cook"


def test_merge_refuses_more_than_four_emails_and_changes_nothing(nation, make_person):
    keep = make_person(nation, email1="a@x.org", email2="b@x.org", email3="c@x.org")
    other = make_person(nation, email1="d@x.org", email2="e@x.org")
    with pytest.raises(ValidationFailed) as exc:
        person_merge(nation=nation, actor=Actor.system(), keep=keep, other=other)
    assert "more than 4 emails" in exc.value.detail
    assert Person.objects.filter(pk=other.pk).exists()
    assert PersonEmail.objects.filter(person=other).count() == 2


def test_merge_stays_within_one_nation(nation, other_nation, make_person):
    keep = make_person(nation, email1="a@x.org")
    theirs = make_person(other_nation, email1="b@x.org")
    with pytest.raises(NotFound):
        person_merge(nation=nation, actor=Actor.system(), keep=keep, other=theirs)
    with pytest.raises(ValidationFailed):
        person_merge(nation=nation, actor=Actor.system(), keep=keep, other=keep)


def test_merging_resolves_an_ambiguous_match(nation, make_person):
    from tagshare.matching import engine

    a = make_person(nation, first_name="Kim", last_name="Park", birthdate="1970-01-01")
    b = make_person(nation, first_name="Kim", last_name="Park", birthdate="1970-01-01")
    incoming = {"first_name": "Kim", "last_name": "Park", "birthdate": "1970-01-01"}
    from tagshare.people.values import clean_changes

    assert engine.match_one(nation=nation, values=clean_changes(incoming)).status == "ambiguous"
    person_merge(nation=nation, actor=Actor.system(), keep=a, other=b)
    outcome = engine.match_one(nation=nation, values=clean_changes(incoming))
    assert (outcome.status, outcome.person_id) == ("matched", a.pk)


def test_possible_duplicates_lists_groups_the_cascade_would_confuse(nation, make_person):
    from tagshare.matching.selectors import possible_duplicates

    a = make_person(nation, first_name="Kim", last_name="Park", birthdate="1970-01-01")
    b = make_person(
        nation, first_name="KIM", last_name="park", birthdate="1970-01-01", email1="k@x.org"
    )
    c = make_person(nation, first_name="Lee", last_name="Ray", mobile="312-555-0100")
    d = make_person(nation, first_name="Lee", last_name="Ray", mobile="(312) 555 0100")
    make_person(nation, first_name="Lee", last_name="Ray", birthdate="1980-01-01")
    groups = {(g.reason, g.person_ids) for g in possible_duplicates(nation)}
    assert groups == {
        ("same name and birthdate", (a.pk, b.pk)),
        ("same name and phone", (c.pk, d.pk)),
    }


def test_only_admins_merge(nation, staff, make_person):
    from tagshare.errors import NotAllowed

    keep = make_person(nation, email1="a@x.org")
    other = make_person(nation, email1="b@x.org")
    with pytest.raises(NotAllowed):
        person_merge(nation=nation, actor=Actor.for_user(staff), keep=keep, other=other)
    assert Person.objects.filter(pk=other.pk).exists()
