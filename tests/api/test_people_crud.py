"""People through the API: create, read, change only what is given (with history), delete."""

from __future__ import annotations

import pytest

from tagshare.people import catalog
from tagshare.people.models import Person, PersonChange
from tests.api.conftest import assert_error

pytestmark = pytest.mark.django_db

HOME = {
    "address1": "12 Rue Haute",
    "address2": "",
    "address3": "",
    "city": "Brussels",
    "county": "",
    "state": "BRU",
    "zip": "1000",
    "country_code": "BE",
}


def test_create_returns_201_with_every_catalog_field(admin_api):
    response = admin_api.post(
        "/people",
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email1": "Ada@Example.org",
            "birthdate": "1815-12-10",
            "is_deceased": True,
            "do_not_call": False,
            "sex": "f",
            "support_level": 1,
            "home_address": {
                "address1": "12 Rue Haute",
                "city": "Brussels",
                "state": "BRU",
                "zip": "1000",
                "country_code": "be",
            },
            "is_prospect": True,
            "tags": ["volunteers", "donors"],
        },
    )
    assert response.status_code == 201, response.json()
    person = response.json()
    assert set(person) == {
        "id",
        *catalog.BY_NAME,
        "tags",
        "is_supporter",
        "is_prospect",
        "created_at",
        "updated_at",
    }
    assert person["birthdate"] == "1815-12-10"
    assert person["is_deceased"] is True and person["do_not_call"] is False
    assert person["email_opt_in"] is None  # never given, so unknown rather than false
    assert person["sex"] == "F"
    assert person["home_address"] == HOME
    assert person["work_address"] == dict.fromkeys(catalog.ADDRESS_PARTS, "")
    assert person["tags"] == ["donors", "volunteers"]
    assert person["is_supporter"] is True  # support level 1 makes a supporter (SPEC §2.2)
    assert person["is_prospect"] is True

    fetched = admin_api.get(f"/people/{person['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == person


def test_patch_changes_only_the_given_fields_and_records_history(admin_api):
    created = admin_api.post(
        "/people", {"first_name": "Ada", "last_name": "Byron", "phone": "+32 2 555 0101"}
    ).json()
    response = admin_api.patch(
        f"/people/{created['id']}",
        {"last_name": "Lovelace", "home_address": {"city": "London"}, "is_supporter": True},
    )
    assert response.status_code == 200, response.json()
    person = response.json()
    assert person["last_name"] == "Lovelace"
    assert person["home_address"]["city"] == "London"
    assert person["is_supporter"] is True
    untouched = {
        k: v
        for k, v in created.items()
        if k not in {"last_name", "home_address", "is_supporter", "updated_at"}
    }
    assert {k: person[k] for k in untouched} == untouched

    history = admin_api.get(f"/people/{created['id']}/history").json()["results"]
    last_name = [e for e in history if e["field"] == "last_name"]
    assert [(e["old"], e["new"], e["source"], e["kind"]) for e in last_name] == [
        ("Byron", "Lovelace", "api", "update"),
        ("", "Byron", "api", "create"),
    ]
    assert last_name[0]["actor"] == "admin@alpha.example"
    assert isinstance(last_name[0]["version"], list) and len(last_name[0]["version"]) == 2
    only_city = admin_api.get(f"/people/{created['id']}/history", {"field": "home_address"})
    assert [e["new"]["city"] for e in only_city.json()["results"]] == ["London"]


def test_patch_with_nothing_new_writes_no_history(admin_api):
    created = admin_api.post("/people", {"first_name": "Ada"}).json()
    before = PersonChange.objects.count()
    response = admin_api.patch(f"/people/{created['id']}", {"first_name": "Ada"})
    assert response.status_code == 200
    assert PersonChange.objects.count() == before


def test_patch_can_clear_a_field(admin_api):
    created = admin_api.post("/people", {"first_name": "Ada", "nbec_guid": "G-1"}).json()
    person = admin_api.patch(f"/people/{created['id']}", {"nbec_guid": None, "first_name": ""})
    assert person.status_code == 200
    assert person.json()["nbec_guid"] is None and person.json()["first_name"] == ""


def test_delete_then_get_is_404(admin_api):
    created = admin_api.post("/people", {"first_name": "Ada"}).json()
    response = admin_api.delete(f"/people/{created['id']}")
    assert response.status_code == 204
    assert not Person.objects.filter(pk=created["id"]).exists()
    assert_error(admin_api.get(f"/people/{created['id']}"), 404, "not found")
    assert_error(admin_api.delete(f"/people/{created['id']}"), 404)


def test_staff_can_work_with_people(staff_api):
    created = staff_api.post("/people", {"first_name": "Ada"})
    assert created.status_code == 201
    assert (
        staff_api.patch(f"/people/{created.json()['id']}", {"mobile": "0470 12 34 56"}).status_code
        == 200
    )


def test_read_only_fields_and_tags_in_patch_are_refused_naming_them(admin_api):
    created = admin_api.post("/people", {"first_name": "Ada"}).json()
    body = assert_error(admin_api.patch(f"/people/{created['id']}", {"id": 5}), 422, "id")
    assert set(body["errors"]) == {"id"}
    body = assert_error(
        admin_api.patch(f"/people/{created['id']}", {"tags": ["x"], "sex": "X"}), 422, "taggings"
    )
    assert set(body["errors"]) == {"tags", "sex"}  # every problem reported at once
    assert admin_api.get(f"/people/{created['id']}").json()["tags"] == []
