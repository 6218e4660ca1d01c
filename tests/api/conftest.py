"""API test helpers: a JSON client authenticated with a real bearer token of a given user."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from tagshare.nations.models import User
from tagshare.nations.services import token_create

API = "/api/v1"


class ApiClient:
    """django.test.Client speaking JSON to /api/v1, optionally with a bearer token."""

    def __init__(self, token: str | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.client = Client(headers=headers)

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://", API)) else API + path

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.client.get(self.url(path), params or {})

    def send(
        self, method: str, path: str, body: Any = None, *, raw: str | bytes | None = None
    ) -> Any:
        data = raw if raw is not None else ("" if body is None else json.dumps(body))
        call = getattr(self.client, method.lower())
        return call(self.url(path), data=data, content_type="application/json")

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.send("POST", path, body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.send("PATCH", path, body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.send("PUT", path, body, **kw)

    def delete(self, path: str) -> Any:
        return self.client.delete(self.url(path))

    def post_form(self, path: str, data: dict[str, Any]) -> Any:
        """POST as multipart/form-data; file fields are SimpleUploadedFile values."""
        return self.client.post(self.url(path), data)


@pytest.fixture
def api_as() -> Callable[[User | None], ApiClient]:
    def make(user: User | None) -> ApiClient:
        return ApiClient(token_create(user=user) if user is not None else None)

    return make


@pytest.fixture
def admin_api(admin: User, api_as: Callable[[User | None], ApiClient]) -> ApiClient:
    return api_as(admin)


@pytest.fixture
def staff_api(staff: User, api_as: Callable[[User | None], ApiClient]) -> ApiClient:
    return api_as(staff)


@pytest.fixture
def other_api(other_admin: User, api_as: Callable[[User | None], ApiClient]) -> ApiClient:
    return api_as(other_admin)


def assert_error(response: Any, status: int, *words: str) -> dict[str, Any]:
    """The answer is the JSON error shape with this status, and its detail mentions `words`."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body.get("detail"), str) and body["detail"], body
    for word in words:
        assert word.lower() in body["detail"].lower(), (word, body["detail"])
    return body


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    # Users made by the fixtures get passwords; the API never checks them, so hash them cheaply.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- a coalition for the share routes: alpha sends, beta receives, gamma is neither ------------


@pytest.fixture
def receiver_api(other_api: ApiClient) -> ApiClient:
    """Beta's admin: beta receives alpha's shares in these tests."""
    return other_api


@pytest.fixture
def third_api(
    make_nation: Any, make_user: Any, api_as: Callable[[User | None], ApiClient]
) -> ApiClient:
    """The admin of gamma, a nation that neither sends nor receives the shares under test."""
    gamma = make_nation("gamma", name="Gamma League")
    return api_as(make_user(gamma, "admin", email="admin@gamma.example"))


@pytest.fixture
def tagged(nation: Any, make_person: Any) -> Callable[..., Any]:
    """An alpha profile carrying alpha's tag `climate`."""
    from tagshare.nations.actors import Actor
    from tagshare.tags.services import tag_apply

    def make(**values: Any) -> Any:
        person = make_person(nation, **values)
        tag_apply(nation=nation, actor=Actor.system(), person=person, name="climate")
        return person

    return make


@pytest.fixture
def share_climate(
    nation: Any, other_nation: Any, admin_api: ApiClient
) -> Callable[..., dict[str, Any]]:
    """POST /shares as alpha's admin: its tag `climate` to beta unless told otherwise; the JSON."""
    from tagshare.nations.actors import Actor
    from tagshare.tags.services import tag_get_or_create

    def create(**body: Any) -> dict[str, Any]:
        tag_get_or_create(nation=nation, actor=Actor.system(), name="climate")
        response = admin_api.post("/shares", {"tag": "climate", "nations": "beta", **body})
        assert response.status_code == 201, response.content[:500]
        [share] = response.json()["results"]
        return dict(share)

    return create
