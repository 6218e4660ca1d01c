"""Malformed input of every kind answers a 4xx with a detail a person can act on — never a 500."""

from __future__ import annotations

import pytest

from tagshare.people.models import Person
from tests.api.conftest import assert_error

pytestmark = pytest.mark.django_db

# (name, raw body, expected status, a word the detail must contain)
BAD_BODIES = [
    ("not json", "{first_name: Ada", 400, "not valid JSON"),
    ("empty", "", 400, "empty"),
    ("json array", "[]", 422, "JSON object"),
    ("json string", '"Ada"', 422, "JSON object"),
    ("json null", "null", 422, "JSON object"),
    ("invalid utf-8", b"\xff\xfe{}", 400, "not valid JSON"),
    ("deep nesting", "[" * 50_000 + "]" * 50_000, 400, "JSON"),
    ("NUL in text", '{"first_name": "A\\u0000da"}', 400, "NUL"),
    ("list for text", '{"first_name": ["Ada"]}', 422, "First name"),
    ("object for text", '{"last_name": {"a": 1}}', 422, "Last name"),
    ("huge string", '{"first_name": "' + "x" * 100_000 + '"}', 422, "longer than 255"),
    ("impossible date", '{"birthdate": "2023-02-30"}', 422, "Birthdate"),
    ("not a date", '{"birthdate": "last tuesday"}', 422, "YYYY-MM-DD"),
    ("date as number", '{"birthdate": 2023.5}', 422, "Birthdate"),
    ("sex X", '{"sex": "X"}', 422, "M, F, O"),
    ("support level 9", '{"support_level": 9}', 422, "between 1 and 5"),
    ("support level text", '{"support_level": "high"}', 422, "whole number"),
    ("support level bool", '{"support_level": true}', 422, "whole number"),
    ("support level huge", '{"support_level": 99999999999999999999999}', 422, "between 1 and 5"),
    ("support level NaN", '{"support_level": NaN}', 422, "Support level"),
    ("bool as text", '{"do_not_call": "maybe"}', 422, "true or false"),
    ("bad email", '{"email1": "not-an-email"}', 422, "not a valid email"),
    ("bad phone", '{"phone": "call me"}', 422, "not a phone number"),
    ("address as text", '{"home_address": "1 Main St"}', 422, "address is an object"),
    ("unknown address part", '{"home_address": {"planet": "Mars"}}', 422, "planet"),
    ("address part list", '{"home_address": {"city": ["x"]}}', 422, "city"),
    # JSON booleans are numbers to Python: unchecked, an ID of true was stored as "True".
    ("bool for an ID", '{"van_id": true}', 422, "VAN ID"),
    ("bool for text", '{"occupation": false}', 422, "Occupation"),
    ("address part bool", '{"home_address": {"zip": true}}', 422, "zip"),
    ("status as text", '{"is_supporter": "yes"}', 422, "is_supporter"),
    ("tags as text", '{"tags": "volunteers"}', 422, "tags"),
    ("unknown field", '{"favourite_colour": "blue"}', 422, "favourite_colour"),
    ("read-only id", '{"id": 7}', 422, "id"),
]


@pytest.mark.parametrize(
    ("raw", "status", "word"), [c[1:] for c in BAD_BODIES], ids=[c[0] for c in BAD_BODIES]
)
def test_bad_create_bodies_are_4xx_and_store_nothing(admin_api, raw, status, word):
    response = admin_api.post("/people", raw=raw)
    assert_error(response, status, word)
    assert Person.objects.count() == 0


@pytest.mark.parametrize(
    ("raw", "status", "word"), [c[1:] for c in BAD_BODIES], ids=[c[0] for c in BAD_BODIES]
)
def test_bad_patch_bodies_are_4xx_and_change_nothing(admin_api, raw, status, word):
    created = admin_api.post("/people", {"first_name": "Ada"}).json()
    response = admin_api.patch(f"/people/{created['id']}", raw=raw)
    assert_error(response, status, word)
    assert admin_api.get(f"/people/{created['id']}").json() == created


def test_a_form_post_instead_of_json_is_400(admin_api):
    response = admin_api.client.post("/api/v1/people", {"first_name": "Ada"})
    assert_error(response, 400, "JSON")


def test_a_body_over_the_size_limit_is_413(admin_api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = admin_api.post("/people", {"note": "x" * 20_000})
    assert_error(response, 413, "too large")


@pytest.mark.parametrize(
    ("method", "url", "status", "word"),
    [
        ("GET", "/people?updated_since=2023-02-30", 422, "updated_since"),
        ("GET", "/people?updated_since=9999-12-31T23:59:59-10:00", 422, "updated_since"),
        # A bare number would be read as seconds since 1970 and list everyone.
        ("GET", "/people?updated_since=2024", 422, "ISO 8601"),
        ("GET", "/people?updated_since=0.5", 422, "updated_since"),
        ("GET", "/people?limit=1e3", 422, "limit"),
        ("GET", "/people?search=a%00b", 422, "search"),
        ("GET", "/people?tag=a%00b", 422, "tag"),
        ("GET", "/people?search=" + "x" * 300, 422, "search"),
        ("GET", "/people/match?email=a%00@example.org", 422, "email"),
        ("GET", "/people/match?email=", 422, "email"),
        ("GET", "/people/abc", 422, "person_id"),
        ("GET", "/people/99999999999999999999999", 404, "not found"),
        ("GET", "/people/-1", 404, "not found"),
        ("GET", "/people/0/history", 404, "not found"),
        ("GET", "/tags?cursor=%%%", 400, "cursor"),
        ("PUT", "/people/1/taggings", 422, "body"),
        ("POST", "/people/1/history/abc/restore", 422, "change_id"),
        ("DELETE", "/people/1/taggings/a%00b", 422, "tag"),
    ],
)
def test_bad_query_and_path_values_are_4xx(admin_api, method, url, status, word):
    created = admin_api.post("/people", {"first_name": "Ada"}).json()
    url = url.replace("/people/1/", f"/people/{created['id']}/")
    if method == "GET":
        response = admin_api.get(url)
    elif method == "DELETE":
        response = admin_api.delete(url)
    else:
        response = admin_api.send(
            method, url, {"field": "first_name"} if "restore" in url else None
        )
    assert_error(response, status, word)


def test_a_huge_change_id_is_404(admin_api):
    created = admin_api.post("/people", {"first_name": "Ada"}).json()
    url = f"/people/{created['id']}/history/{10**25}/restore"
    assert_error(admin_api.post(url, {"field": "first_name"}), 404)


@pytest.mark.parametrize("raw", ["[]", '"tags"', "7"])
def test_a_taggings_body_that_is_not_an_object_is_422(admin_api, raw):
    pid = admin_api.post("/people", {"first_name": "Ada"}).json()["id"]
    assert_error(admin_api.put(f"/people/{pid}/taggings", raw=raw), 422, "JSON object")


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1/people/", "/api/v2/people"])
def test_an_unknown_api_route_is_a_json_404(admin_api, path):
    assert_error(admin_api.client.get(path), 404, "No API route", "/api/v1/docs")


def test_an_unexpected_error_is_logged_and_answers_json_500(admin_api, monkeypatch, caplog):
    from tagshare.people import selectors

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(selectors, "people_list", broken)
    body = assert_error(admin_api.get("/people"), 500, "logged")
    assert "disk on fire" not in body["detail"]  # internals stay in the log
    assert any("disk on fire" in (r.exc_text or "") for r in caplog.records)


def test_a_value_the_database_refuses_is_400_not_500(admin_api, monkeypatch):
    from django.db import DataError

    from tagshare.people import selectors

    def refuse(*args, **kwargs):
        raise DataError("value out of range")

    monkeypatch.setattr(selectors, "people_list", refuse)
    assert_error(admin_api.get("/people"), 400, "cannot be stored or searched")
