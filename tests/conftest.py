"""Shared fixtures: nations, users and people created through the services (ARCHITECTURE rule 8)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from tagshare.nations import services as nation_services
from tagshare.nations.actors import Actor
from tagshare.nations.models import Nation, User
from tagshare.people import services as people_services
from tagshare.people.models import Person

_counter = itertools.count(1)


@pytest.fixture
def make_nation(db: Any) -> Callable[..., Nation]:
    def make(slug: str | None = None, plan: str = "organization", **kw: Any) -> Nation:
        slug = slug or f"nation-{next(_counter)}"
        return nation_services.nation_create(
            slug=slug, name=kw.pop("name", slug.title()), plan=plan, **kw
        )

    return make


@pytest.fixture
def make_user(db: Any) -> Callable[..., User]:
    def make(
        nation: Nation,
        role: str = "admin",
        email: str | None = None,
        password: str = "pw-secret-123",
    ) -> User:
        email = email or f"{role}{next(_counter)}@{nation.slug}.example"
        return nation_services.user_create(nation=nation, email=email, role=role, password=password)

    return make


@pytest.fixture
def nation(make_nation: Callable[..., Nation]) -> Nation:
    return make_nation("alpha", name="Alpha Coalition")


@pytest.fixture
def other_nation(make_nation: Callable[..., Nation]) -> Nation:
    return make_nation("beta", name="Beta Union")


@pytest.fixture
def admin(nation: Nation, make_user: Callable[..., User]) -> User:
    return make_user(nation, "admin", email="admin@alpha.example")


@pytest.fixture
def staff(nation: Nation, make_user: Callable[..., User]) -> User:
    return make_user(nation, "staff", email="staff@alpha.example")


@pytest.fixture
def other_admin(other_nation: Nation, make_user: Callable[..., User]) -> User:
    return make_user(other_nation, "admin", email="admin@beta.example")


@pytest.fixture
def make_person(db: Any) -> Callable[..., Person]:
    def make(nation: Nation, actor: Actor | None = None, **values: Any) -> Person:
        return people_services.person_create(
            nation=nation, actor=actor or Actor.system(), values_in=values
        )

    return make
