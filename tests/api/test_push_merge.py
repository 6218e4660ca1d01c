"""Push, add, merge and possible duplicates through the API: the matching engine for one profile."""

from __future__ import annotations

import pytest

from tagshare.nations.actors import Actor
from tagshare.people.models import Person
from tagshare.tags.services import tag_apply
from tests.api.conftest import assert_error

pytestmark = pytest.mark.django_db


def test_push_creates_then_matches_by_email_in_any_case_and_overwrites(admin_api, nation):
    created = admin_api.put(
        "/people/push",
        {"email1": "ada@example.org", "first_name": "Ada", "occupation": "Poet", "tags": ["new"]},
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["created"], body["rule"]) == (True, "")
    person = body["person"]
    assert (person["first_name"], person["occupation"], person["tags"]) == ("Ada", "Poet", ["new"])

    matched = admin_api.put(
        "/people/push", {"email1": " ADA@Example.org ", "occupation": "Mathematician"}
    )
    assert matched.status_code == 200, matched.json()
    body = matched.json()
    assert (body["created"], body["rule"]) == (False, "email")
    assert body["person"]["id"] == person["id"]
    assert body["person"]["occupation"] == "Mathematician"
    assert body["person"]["first_name"] == "Ada"  # not sent, so kept
    assert Person.objects.filter(nation=nation).count() == 1
    history = admin_api.get(f"/people/{person['id']}/history", {"field": "occupation"}).json()
    latest = history["results"][0]
    assert (latest["old"], latest["new"]) == ("Poet", "Mathematician")


def test_add_fills_only_blank_fields(admin_api, nation, make_person):
    existing = make_person(nation, email1="ada@example.org", occupation="Poet")
    response = admin_api.put(
        "/people/add",
        {"email1": "ada@example.org", "occupation": "Mathematician", "employer": "Engines"},
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["created"], body["rule"], body["person"]["id"]) == (False, "email", existing.pk)
    assert (body["person"]["occupation"], body["person"]["employer"]) == ("Poet", "Engines")


def test_blank_values_in_a_push_never_clear_a_field(admin_api, nation, make_person):
    existing = make_person(nation, email1="ada@example.org", occupation="Poet")
    response = admin_api.put(
        "/people/push", {"email1": "ada@example.org", "occupation": None, "employer": ""}
    )
    assert response.status_code == 200
    existing.refresh_from_db()
    assert existing.occupation == "Poet"


def test_an_ambiguous_push_is_a_409_listing_both_candidates(admin_api, nation, make_person):
    one = make_person(nation, first_name="Sam", last_name="Lee", birthdate="1990-01-01")
    two = make_person(nation, first_name="Sam", last_name="Lee", birthdate="1990-01-01")
    response = admin_api.put(
        "/people/push",
        {"first_name": "sam", "last_name": "LEE", "birthdate": "1990-01-01", "occupation": "Cook"},
    )
    body = assert_error(response, 409, "ambiguous", "merge")
    ids = {int(i) for i in body["errors"]["candidates"].split(",")}
    assert ids == {one.pk, two.pk}
    assert str(one.pk) in body["detail"] and str(two.pk) in body["detail"]
    assert not Person.objects.filter(occupation="Cook").exists()
    assert Person.objects.filter(nation=nation).count() == 2


def test_a_push_without_identity_is_a_422(admin_api):
    assert_error(admin_api.put("/people/push", {"first_name": "Sam"}), 422, "email")
    assert_error(admin_api.put("/people/add", {}), 422, "email")
    assert not Person.objects.exists()


def test_bad_push_bodies_name_the_fields_at_fault(admin_api):
    body = assert_error(
        admin_api.put(
            "/people/push",
            {"email1": "a@example.org", "favourite": "x", "is_supporter": True, "id": 3},
        ),
        422,
    )
    assert set(body["errors"]) == {"favourite", "is_supporter", "id"}
    assert_error(admin_api.put("/people/push", {"email1": "not an email"}), 422, "email")
    assert_error(admin_api.put("/people/push", raw="[]"), 422, "JSON object")
    assert_error(admin_api.put("/people/push", raw=""), 400, "empty")
    assert not Person.objects.exists()


def test_another_nations_identical_email_is_not_matched(admin_api, other_nation, make_person):
    theirs = make_person(other_nation, email1="ada@example.org", occupation="Theirs")
    response = admin_api.put("/people/push", {"email1": "ada@example.org", "occupation": "Ours"})
    assert response.status_code == 201
    ours = response.json()["person"]
    assert ours["id"] != theirs.pk and ours["occupation"] == "Ours"
    theirs.refresh_from_db()
    assert theirs.occupation == "Theirs"


@pytest.fixture
def pair(nation, make_person):
    keep = make_person(nation, first_name="Ada", last_name="Lovelace", email1="ada@example.org")
    other = make_person(
        nation,
        first_name="Augusta",
        last_name="Lovelace",
        email1="augusta@example.org",
        occupation="Mathematician",
    )
    tag_apply(nation=nation, actor=Actor.system(), person=keep, name="poets")
    tag_apply(nation=nation, actor=Actor.system(), person=other, name="engineers")
    return keep, other


def test_an_admin_merges_emails_tags_and_values_into_the_kept_profile(admin_api, pair):
    keep, other = pair
    response = admin_api.post(f"/people/{keep.pk}/merge", {"other_id": other.pk})
    assert response.status_code == 200, response.json()
    person = response.json()
    assert person["id"] == keep.pk
    assert (person["email1"], person["email2"]) == ("ada@example.org", "augusta@example.org")
    assert person["tags"] == ["engineers", "poets"]
    assert person["first_name"] == "Ada"  # the kept profile's value wins a conflict
    assert person["occupation"] == "Mathematician"  # its blank took the other's value
    assert_error(admin_api.get(f"/people/{other.pk}"), 404)
    found = admin_api.get("/people/match", {"email": "augusta@example.org"}).json()
    assert found["person"]["id"] == keep.pk
    history = admin_api.get(f"/people/{keep.pk}/history", {"field": "first_name"}).json()
    merged = [e for e in history["results"] if e["kind"] == "merge"]
    assert merged and merged[0]["old"] == "Augusta"


def test_staff_cannot_merge_and_nothing_changes(staff_api, pair):
    keep, other = pair
    assert_error(staff_api.post(f"/people/{keep.pk}/merge", {"other_id": other.pk}), 403, "admin")
    assert Person.objects.filter(pk=other.pk).exists()
    keep.refresh_from_db()
    assert not keep.email2 and keep.occupation == ""
    assert list(keep.taggings.values_list("tag__name", flat=True)) == ["poets"]


def test_merging_with_another_nations_profile_is_not_found(admin_api, other_api, pair):
    keep, other = pair
    assert_error(other_api.post(f"/people/{keep.pk}/merge", {"other_id": other.pk}), 404)
    theirs = other_api.post("/people", {"email1": "b@example.org"}).json()["id"]
    assert_error(admin_api.post(f"/people/{keep.pk}/merge", {"other_id": theirs}), 404)
    assert_error(other_api.post(f"/people/{theirs}/merge", {"other_id": keep.pk}), 404)
    assert Person.objects.filter(pk__in=[keep.pk, other.pk, theirs]).count() == 3


def test_merging_a_profile_into_itself_or_without_other_id_is_a_422(admin_api, pair):
    keep, _ = pair
    assert_error(admin_api.post(f"/people/{keep.pk}/merge", {"other_id": keep.pk}), 422, "two")
    body = assert_error(admin_api.post(f"/people/{keep.pk}/merge", {}), 422)
    assert set(body["errors"]) == {"other_id"}
    assert_error(admin_api.post(f"/people/{keep.pk}/merge", {"other_id": 2**70}), 404)


def test_duplicates_lists_a_same_name_and_birthdate_pair(admin_api, other_api, nation, make_person):
    one = make_person(nation, first_name="Sam", last_name="Lee", birthdate="1990-01-01")
    two = make_person(nation, first_name="SAM", last_name="Lée", birthdate="1990-01-01")
    make_person(nation, first_name="Sam", last_name="Lee", birthdate="1991-01-01")
    response = admin_api.get("/people/duplicates")
    assert response.status_code == 200
    assert response.json() == {
        "results": [{"reason": "same name and birthdate", "person_ids": [one.pk, two.pk]}],
        "next": None,
    }
    assert other_api.get("/people/duplicates").json() == {"results": [], "next": None}

    merged = admin_api.post(f"/people/{one.pk}/merge", {"other_id": two.pk})
    assert merged.status_code == 200
    assert admin_api.get("/people/duplicates").json()["results"] == []
