"""Tag sharing in a real browser: one nation shares a tag with data sync, the other accepts it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tagshare.nations.actors import Actor
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
def coalition(nation, other_nation, admin, other_admin, make_person):
    """alpha tags Ada (known to beta by email) and Grace (unknown to beta) `volunteers`."""
    ada = make_person(
        nation,
        first_name="Ada",
        last_name="Lovelace",
        email1="ada@example.org",
        occupation="Mathematician",
        home_address={"address1": "12 Analytical Row", "city": "London", "zip": "N1 1AA"},
    )
    grace = make_person(nation, first_name="Grace", last_name="Hopper", email1="grace@navy.example")
    for person in (ada, grace):
        tag_services.tag_apply(
            nation=nation, actor=Actor.system(), person=person, name="volunteers"
        )
    beta_ada = make_person(
        other_nation, first_name="Ada", last_name="Lovelace", email1="ada@example.org"
    )
    return {"beta_ada": beta_ada}


def test_share_a_tag_with_data_sync_and_accept_it(page, sign_in, coalition):
    # Alpha's admin shares `volunteers` with beta, syncing data and offering new profiles.
    sign_in("alpha", "admin@alpha.example")
    page.get_by_role("link", name="Tags", exact=True).click()
    page.get_by_role("link", name="Share the tag volunteers").click()
    expect(page.get_by_role("heading", name=re.compile("Share the tag"))).to_be_visible()
    party = page.get_by_label("Party")
    expect(party).to_be_disabled()  # optional fields only with data sync
    page.get_by_label("Nation slugs").fill("beta")
    page.get_by_label("Sync profile data").check()
    expect(party).to_be_enabled()
    party.check()
    page.get_by_label("Offer to create profiles").check()
    page.get_by_role("button", name="Share tag").click()
    expect(
        page.get_by_role("status").filter(has_text="Shared volunteers with beta")
    ).to_be_visible()
    expect(page.locator("#share-state")).to_have_text("Pending")
    page.get_by_role("button", name="Sign out").click()

    # Beta's admin sees the banner, then finds the share under Tags > Shared.
    sign_in("beta", "admin@beta.example")
    banner = page.get_by_role("region", name="Tag shares waiting for you")
    expect(banner).to_contain_text("Alpha Coalition wants to share alpha:volunteers. Review it.")
    page.get_by_role("link", name="Tags", exact=True).click()
    page.get_by_role("link", name=re.compile("^Shared")).click()
    expect(page.locator("tr.pending-row")).to_have_count(1)
    shared = page.get_by_role("link", name="alpha:volunteers")
    expect(shared).to_have_css("color", "rgb(47, 91, 211)")  # copy in blue is a link
    shared.click()

    expect(page.get_by_role("heading", name="Accept alpha:volunteers")).to_be_visible()
    expect(page.get_by_text("This share syncs profile data")).to_be_visible()
    expect(page.locator(".chosen-fields")).to_contain_text("Party")
    prospects = page.get_by_label("Import new profiles as prospects (recommended)")
    expect(prospects).to_be_hidden()
    page.get_by_label("Create new profiles").check()
    expect(prospects).to_be_visible()
    expect(prospects).to_be_checked()
    page.screenshot(path=f"{SCREENSHOTS}-accept.png", full_page=True)

    # Accepting without a sync option is refused, and nothing chosen is lost.
    page.get_by_role("button", name="Accept share").click()
    expect(page.get_by_role("alert")).to_contain_text("Choose how data syncs")
    expect(page.get_by_label("Create new profiles")).to_be_checked()
    page.screenshot(path=f"{SCREENSHOTS}-accept-error.png", full_page=True)

    page.get_by_label("Accept all changes").check()
    page.get_by_role("button", name="Accept share").click()
    expect(page.get_by_role("status").filter(has_text="You accepted the share")).to_be_visible()
    expect(page.get_by_role("region", name="Tag shares waiting for you")).to_have_count(0)
    expect(page.locator("#share-state")).to_have_text("Approved")
    boxes = page.locator(".status-boxes")
    expect(boxes.locator(".box", has_text="taggings here").locator(".box-n")).to_have_text("2")
    expect(boxes.locator(".box", has_text="synced").locator(".box-n")).to_have_text("2")
    page.screenshot(path=f"{SCREENSHOTS}-share.png", full_page=True)

    # The matched person carries the shared tag and alpha's data.
    page.locator("#share-links").get_by_role("link", name="Ada Lovelace").click()
    expect(page.get_by_role("heading", name="Ada Lovelace", level=1)).to_be_visible()
    expect(page.locator(".tag-list")).to_contain_text("alpha:volunteers")
    expect(page.locator('[data-field="occupation"] dd')).to_have_text("Mathematician")
    expect(page.locator('[data-field="home_address"] dd')).to_contain_text("London")


def test_stop_asks_first_then_the_sender_re_requests(
    page, sign_in, nation, other_nation, admin, other_admin, coalition
):
    from tagshare.sharing import services

    [share] = services.share_create(
        nation=nation, actor=Actor.for_user(admin), tag_name="volunteers", nations="beta"
    )
    services.share_accept(nation=other_nation, actor=Actor.for_user(other_admin), share=share)

    sign_in("beta", "admin@beta.example")
    page.goto(f"/shares/{share.pk}/")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Stop share").click()
    expect(page.locator("#share-state")).to_have_text("Approved")  # dismissed: nothing happened
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Stop share").click()
    expect(page.get_by_role("status").filter(has_text="You stopped the share")).to_be_visible()
    expect(page.locator("#share-state")).to_have_text("Stopped")
    page.get_by_role("button", name="Sign out").click()

    sign_in("alpha", "admin@alpha.example")
    page.goto(f"/shares/{share.pk}/")
    page.screenshot(path=f"{SCREENSHOTS}-share-stopped.png", full_page=True)
    page.get_by_label("Sync profile data").check()
    page.get_by_label("Ward").check()
    page.get_by_role("button", name="Save and re-request").click()
    expect(page.get_by_role("status").filter(has_text="pending until they accept")).to_be_visible()
    expect(page.locator("#share-state")).to_have_text("Pending")
    expect(page.get_by_role("region", name="Settings")).to_contain_text("Ward")


@pytest.mark.parametrize("width", [1280, 390])
def test_sharing_pages_fit_and_screenshots(
    page, sign_in, nation, other_nation, admin, other_admin, coalition, width
):
    """The sharing pages fit the window (no sideways scrolling at phone width)."""
    from tagshare.sharing import services

    [pending] = services.share_create(
        nation=nation,
        actor=Actor.for_user(admin),
        tag_name="volunteers",
        nations="beta",
        sync_data=True,
        optional_fields=["party", "van_id"],
        create_profiles=True,
    )
    tag_services.tag_get_or_create(nation=nation, actor=Actor.system(), name="donors")
    [approved] = services.share_create(
        nation=nation,
        actor=Actor.for_user(admin),
        tag_name="donors",
        nations="beta",
    )
    services.share_accept(nation=other_nation, actor=Actor.for_user(other_admin), share=approved)
    page.set_viewport_size({"width": width, "height": 900})

    def check(name: str, path: str) -> None:
        page.goto(path)
        page.screenshot(path=f"{SCREENSHOTS}-{name}-{width}.png", full_page=True)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        wide = page.evaluate(WIDER_THAN_WINDOW) if overflow > 0 else []
        assert overflow <= 0, f"{name} at {width}px scrolls sideways by {overflow}px: {wide}"

    sign_in("alpha", "admin@alpha.example")
    check("outgoing", "/tags/outgoing/")
    check("share-new", f"/tags/{pending.tag_id}/share/")
    check("share-sender", f"/shares/{pending.pk}/")
    page.get_by_role("button", name="Sign out").click()
    sign_in("beta", "admin@beta.example")
    check("shared", "/tags/shared/")
    check("accept-screen", f"/shares/{pending.pk}/accept/")
    check("share-receiver", f"/shares/{approved.pk}/")
    check("notifications", "/notifications/")
