"""Lists: keyset pages via `next`, the cursor and limit rules, and the filters of GET /people."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from tagshare.nations.actors import Actor
from tagshare.people.services import person_create
from tests.api.conftest import assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def hundred_twenty(nation, make_person):
    return [
        make_person(nation, first_name=f"P{i:03}", email1=f"p{i}@example.org").pk
        for i in range(120)
    ]


def test_three_pages_of_fifty_cover_everyone_once(admin_api, hundred_twenty):
    seen: list[int] = []
    url: str | None = "/people?limit=50"
    pages = 0
    while url:
        response = admin_api.get(url)
        assert response.status_code == 200
        body = response.json()
        seen += [p["id"] for p in body["results"]]
        url = body["next"]
        pages += 1
        assert url is None or url.startswith("http://testserver/api/v1/people?")
    assert pages == 3
    assert seen == sorted(hundred_twenty)


def test_rows_added_between_pages_are_neither_repeated_nor_skipped(
    admin_api, nation, hundred_twenty
):
    first = admin_api.get("/people", {"limit": 100}).json()
    newcomer = person_create(nation=nation, actor=Actor.system(), values_in={"first_name": "New"})
    second = admin_api.get(first["next"]).json()
    ids = [p["id"] for p in first["results"] + second["results"]]
    assert ids == [*sorted(hundred_twenty), newcomer.pk]


def test_a_tampered_cursor_is_400(admin_api, hundred_twenty):
    next_url = admin_api.get("/people", {"limit": 10}).json()["next"]
    cursor = next_url.split("cursor=")[1]
    for bad in (
        "x" + cursor,
        cursor[:-2],
        "!!!",
        "eyJhIjoxfQ",
        "WyJhIl0",
        "Wzk5OTk5OTk5OTk5OTk5OTk5OTk5XQ",
    ):
        body = assert_error(admin_api.get("/people", {"cursor": bad}), 400, "cursor")
        assert "cursor" in body["errors"]


def test_limit_above_the_maximum_is_422_naming_it(admin_api):
    body = assert_error(
        admin_api.get("/people", {"limit": settings.API_PAGE_SIZE_MAX + 1}), 422, "limit"
    )
    assert str(settings.API_PAGE_SIZE_MAX) in body["detail"]
    assert_error(admin_api.get("/people", {"limit": 0}), 422, "limit")
    assert_error(admin_api.get("/people", {"limit": "ten"}), 422, "limit")


def test_default_page_size_comes_from_settings(admin_api, hundred_twenty):
    body = admin_api.get("/people").json()
    assert len(body["results"]) == settings.API_PAGE_SIZE_DEFAULT
    assert body["next"]


def test_updated_since_returns_only_people_changed_since(admin_api):
    old = admin_api.post("/people", {"first_name": "Old"}).json()
    changed = admin_api.post("/people", {"first_name": "Changed"}).json()
    cut = timezone.now()
    admin_api.patch(f"/people/{changed['id']}", {"last_name": "Again"})
    for value in (
        cut.isoformat(),
        cut.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        cut.astimezone(dt.UTC).replace(tzinfo=None).isoformat(),
    ):
        body = admin_api.get("/people", {"updated_since": value}).json()
        assert [p["id"] for p in body["results"]] == [changed["id"]], value
    everyone = admin_api.get("/people", {"updated_since": "2000-01-01"}).json()["results"]
    assert {p["id"] for p in everyone} == {old["id"], changed["id"]}
    assert_error(admin_api.get("/people", {"updated_since": "yesterday"}), 422, "updated_since")


def test_search_and_tag_filters(admin_api):
    ada = admin_api.post(
        "/people", {"first_name": "Ada", "last_name": "Lovelace", "tags": ["math club"]}
    ).json()
    admin_api.post("/people", {"first_name": "Charles", "last_name": "Babbage"})
    grace = admin_api.post(
        "/people", {"first_name": "Grace", "email1": "grace@navy.example", "tags": ["math club"]}
    ).json()

    def ids(**params):
        return [p["id"] for p in admin_api.get("/people", params).json()["results"]]

    assert ids(search="lovelace") == [ada["id"]]
    assert ids(search="navy.example") == [grace["id"]]
    assert ids(search="ada love") == [ada["id"]]
    assert ids(search="nobody") == []
    assert ids(tag="math club") == [ada["id"], grace["id"]]
    assert ids(tag="math club", search="grace") == [grace["id"]]
    assert ids(tag="no such tag") == []


def test_match_by_email_ignores_case_and_spaces(admin_api):
    ada = admin_api.post("/people", {"first_name": "Ada", "email3": "ada@example.org"}).json()
    response = admin_api.get("/people/match", {"email": "  ADA@Example.org "})
    assert response.status_code == 200
    assert response.json()["person"]["id"] == ada["id"]
    assert response.json()["person"]["email3"] == "ada@example.org"
    assert_error(admin_api.get("/people/match", {"email": "nobody@example.org"}), 404, "nobody@")
    assert_error(admin_api.get("/people/match"), 422, "email")


def test_tags_list_counts_and_pages(admin_api, nation, other_nation, make_person):
    from tagshare.tags.models import Tag, Tagging

    for name in ("a", "b", "c"):
        admin_api.post("/people", {"first_name": name, "tags": [name, "everyone"]})
    shared = Tag.objects.create(nation=nation, name="beta:friends", shared_from=other_nation)
    Tagging.objects.create(tag=shared, person=make_person(nation, first_name="Friend"))

    first = admin_api.get("/tags", {"limit": 3}).json()
    rest = admin_api.get(first["next"]).json()
    assert rest["next"] is None
    rows = first["results"] + rest["results"]
    assert [t["name"] for t in rows] == ["a", "b", "beta:friends", "c", "everyone"]
    by_name = {t["name"]: t for t in rows}
    assert by_name["everyone"] == {"name": "everyone", "taggings_count": 3, "shared": False}
    assert by_name["beta:friends"] == {"name": "beta:friends", "taggings_count": 1, "shared": True}


def test_a_page_costs_the_same_queries_however_many_people_it_holds(admin_api, hundred_twenty):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tagshare.people.models import Person
    from tagshare.tags.services import tag_apply

    for person in Person.objects.all():
        tag_apply(nation=person.nation, actor=Actor.system(), person=person, name="everyone")
    admin_api.get("/people", {"limit": 1})  # the token's first use records it once

    def queries(limit: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_api.get("/people", {"limit": limit}).status_code == 200
        return len(captured)

    assert queries(5) == queries(100) <= 4
