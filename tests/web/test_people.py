"""People pages: the list with live search, a profile and its history, edit, restore, new."""

from __future__ import annotations

import re

import pytest

from tagshare.nations.actors import Actor
from tagshare.people import services
from tagshare.people.models import Person, PersonChange
from tagshare.tags import services as tag_services
from tagshare.tags.models import Tag


def _rows(html: str) -> list[str]:
    """Names linked from the people table, in order."""
    return re.findall(r'<td class="lead"><a href="/people/\d+/">([^<]+)</a></td>', html)


# --- list and search -------------------------------------------------------------------------


def test_list_shows_only_this_nations_people_with_their_columns(
    admin_client, nation, other_nation, make_person, ada
):
    make_person(other_nation, first_name="Bea", last_name="Foreign", email1="bea@example.org")
    tag_services.tag_apply(nation=nation, actor=Actor.system(), person=ada, name="volunteers")
    services.person_set_status(nation=nation, actor=Actor.system(), person=ada, is_supporter=True)
    body = admin_client.get("/").content.decode()
    assert _rows(body) == ["Ada Lovelace"]
    assert "Bea" not in body
    for shown in ("ada@example.org", "+1 555 200 0001", "London", "volunteers", "Supporter"):
        assert shown in body
    assert "1 person" in body


def test_search_narrows_the_list_and_htmx_gets_the_table_alone(admin_client, nation, make_person):
    make_person(nation, first_name="Grace", last_name="Hopper", email1="grace@navy.example")
    make_person(nation, first_name="Alan", last_name="Turing", email1="alan@bletchley.example")

    full = admin_client.get("/", {"q": "hopper"})
    assert _rows(full.content.decode()) == ["Grace Hopper"]
    assert "<html" in full.content.decode()

    partial = admin_client.get("/", {"q": "bletchley"}, headers={"HX-Request": "true"})
    html = partial.content.decode()
    assert _rows(html) == ["Alan Turing"]
    assert "<html" not in html and "<header" not in html and 'id="q"' not in html
    assert "matching “bletchley”" in html
    assert "HX-Request" in partial["Vary"]

    # A history restore (back button after a live search) needs the whole page.
    restore = admin_client.get(
        "/",
        {"q": "bletchley"},
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )
    assert "<html" in restore.content.decode()


def test_list_queries_do_not_grow_with_the_rows(admin_client, nation, make_person):
    def queries_for_list() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get("/", {"q": "Tagged"}).status_code == 200
        return len(captured)

    def add_people(count: int) -> None:
        for _ in range(count):
            person = make_person(nation, first_name="Tagged", last_name="Row")
            for tag in ("a", "b"):
                tag_services.tag_apply(nation=nation, actor=Actor.system(), person=person, name=tag)

    add_people(2)
    few = queries_for_list()
    add_people(20)
    assert queries_for_list() == few


def test_search_with_no_match_says_so(admin_client, ada):
    body = admin_client.get("/", {"q": "zzzz"}).content.decode()
    assert _rows(body) == []
    assert "No one matches" in body
    assert "(1 in all)" in body


def test_list_pages_fifty_at_a_time(admin_client, nation, make_person):
    for i in range(51):
        make_person(nation, first_name=f"P{i:02d}", last_name="Paged")
    first = admin_client.get("/").content.decode()
    assert len(_rows(first)) == 50
    assert "Showing 1\u201350 of 51 people" in first
    assert 'rel="next" href="/?page=2"' in first
    second = admin_client.get("/", {"page": 2}).content.decode()
    assert _rows(second) == ["P50 Paged"]
    assert 'rel="prev" href="/"' in second
    # A page past the end shows the last page rather than an error.
    assert _rows(admin_client.get("/", {"page": "99"}).content.decode()) == ["P50 Paged"]
    assert len(_rows(admin_client.get("/", {"page": "x"}).content.decode())) == 50


def test_tag_filter(admin_client, nation, make_person, ada):
    make_person(nation, first_name="Untagged", last_name="Person")
    tag_services.tag_apply(nation=nation, actor=Actor.system(), person=ada, name="donors 2024")
    body = admin_client.get("/", {"tag": "donors 2024"}).content.decode()
    assert _rows(body) == ["Ada Lovelace"]
    assert "tagged donors 2024" in body


# --- profile ---------------------------------------------------------------------------------


def test_profile_groups_non_blank_fields_and_formats_the_address(admin_client, nation, ada):
    services.person_update(
        nation=nation,
        actor=Actor.system(),
        person=ada,
        changes={"support_level": 2, "email_opt_in": True},
    )
    body = admin_client.get(f"/people/{ada.pk}/").content.decode()
    for heading in ("Names", "Emails", "Phones", "Addresses", "Support", "Contact preferences"):
        assert f">{heading}</h2>" in body
    # Groups with nothing filled in are left out, and so are blank fields.
    assert ">Districts</h2>" not in body and ">Work</h2>" not in body
    assert "Middle name" not in body
    assert "12 Analytical Row<br>London, N1 1AA<br>GB" in body
    assert "2 (support)" in body
    assert 'href="mailto:ada@example.org"' in body
    assert "Supporter" in body  # support level 2 makes a supporter


def test_another_nations_profile_is_a_404_like_a_missing_one(
    admin_client, other_nation, make_person
):
    foreign = make_person(other_nation, first_name="Bea", email1="bea@beta.example")
    for path in (f"/people/{foreign.pk}/", f"/people/{foreign.pk}/edit/", "/people/999999/"):
        response = admin_client.get(path)
        assert response.status_code == 404, path
        assert "Bea" not in response.content.decode()
    response = admin_client.post(f"/people/{foreign.pk}/edit/", {"first_name": "Hacked"})
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.first_name == "Bea"


def test_a_huge_id_is_a_404_not_a_crash(admin_client):
    assert admin_client.get("/people/99999999999999999999999/").status_code == 404


# --- edit ------------------------------------------------------------------------------------


def test_edit_saves_and_history_shows_old_and_new(admin_client, admin, ada):
    form = admin_client.get(f"/people/{ada.pk}/edit/").content.decode()
    assert 'name="first_name" type="text" value="Ada"' in form
    assert 'name="home_city" value="London"' in form

    response = admin_client.post(
        f"/people/{ada.pk}/edit/", {"last_name": "King", "home_city": "Ockham"}, follow=True
    )
    assert response.redirect_chain[-1][0] == f"/people/{ada.pk}/"
    ada.refresh_from_db()
    assert (ada.last_name, ada.home_city, ada.first_name) == ("King", "Ockham", "Ada")
    body = response.content.decode()
    assert "Saved changes to Ada King." in body
    history = body.split('id="history"')[1]
    row = re.search(r'<tr data-field="last_name">.*?</tr>', history, re.S).group(0)
    assert "Lovelace" in row and "King" in row and "Control panel user" in row
    assert admin.email in row
    assert re.search(r'<tr data-field="home_address">.*?London.*?Ockham', history, re.S)


def test_a_long_history_shows_its_latest_changes_and_says_there_are_more(
    admin_client, nation, ada, monkeypatch
):
    from tagshare.web.views import people as people_views

    monkeypatch.setattr(people_views, "HISTORY_LIMIT", 3)
    for job in ("Poet", "Analyst", "Engineer"):
        services.person_update(
            nation=nation, actor=Actor.system(), person=ada, changes={"occupation": job}
        )
    history = admin_client.get(f"/people/{ada.pk}/").content.decode().split('id="history"')[1]
    assert len(re.findall(r'<tr data-field="occupation">', history)) == 3
    assert "Showing the latest 3 changes" in history
    monkeypatch.setattr(people_views, "HISTORY_LIMIT", 200)
    history = admin_client.get(f"/people/{ada.pk}/").content.decode().split('id="history"')[1]
    assert "Showing the latest" not in history


def test_edit_with_nothing_changed_writes_nothing(admin_client, ada):
    before = PersonChange.objects.filter(person=ada).count()
    form = admin_client.get(f"/people/{ada.pk}/edit/")
    assert form.status_code == 200
    # Post back every value exactly as the form showed it.
    posted = dict(re.findall(r'name="(\w+)"[^>]*? value="([^"]*)"', form.content.decode()))
    posted.pop("csrfmiddlewaretoken", None)
    response = admin_client.post(f"/people/{ada.pk}/edit/", posted, follow=True)
    assert "Nothing changed." in response.content.decode()
    assert PersonChange.objects.filter(person=ada).count() == before


def test_edit_with_an_email_another_profile_holds_changes_nothing(
    admin_client, nation, make_person, ada
):
    make_person(nation, first_name="Grace", email1="grace@navy.example")
    history_before = PersonChange.objects.filter(person=ada).count()
    response = admin_client.post(
        f"/people/{ada.pk}/edit/",
        {"first_name": "Augusta", "email2": "Grace@Navy.example "},
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "Nothing was saved." in body
    # The message sits beside the email2 input, and the typed values are kept.
    field = re.search(r'<div class="field has-error">.*?</div>', body, re.S).group(0)
    assert 'id="id_email2"' in field and "already belongs to Grace" in field
    assert 'value="Augusta"' in body
    ada.refresh_from_db()
    assert (ada.first_name, ada.email2) == ("Ada", "")
    assert PersonChange.objects.filter(person=ada).count() == history_before


def test_multi_line_text_posted_back_with_browser_line_breaks_is_not_a_change(
    admin_client, nation, ada
):
    services.person_update(
        nation=nation, actor=Actor.system(), person=ada, changes={"note": "line one\nline two"}
    )
    before = PersonChange.objects.filter(person=ada).count()
    response = admin_client.post(
        f"/people/{ada.pk}/edit/", {"note": "line one\r\nline two"}, follow=True
    )
    assert "Nothing changed." in response.content.decode()
    assert PersonChange.objects.filter(person=ada).count() == before


def test_edit_reports_every_invalid_field_at_once(admin_client, ada):
    response = admin_client.post(
        f"/people/{ada.pk}/edit/",
        {"first_name": "Augusta", "birthdate": "next tuesday", "website": "not a site"},
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert 'id="err_birthdate"' in body and "use YYYY-MM-DD" in body
    assert 'id="err_website"' in body and "is not a web address" in body
    ada.refresh_from_db()
    assert ada.first_name == "Ada"


def test_edit_sets_supporter_and_prospect_flags(admin_client, ada):
    admin_client.post(f"/people/{ada.pk}/edit/", {"_flags": "1", "is_prospect": "on"})
    ada.refresh_from_db()
    assert (ada.is_supporter, ada.is_prospect) == (False, True)
    admin_client.post(f"/people/{ada.pk}/edit/", {"_flags": "1", "is_supporter": "on"})
    ada.refresh_from_db()
    assert (ada.is_supporter, ada.is_prospect) == (True, False)


def test_staff_can_edit(staff_client, ada):
    response = staff_client.post(f"/people/{ada.pk}/edit/", {"occupation": "Mathematician"})
    assert response.status_code == 302
    ada.refresh_from_db()
    assert ada.occupation == "Mathematician"


# --- restore ---------------------------------------------------------------------------------


def _change_last_name(nation, ada, admin, new="King"):
    return services.person_update(
        nation=nation, actor=Actor.for_user(admin), person=ada, changes={"last_name": new}
    )


def test_staff_sees_no_restore_button_and_cannot_post_one(staff_client, nation, admin, ada):
    change = _change_last_name(nation, ada, admin)
    body = staff_client.get(f"/people/{ada.pk}/").content.decode()
    assert 'data-field="last_name"' in body
    assert "/restore/" not in body and ">Restore<" not in body
    response = staff_client.post(
        f"/people/{ada.pk}/restore/", {"change_id": change.pk, "field": "last_name"}
    )
    assert response.status_code == 403
    assert "Only nation admins can restore" in response.content.decode()
    ada.refresh_from_db()
    assert ada.last_name == "King"


def test_admin_restores_an_earlier_value_as_a_new_write(admin_client, nation, admin, ada):
    change = _change_last_name(nation, ada, admin)
    body = admin_client.get(f"/people/{ada.pk}/").content.decode()
    assert f'name="change_id" value="{change.pk}"' in body
    response = admin_client.post(
        f"/people/{ada.pk}/restore/", {"change_id": change.pk, "field": "last_name"}, follow=True
    )
    assert response.redirect_chain[-1][0] == f"/people/{ada.pk}/#history"
    ada.refresh_from_db()
    assert ada.last_name == "Lovelace"
    latest = PersonChange.objects.filter(person=ada).order_by("-id").first()
    assert latest.kind == "restore"
    assert latest.changes["last_name"]["old"] == "King"
    assert latest.changes["last_name"]["new"] == "Lovelace"
    body = response.content.decode()
    assert "Restored the earlier value of Last name." in body
    assert "restored</span>" in body


def test_restore_of_a_bad_change_id_is_a_404(admin_client, ada):
    for change_id in ("nope", "999999"):
        response = admin_client.post(
            f"/people/{ada.pk}/restore/", {"change_id": change_id, "field": "last_name"}
        )
        assert response.status_code == 404


def test_restore_that_clashes_is_a_message_not_a_500(admin_client, nation, admin, make_person):
    grace = make_person(nation, first_name="Grace", email1="grace@navy.example")
    change = services.person_update(
        nation=nation,
        actor=Actor.for_user(admin),
        person=grace,
        changes={"email1": "hopper@navy.example"},
    )
    # Someone else takes Grace's old address; restoring it would put it in two profiles.
    make_person(nation, first_name="Other", email1="grace@navy.example")
    response = admin_client.post(
        f"/people/{grace.pk}/restore/",
        {"change_id": change.pk, "field": "email1"},
        headers={"Referer": f"http://testserver/people/{grace.pk}/"},
        follow=True,
    )
    assert response.status_code == 200
    assert "already belongs to Other" in response.content.decode()
    grace.refresh_from_db()
    assert grace.email1 == "hopper@navy.example"


# --- new person ------------------------------------------------------------------------------


def test_new_person_form_creates_a_profile(admin_client, nation):
    response = admin_client.post(
        "/people/new/",
        {
            "first_name": "Katherine",
            "last_name": "Johnson",
            "email1": "kj@nasa.example",
            "sex": "F",
            "_flags": "1",
            "is_prospect": "on",
        },
        follow=True,
    )
    person = Person.objects.get(nation=nation, email1="kj@nasa.example")
    assert response.redirect_chain[-1][0] == f"/people/{person.pk}/"
    assert (person.first_name, person.sex, person.is_prospect) == ("Katherine", "F", True)
    assert "Created Katherine Johnson." in response.content.decode()


def test_new_person_form_refuses_an_empty_or_invalid_profile(admin_client, nation, ada):
    assert admin_client.post("/people/new/", {"first_name": "  "}).status_code == 422
    response = admin_client.post(
        "/people/new/", {"first_name": "Copy", "email1": "ADA@example.org"}
    )
    assert response.status_code == 422
    assert "already belongs to Ada Lovelace" in response.content.decode()
    assert Person.objects.filter(nation=nation).count() == 1


# --- tags on a profile -----------------------------------------------------------------------


def test_add_and_remove_a_tag_on_a_profile(admin_client, ada):
    response = admin_client.post(f"/people/{ada.pk}/tags/", {"name": "  phone  bank "}, follow=True)
    assert "Tagged Ada Lovelace with phone bank." in response.content.decode()
    assert list(ada.taggings.values_list("tag__name", flat=True)) == ["phone bank"]
    admin_client.post(f"/people/{ada.pk}/tags/remove/", {"name": "phone bank"})
    assert not ada.taggings.exists()


def test_a_refused_tag_is_a_message(admin_client, ada):
    response = admin_client.post(
        f"/people/{ada.pk}/tags/",
        {"name": "beta:vip"},
        headers={"Referer": f"http://testserver/people/{ada.pk}/"},
        follow=True,
    )
    assert response.status_code == 200
    assert "reserved for tags shared" in response.content.decode()
    assert not ada.taggings.exists()


def test_a_tag_name_with_a_control_character_is_refused_with_a_message(admin_client, ada):
    # Stored, it is invisible in the list of tags (and a NUL is a 500 on PostgreSQL).
    response = admin_client.post(
        f"/people/{ada.pk}/tags/",
        {"name": "a\x1bb"},
        headers={"Referer": f"http://testserver/people/{ada.pk}/"},
        follow=True,
    )
    assert response.status_code == 200
    assert "cannot contain control characters" in response.content.decode()
    assert not Tag.objects.exists()


@pytest.mark.parametrize("client_name", ["admin_client", "staff_client"])
def test_header_shows_nation_user_and_role(request, client_name):
    client = request.getfixturevalue(client_name)
    body = client.get("/").content.decode()
    assert "Alpha Coalition" in body and ">alpha<" in body
    role = "Admin" if client_name == "admin_client" else "Staff"
    assert f">{role}</span>" in body
    assert 'aria-current="page">People<' in body
