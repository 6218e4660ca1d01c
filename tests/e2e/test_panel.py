"""The control panel in a real browser: sign in, search, profile, edit, history, sign out."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tagshare.nations.actors import Actor
from tagshare.people.synthetic import synthetic_people
from tagshare.tags import services as tag_services

pytestmark = pytest.mark.e2e

SCREENSHOTS = "/tmp/tagshare-e2e"
# Names the elements that stick out past the window, to say what to fix.
WIDER_THAN_WINDOW = """
[...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
  .slice(0, 8)
  .map(e => `${e.tagName.toLowerCase()}.${e.className}`)
"""


@pytest.fixture
def people(nation, make_person):
    """A handful of realistic people plus two we look for by name."""
    made = [make_person(nation, **row) for row in synthetic_people(12, seed=7, unique_tag="e2e")]
    ada = make_person(
        nation,
        first_name="Ada",
        last_name="Lovelace",
        email1="ada@example.org",
        mobile="+1 555 200 0001",
        occupation="Mathematician",
        support_level=1,
        home_address={
            "address1": "12 Analytical Row",
            "city": "London",
            "zip": "N1 1AA",
            "country_code": "GB",
        },
    )
    grace = make_person(nation, first_name="Grace", last_name="Hopper", email1="grace@navy.example")
    for person in (ada, grace, made[0]):
        tag_services.tag_apply(
            nation=nation, actor=Actor.system(), person=person, name="volunteers"
        )
    tag_services.tag_apply(nation=nation, actor=Actor.system(), person=ada, name="donors")
    return {"ada": ada, "grace": grace, "all": [*made, ada, grace]}


def test_sign_in_search_edit_history_sign_out(page, sign_in, admin, people):
    # A wrong password: one clear message, still on the sign-in page.
    sign_in("alpha", "admin@alpha.example", "not-the-password")
    expect(page.get_by_role("alert")).to_contain_text("don't match an account")
    expect(page).to_have_url(re.compile(r"/login/$"))

    sign_in("alpha", "admin@alpha.example")
    expect(page.get_by_role("heading", name="People")).to_be_visible()
    expect(page.locator("header")).to_contain_text("Alpha Coalition")
    expect(page.locator("header")).to_contain_text("admin@alpha.example")
    rows = page.locator("table.people tbody tr")
    expect(rows).to_have_count(len(people["all"]))

    # Live search: the table narrows in place, the page itself is not reloaded.
    page.evaluate("window.__sameDocument = true")
    page.get_by_label("Search people").press_sequentially("lovel", delay=30)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Ada Lovelace")
    expect(page).to_have_url(re.compile(r"\?q=lovel$"))
    assert page.evaluate("window.__sameDocument") is True

    page.get_by_role("link", name="Ada Lovelace").click()
    expect(page.get_by_role("heading", name="Ada Lovelace", level=1)).to_be_visible()
    expect(page.locator('[data-field="occupation"] dd')).to_have_text("Mathematician")
    expect(page.locator('[data-field="home_address"] dd')).to_contain_text("London, N1 1AA")

    page.get_by_role("link", name="Edit", exact=True).click()
    page.get_by_label("Occupation").fill("Analyst")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status").filter(has_text="Saved changes")).to_be_visible()
    expect(page.locator('[data-field="occupation"] dd')).to_have_text("Analyst")
    change = page.locator('#history tr[data-field="occupation"]').first
    expect(change.locator(".old")).to_have_text("Mathematician")
    expect(change.locator(".new")).to_have_text("Analyst")
    expect(change).to_contain_text("admin@alpha.example")

    # An admin can put the earlier value back; it shows as a new, restored entry.
    change.get_by_role("button", name=re.compile("^Restore")).click()
    expect(page.locator('[data-field="occupation"] dd')).to_have_text("Mathematician")
    expect(page.locator('#history tr[data-field="occupation"]').first).to_contain_text("restored")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login/$"))
    expect(page.get_by_role("status")).to_contain_text("You are signed out.")
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))


def test_edit_error_is_shown_beside_the_field(page, sign_in, admin, people):
    sign_in("alpha", "admin@alpha.example")
    page.goto(f"/people/{people['ada'].pk}/edit/")
    page.get_by_label("Email 2").fill("grace@navy.example")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was saved.")
    expect(page.locator("#err_email2")).to_contain_text("already belongs to Grace Hopper")
    expect(page.get_by_label("Email 2")).to_have_attribute("aria-invalid", "true")


def test_staff_sees_no_restore_button(page, sign_in, staff, admin, nation, people):
    from tagshare.people import services

    ada = people["ada"]
    services.person_update(
        nation=nation, actor=Actor.for_user(admin), person=ada, changes={"last_name": "King"}
    )
    sign_in("alpha", "staff@alpha.example")
    page.goto(f"/people/{ada.pk}/")
    expect(page.locator('#history tr[data-field="last_name"]').first).to_contain_text("King")
    expect(page.get_by_role("button", name=re.compile("^Restore"))).to_have_count(0)


@pytest.mark.parametrize("width", [1280, 390])
def test_layout_fits_and_screenshots(page, sign_in, admin, people, width):
    """Pages fit the window (no sideways scrolling at phone width); screenshots for a look."""
    page.set_viewport_size({"width": width, "height": 900})

    def check(name: str) -> None:
        page.screenshot(path=f"{SCREENSHOTS}-{name}-{width}.png", full_page=True)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        wide = page.evaluate(WIDER_THAN_WINDOW) if overflow > 0 else []
        assert overflow <= 0, f"{name} at {width}px scrolls sideways by {overflow}px: {wide}"

    page.goto("/login/")
    check("login")
    sign_in("alpha", "admin@alpha.example")
    ada = people["ada"].pk
    for name, path in {
        "people": "/",
        "profile": f"/people/{ada}/",
        "edit": f"/people/{ada}/edit/",
        "tags": "/tags/",
        "not-found": "/people/999999/",
    }.items():
        page.goto(path)
        check(name)
