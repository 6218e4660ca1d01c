"""Every panel URL, walked as anonymous and as another nation's admin (ARCHITECTURE rule 5),
and with a NUL character in its input.

Generated from the URL patterns, so a new page is covered the day it is added.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import URLPattern

from tagshare.nations.actors import Actor
from tagshare.sharing.models import TagShare
from tagshare.tags import services as tag_services
from tagshare.tags.models import Tag
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


# --- NUL characters: PostgreSQL text cannot hold them -------------------------------------------


@pytest.mark.parametrize(
    "method,path,data",
    [
        ("get", "/", {"q": "a\x00b"}),
        ("get", "/", {"tag": "a\x00b"}),
        ("post", "/people/{person}/tags/remove/", {"name": "volun\x00teers"}),
        ("post", "/tags/{tag}/share/", {"nations": "be\x00ta"}),
    ],
    ids=["search", "tag-filter", "tag-remove", "share-nations"],
)
def test_a_nul_in_a_search_or_form_gets_a_page_saying_what_to_fix(
    nation, other_nation, admin_client, ada, method, path, data
):
    """Searched or stored, a NUL was a database error on PostgreSQL: a 500."""
    tag_services.tag_apply(nation=nation, actor=Actor.system(), person=ada, name="volunteers")
    tag = Tag.objects.get(nation=nation, name="volunteers")
    url = path.format(person=ada.pk, tag=tag.pk)
    response = getattr(admin_client, method)(url, data)
    assert response.status_code == 400
    body = response.content.decode()
    assert "NUL" in body and "Remove it" in body and 'aria-label="Main"' in body
    assert ada.taggings.count() == 1 and not TagShare.objects.exists()


@pytest.mark.parametrize("route", PANEL_ROUTES)
def test_every_panel_route_refuses_a_nul_before_its_view_runs(admin_client, ada, route):
    for method in ("get", "post"):
        response = getattr(admin_client, method)(_path(route, ada.pk), {"name": "a\x00b"})
        assert response.status_code == 400, method
    ada.refresh_from_db()
    assert ada.first_name == "Ada" and not ada.taggings.exists()
