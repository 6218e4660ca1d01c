"""Taggings (idempotent, shared-in tags owned by their sender) and restoring earlier values."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tagshare.people.models import Person, PersonChange
from tagshare.tags.models import Tag, Tagging
from tests.api.conftest import assert_error

pytestmark = pytest.mark.django_db


def _tags(api, person_id):
    response = api.get(f"/people/{person_id}/taggings")
    assert response.status_code == 200
    body = response.json()
    assert body["next"] is None
    return [row["tag"] for row in body["results"]]


def test_put_adds_tags_idempotently_and_delete_removes_one(staff_api):
    pid = staff_api.post("/people", {"first_name": "Ada"}).json()["id"]
    response = staff_api.put(f"/people/{pid}/taggings", {"tags": ["volunteers", "door knock 2024"]})
    assert response.status_code == 200
    assert [r["tag"] for r in response.json()["results"]] == ["door knock 2024", "volunteers"]
    again = staff_api.put(f"/people/{pid}/taggings", {"tags": ["volunteers"]})
    assert [r["tag"] for r in again.json()["results"]] == ["door knock 2024", "volunteers"]
    assert Tagging.objects.filter(person_id=pid).count() == 2

    assert staff_api.delete(f"/people/{pid}/taggings/{quote('door knock 2024')}").status_code == 204
    assert _tags(staff_api, pid) == ["volunteers"]
    # Already off: still 204; a tag the nation does not have: 404.
    assert staff_api.delete(f"/people/{pid}/taggings/{quote('door knock 2024')}").status_code == 204
    assert_error(staff_api.delete(f"/people/{pid}/taggings/nope"), 404, "nope")


def test_a_tag_name_with_a_slash_can_be_removed(staff_api):
    pid = staff_api.post("/people", {"first_name": "Ada", "tags": ["2024/Q1 donors"]}).json()["id"]
    assert (
        staff_api.delete(f"/people/{pid}/taggings/{quote('2024/Q1 donors', safe='')}").status_code
        == 204
    )
    assert _tags(staff_api, pid) == []


def test_put_with_a_bad_body_is_422_and_adds_nothing(staff_api):
    pid = staff_api.post("/people", {"first_name": "Ada"}).json()["id"]
    assert_error(staff_api.put(f"/people/{pid}/taggings", {"tags": "volunteers"}), 422, "tags")
    assert_error(staff_api.put(f"/people/{pid}/taggings", {"tags": ["ok", 5]}), 422, "tags.1")
    assert_error(staff_api.put(f"/people/{pid}/taggings", {}), 422, "tags")
    assert_error(staff_api.put(f"/people/{pid}/taggings", {"tags": ["  "]}), 422, "needs a name")
    assert_error(staff_api.put(f"/people/{pid}/taggings", {"tags": ["ok", "x:y"]}), 422, "':'")
    assert _tags(staff_api, pid) == []


@pytest.fixture
def shared_in(nation, other_nation, make_person):
    """A tag beta shares with alpha, on one of alpha's people (as a share would leave it)."""
    person = make_person(nation, first_name="Friend")
    tag = Tag.objects.create(nation=nation, name="beta:friends", shared_from=other_nation)
    Tagging.objects.create(tag=tag, person=person)
    return person


def test_a_shared_in_tag_cannot_be_removed_or_added_through_the_api(
    admin_api, shared_in, make_person, nation
):
    url = f"/people/{shared_in.pk}/taggings/{quote('beta:friends')}"
    assert_error(admin_api.delete(url), 409, "'beta'", "owns it")
    assert _tags(admin_api, shared_in.pk) == ["beta:friends"]

    other = make_person(nation, first_name="Other")
    response = admin_api.put(f"/people/{other.pk}/taggings", {"tags": ["fine", "beta:friends"]})
    assert_error(response, 409, "'beta'", "owns it")
    assert _tags(admin_api, other.pk) == []  # all or nothing: "fine" was not added either
    people_before = Person.objects.count()
    assert_error(
        admin_api.post("/people", {"first_name": "New", "tags": ["beta:friends"]}), 409, "owns it"
    )
    assert Person.objects.count() == people_before


def test_restore_is_for_admins_and_is_a_new_write(admin_api, staff_api):
    pid = admin_api.post("/people", {"first_name": "Ada", "party": "Whig"}).json()["id"]
    admin_api.patch(f"/people/{pid}", {"party": "Tory"})
    entry = admin_api.get(f"/people/{pid}/history", {"field": "party"}).json()["results"][0]
    assert (entry["old"], entry["new"]) == ("Whig", "Tory")
    url = f"/people/{pid}/history/{entry['change_id']}/restore"

    assert_error(staff_api.post(url, {"field": "party", "which": "old"}), 403, "admin")
    assert admin_api.get(f"/people/{pid}").json()["party"] == "Tory"

    response = admin_api.post(url, {"field": "party", "which": "old"})
    assert response.status_code == 200, response.json()
    assert response.json()["party"] == "Whig"
    newest = admin_api.get(f"/people/{pid}/history", {"field": "party"}).json()["results"][0]
    assert (newest["kind"], newest["old"], newest["new"], newest["source"]) == (
        "restore",
        "Tory",
        "Whig",
        "api",
    )
    assert newest["change_id"] > entry["change_id"]
    assert newest["version"] > entry["version"]


def test_restore_of_a_change_that_is_not_there_is_404(admin_api):
    pid = admin_api.post("/people", {"first_name": "Ada"}).json()["id"]
    change_id = PersonChange.objects.filter(person_id=pid).latest("id").pk
    url = f"/people/{pid}/history/{change_id}/restore"
    assert_error(admin_api.post(url, {"field": "party"}), 404, "party")
    assert_error(
        admin_api.post(f"/people/{pid}/history/{change_id + 99}/restore", {"field": "first_name"}),
        404,
    )
    assert_error(admin_api.post(url, {"field": "first_name", "which": "newest"}), 422, "which")
    assert_error(admin_api.post(url, {}), 422, "field")


def test_history_with_an_unknown_field_is_422(admin_api):
    pid = admin_api.post("/people", {"first_name": "Ada"}).json()["id"]
    assert_error(admin_api.get(f"/people/{pid}/history", {"field": "email5"}), 422, "email5")


def _every_page(api, url):
    """The results of `url` and of every page its `next` links lead to, in order."""
    results = []
    while url:
        body = api.get(url).json()
        results += body["results"]
        url = body["next"]
    return results


def test_history_pages_by_cursor(admin_api):
    pid = admin_api.post("/people", {"first_name": "A0"}).json()["id"]
    for i in range(1, 6):
        admin_api.patch(f"/people/{pid}", {"first_name": f"A{i}", "last_name": f"L{i}"})
    everything = admin_api.get(f"/people/{pid}/history", {"limit": 500}).json()["results"]
    assert _every_page(admin_api, f"/people/{pid}/history?limit=4") == everything
    assert len(everything) == 11


def test_history_pages_of_one_field_and_of_one_entry_miss_nothing(admin_api):
    # A page reads only the writes it can come from; walking every page still gives it all.
    pid = admin_api.post("/people", {"first_name": "A0"}).json()["id"]
    for i in range(1, 6):
        changes = {"first_name": f"A{i}"} | ({"last_name": f"L{i}"} if i % 2 else {})
        admin_api.patch(f"/people/{pid}", changes)
    for field, limit in (("last_name", 2), ("", 1), ("first_name", 4)):
        only = f"field={field}&" if field else ""
        everything = admin_api.get(f"/people/{pid}/history?{only}limit=500").json()["results"]
        paged = _every_page(admin_api, f"/people/{pid}/history?{only}limit={limit}")
        assert paged == everything, (field, limit)
        assert len(paged) == {"last_name": 3, "first_name": 6, "": 9}[field]
    last_names = admin_api.get(f"/people/{pid}/history?field=last_name").json()["results"]
    assert [e["new"] for e in last_names] == ["L5", "L3", "L1"]


def test_history_pages_past_writes_that_changed_nothing(admin_api):
    # A merge that folds in nothing records a write with no fields: pages must read past it.
    pid = admin_api.post("/people", {"first_name": "Ada"}).json()["id"]
    for _ in range(2):
        twin = admin_api.post("/people", {"first_name": "Ada"}).json()["id"]
        assert admin_api.post(f"/people/{pid}/merge", {"other_id": twin}).status_code == 200
    admin_api.patch(f"/people/{pid}", {"first_name": "Ada B."})
    everything = admin_api.get(f"/people/{pid}/history", {"limit": 500}).json()["results"]
    assert len(everything) == 4  # three creations (two merged in) and the rename
    assert _every_page(admin_api, f"/people/{pid}/history?limit=1") == everything
