"""The identity rules of SPEC §2.2 through the API: clear 4xx answers, and nothing half-written."""

from __future__ import annotations

import pytest

from tagshare.outbox.models import OutboxEvent
from tagshare.people.models import Person, PersonChange, PersonEmail
from tagshare.tags.models import Tag
from tests.api.conftest import assert_error

pytestmark = pytest.mark.django_db


def _stored() -> tuple[int, ...]:
    return (
        Person.objects.count(),
        PersonEmail.objects.count(),
        PersonChange.objects.count(),
        OutboxEvent.objects.count(),
        Tag.objects.count(),
    )


def test_an_email_another_profile_holds_is_409_naming_the_holder(admin_api):
    holder = admin_api.post(
        "/people", {"first_name": "Ada", "last_name": "Lovelace", "email1": "ada@example.org"}
    ).json()
    before = _stored()
    response = admin_api.post(
        "/people", {"first_name": "Imposter", "email2": "  ADA@Example.ORG ", "tags": ["new-tag"]}
    )
    body = assert_error(response, 409, "Ada Lovelace", str(holder["id"]))
    assert set(body["errors"]) == {"email2"}
    assert _stored() == before


def test_patching_in_a_held_email_is_409_and_changes_nothing(admin_api):
    admin_api.post("/people", {"first_name": "Ada", "email1": "ada@example.org"})
    other = admin_api.post("/people", {"first_name": "Bea", "email1": "bea@example.org"}).json()
    before = _stored()
    response = admin_api.patch(
        f"/people/{other['id']}", {"first_name": "Changed", "email2": "Ada@example.org"}
    )
    assert_error(response, 409, "Ada")
    assert _stored() == before
    assert admin_api.get(f"/people/{other['id']}").json()["first_name"] == "Bea"


def test_a_fifth_email_is_422_naming_the_field(admin_api):
    before = _stored()
    response = admin_api.post(
        "/people",
        {f"email{i}": f"p{i}@example.org" for i in range(1, 6)},
    )
    body = assert_error(response, 422, "email5", "at most 4 emails")
    assert "email5" in body["errors"]
    assert _stored() == before


def test_the_same_email_twice_in_one_payload_is_422(admin_api):
    before = _stored()
    response = admin_api.post(
        "/people", {"email1": "ada@example.org", "email3": " ADA@example.org"}
    )
    body = assert_error(response, 422, "already this profile")
    assert set(body["errors"]) == {"email3"}
    assert _stored() == before


def test_unique_ids_clash_within_a_nation_but_not_across_nations(admin_api, other_api):
    first = admin_api.post("/people", {"first_name": "Ada", "van_id": "V-1"}).json()
    before = _stored()
    body = assert_error(
        admin_api.post("/people", {"van_id": "V-1"}), 409, "VAN ID", str(first["id"])
    )
    assert set(body["errors"]) == {"van_id"}
    assert _stored() == before
    assert other_api.post("/people", {"van_id": "V-1"}).status_code == 201


def test_state_file_id_is_unique_per_registered_state(admin_api):
    ny = admin_api.post("/people", {"state_file_id": "SF-1", "registered_address": {"state": "NY"}})
    assert ny.status_code == 201
    ca = admin_api.post("/people", {"state_file_id": "SF-1", "registered_address": {"state": "CA"}})
    assert ca.status_code == 201, ca.json()
    before = _stored()
    clash = admin_api.post(
        "/people",
        {"state_file_id": "SF-1", "registered_address": {"state": "NY", "city": "Albany"}},
    )
    body = assert_error(clash, 409, "State file ID", str(ny.json()["id"]))
    assert "state_file_id" in body["errors"]
    assert _stored() == before
    # Moving the CA voter's registration to NY makes the same clash.
    moved = admin_api.patch(f"/people/{ca.json()['id']}", {"registered_address": {"state": "NY"}})
    assert_error(moved, 409, "State file ID")
    assert admin_api.get(f"/people/{ca.json()['id']}").json()["registered_address"]["state"] == "CA"
