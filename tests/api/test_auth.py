"""Bearer-token auth: a missing, bad or deactivated user's token is a 401 saying what to do."""

from __future__ import annotations

import pytest

from tagshare.nations.services import token_create
from tests.api.conftest import ApiClient, assert_error

pytestmark = pytest.mark.django_db


def test_no_token_is_401_explaining_how_to_get_one(admin):
    response = ApiClient().get("/people")
    body = assert_error(response, 401, "tagshare token create --nation")
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert set(body) <= {"detail", "errors"}


def test_a_made_up_token_is_401(admin):
    assert_error(ApiClient("tgs_not-a-real-token").get("/people"), 401, "not valid")


def test_a_token_without_the_bearer_scheme_is_401(admin):
    raw = token_create(user=admin)
    client = ApiClient()
    client.client.defaults["HTTP_AUTHORIZATION"] = f"Token {raw}"
    assert_error(client.get("/people"), 401, "Bearer")


def test_a_deactivated_users_token_is_401(admin):
    raw = token_create(user=admin)
    assert ApiClient(raw).get("/people").status_code == 200
    admin.is_active = False
    admin.save(update_fields=["is_active"])
    assert_error(ApiClient(raw).get("/people"), 401, "deactivated")


def test_a_valid_token_acts_in_its_nation(admin, make_person, nation, other_nation):
    make_person(nation, first_name="Ada")
    make_person(other_nation, first_name="Bea")
    response = ApiClient(token_create(user=admin)).get("/people")
    assert response.status_code == 200
    assert [p["first_name"] for p in response.json()["results"]] == ["Ada"]


def test_post_needs_no_csrf_token_with_a_bearer_token(admin):
    client = ApiClient(token_create(user=admin))
    client.client = type(client.client)(
        enforce_csrf_checks=True,
        headers={"Authorization": client.client.defaults["HTTP_AUTHORIZATION"]},
    )
    assert client.post("/people", {"first_name": "Ada"}).status_code == 201
