"""Fixtures for the control-panel tests: signed-in clients for each role."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tagshare.nations.models import User


def _signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin_client(admin: User) -> Client:
    return _signed_in(admin)


@pytest.fixture
def staff_client(staff: User) -> Client:
    return _signed_in(staff)


@pytest.fixture
def ada(nation: Any, make_person: Any) -> Any:
    return make_person(
        nation,
        first_name="Ada",
        last_name="Lovelace",
        email1="ada@example.org",
        mobile="+1 555 200 0001",
        home_address={
            "address1": "12 Analytical Row",
            "city": "London",
            "zip": "N1 1AA",
            "country_code": "gb",
        },
    )
