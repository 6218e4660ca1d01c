"""Every panel URL, walked as anonymous and as another nation's admin (ARCHITECTURE rule 5).

Generated from the URL patterns, so a new page is covered the day it is added.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import URLPattern

from tagshare.web import urls as web_urls

PUBLIC = {"login/", "logout/"}
ROUTES = [str(p.pattern) for p in web_urls.urlpatterns if isinstance(p, URLPattern)]
PANEL_ROUTES = [route for route in ROUTES if route not in PUBLIC]
PERSON_ROUTES = [route for route in PANEL_ROUTES if "<int:person_id>" in route]


def _path(route: str, person_id: int) -> str:
    return "/" + re.sub(r"<int:\w+>", str(person_id), route)


def test_the_walk_covers_the_panel():
    assert len(PERSON_ROUTES) >= 5 and "tags/" in PANEL_ROUTES and "" in PANEL_ROUTES


@pytest.mark.parametrize("route", PANEL_ROUTES)
@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_is_sent_to_sign_in(client, ada, route, method):
    path = _path(route, ada.pk)
    data = {"name": "x", "first_name": "X"} if method == "post" else None
    response = getattr(client, method)(path, data)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"
    ada.refresh_from_db()
    assert ada.first_name == "Ada"


@pytest.mark.parametrize("route", PERSON_ROUTES)
def test_another_nations_admin_gets_404_for_each_person_route(other_admin, ada, route):
    client = Client()
    client.force_login(other_admin)
    data = {"name": "x", "first_name": "Hacked", "field": "first_name", "change_id": "1"}
    statuses = set()
    for method in ("get", "post"):
        response = getattr(client, method)(_path(route, ada.pk), data)
        statuses.add(response.status_code)
        assert "Ada" not in response.content.decode()
    # The method the route serves answers 404; the other may be 405. Never a 200 or 3xx.
    assert 404 in statuses and statuses <= {404, 405}
    ada.refresh_from_db()
    assert ada.first_name == "Ada" and not ada.taggings.exists()
