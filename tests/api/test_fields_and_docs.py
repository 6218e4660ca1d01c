"""GET /fields mirrors the catalog; the OpenAPI document and the browsable docs are served."""

from __future__ import annotations

import pytest

from tagshare.people import catalog
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db


def test_fields_reports_the_catalog(staff_api):
    response = staff_api.get("/fields")
    assert response.status_code == 200
    body = response.json()
    rows = body["results"]
    assert [f["name"] for f in rows] == [spec.name for spec in catalog.FIELDS]
    assert sum(f["sync"] == "always" for f in rows) == 37
    assert sum(f["opt_in_id"] for f in rows) == 12
    assert body["summary"]["always_synced"] == 37
    assert body["summary"]["opt_in_ids"] == 12
    assert body["summary"]["total"] == len(rows)
    assert "is_supporter" in body["summary"]["never_synced"]
    by_name = {f["name"]: f for f in rows}
    assert by_name["home_address"]["parts"] == list(catalog.ADDRESS_PARTS)
    assert by_name["sex"]["choices"] == ["M", "F", "O"]
    assert by_name["state_file_id"]["unique_with"] == ["registered_state"]
    assert by_name["support_level"]["min_value"] == 1 and by_name["support_level"]["max_value"] == 5
    assert by_name["nbec_guid"]["label"] == "Voter GUID" and by_name["nbec_guid"]["unique"]


def test_openapi_document_lists_the_people_paths_and_every_field(db):
    response = ApiClient().get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    paths = doc["paths"]
    for path in (
        "/api/v1/people",
        "/api/v1/people/{person_id}",
        "/api/v1/people/match",
        "/api/v1/people/{person_id}/history",
        "/api/v1/people/{person_id}/taggings",
        "/api/v1/tags",
        "/api/v1/fields",
    ):
        assert path in paths, path
    assert set(paths["/api/v1/people/{person_id}"]) == {"get", "patch", "delete"}
    person = doc["components"]["schemas"]["Person"]["properties"]
    assert set(catalog.BY_NAME) <= set(person)
    create = paths["/api/v1/people"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert set(catalog.BY_NAME) <= set(create["properties"])
    assert create["additionalProperties"] is False
    birthdate = create["properties"]["birthdate"]["anyOf"][0]
    assert birthdate == {"type": "string", "format": "date"}
    assert "BearerToken" in doc["components"]["securitySchemes"]


def test_browsable_docs_are_served(db):
    response = ApiClient().client.get("/api/v1/docs")
    assert response.status_code == 200
    assert b"openapi.json" in response.content


def test_every_operation_with_a_body_documents_the_400_of_a_malformed_one(db, admin_api):
    """A body that is not JSON is a 400 (tests/api/test_bad_input.py): clients generated from
    the document must expect it wherever a body is read."""
    paths = ApiClient().get("/api/v1/openapi.json").json()["paths"]
    with_body = {
        (method.upper(), path): operation
        for path, operations in paths.items()
        for method, operation in operations.items()
        if "requestBody" in operation
    }
    assert ("PATCH", "/api/v1/shares/{share_id}") in with_body
    assert [
        key for key, operation in with_body.items() if "400" not in operation["responses"]
    ] == []
    response = admin_api.send("PUT", "/people/add", raw="{not json")
    assert response.status_code == 400
