"""Sign in, sign out, and that every panel page needs a signed-in user of a nation."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.test import Client

from tagshare.web.views.auth import WRONG_CREDENTIALS


@pytest.mark.django_db
def test_live_search_after_the_session_ended_sends_the_whole_page_to_sign_in(client):
    response = client.get(
        "/",
        {"q": "ada"},
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/?tag=donors"},
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/login/?next=/%3Ftag%3Ddonors"
    assert response.content == b""


def test_panel_pages_are_not_cached(admin_client):
    assert "no-store" in admin_client.get("/")["Cache-Control"]


def test_sign_in_with_nation_email_password_goes_to_next(client, admin):
    response = client.post(
        "/login/",
        {
            "nation": "alpha",
            "email": "Admin@Alpha.example",
            "password": "pw-secret-123",
            "next": "/tags/",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/tags/"
    page = client.get("/tags/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "admin@alpha.example" in body and "Alpha Coalition" in body


@pytest.mark.parametrize(
    "slug, email, password",
    [
        ("alpha", "admin@alpha.example", "wrong-password"),  # wrong password
        ("alpha", "nobody@alpha.example", "pw-secret-123"),  # unknown email
        ("beta", "admin@alpha.example", "pw-secret-123"),  # right user, wrong nation
        ("", "", ""),  # nothing filled in
    ],
)
def test_wrong_credentials_give_one_message_without_hints(
    client, admin, other_nation, slug, email, password
):
    response = client.post("/login/", {"nation": slug, "email": email, "password": password})
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count(WRONG_CREDENTIALS.replace("'", "&#x27;")) == 1
    assert "_auth_user_id" not in client.session
    # What was typed stays, except the password.
    if email:
        assert f'value="{email}"' in body
    assert "pw-secret-123" not in body and "wrong-password" not in body


def test_sign_in_with_a_nul_in_a_field_says_what_to_fix(client, admin):
    # The nation and email are looked up: on PostgreSQL a NUL in them was a 500.
    response = client.post(
        "/login/",
        {"nation": "al\x00pha", "email": "admin@alpha.example", "password": "pw-secret-123"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "NUL" in body and "nation" in body and "pw-secret-123" not in body
    assert "_auth_user_id" not in client.session


def test_sign_in_refuses_foreign_next(client, admin):
    response = client.post(
        "/login/",
        {
            "nation": "alpha",
            "email": "admin@alpha.example",
            "password": "pw-secret-123",
            "next": "https://evil.example/",
        },
    )
    assert response["Location"] == "/"


def test_sign_out_needs_post_and_ends_the_session(admin_client):
    assert admin_client.get("/logout/").status_code == 405
    assert admin_client.get("/").status_code == 200
    response = admin_client.post("/logout/", follow=True)
    assert response.redirect_chain[-1][0] == "/login/"
    assert "You are signed out." in response.content.decode()
    assert admin_client.get("/").status_code == 302


def test_csrf_is_enforced_on_panel_forms(admin, ada):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    response = client.post(f"/people/{ada.pk}/edit/", {"first_name": "Augusta"})
    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()
    ada.refresh_from_db()
    assert ada.first_name == "Ada"
    # With the token from the page, the same POST goes through.
    page = client.get(f"/people/{ada.pk}/edit/")
    token = page.cookies["csrftoken"].value
    response = client.post(
        f"/people/{ada.pk}/edit/", {"first_name": "Augusta", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    ada.refresh_from_db()
    assert ada.first_name == "Augusta"


def test_csrf_is_enforced_on_sign_in(admin):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/login/", {"nation": "alpha", "email": "admin@alpha.example", "password": "pw-secret-123"}
    )
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_server_error_page_renders_without_a_request():
    # Django renders 500.html with no context at all; it must not need the signed-in user.
    html = render_to_string("500.html")
    assert "Something went wrong" in html and "Sign out" not in html


def test_unknown_page_is_a_friendly_404_inside_the_layout(admin_client):
    response = admin_client.get("/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Not found" in body and "Alpha Coalition" in body and 'aria-label="Main"' in body
