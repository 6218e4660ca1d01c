"""The review screen in a real browser: the receiving admin applies one proposed change."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tagshare.nations.actors import Actor
from tagshare.outbox.drain import drain_until_idle
from tagshare.people.models import Person
from tagshare.people.services import person_update
from tagshare.sharing import services
from tagshare.sharing.models import ReviewItem, ReviewStatus
from tagshare.sharing.reviews import reviews_skip
from tagshare.tags.services import tag_apply

pytestmark = pytest.mark.e2e

SCREENSHOTS = "/tmp/tagshare-e2e"


@pytest.fixture
def proposals(nation, other_nation, admin, other_admin, make_person):
    """alpha shares `climate` with beta (review each change), then edits Ada's occupation and
    employer, so beta's Ada has two changes waiting."""
    alpha_ada = make_person(nation, first_name="Ada", last_name="Lovelace", email1="ada@x.org")
    tag_apply(nation=nation, actor=Actor.system(), person=alpha_ada, name="climate")
    beta_ada = make_person(
        other_nation,
        first_name="Ada",
        last_name="Lovelace",
        email1="ada@x.org",
        occupation="Nurse",
        employer="Clinic",
    )
    [share] = services.share_create(
        nation=nation,
        actor=Actor.for_user(admin),
        tag_name="climate",
        nations="beta",
        sync_data=True,
    )
    services.share_accept(
        nation=other_nation, actor=Actor.for_user(other_admin), share=share, sync_option="review"
    )
    drain_until_idle()
    reviews_skip(nation=other_nation, actor=Actor.for_user(other_admin), person_ids=[beta_ada.pk])
    person_update(
        nation=nation,
        actor=Actor.system(),
        person=Person.objects.get(pk=alpha_ada.pk),
        changes={"occupation": "Mathematician", "employer": "Analytical Engines"},
    )
    drain_until_idle()
    pending = ReviewItem.objects.filter(nation=other_nation, status=ReviewStatus.PENDING)
    assert sorted(pending.values_list("field", flat=True)) == ["employer", "occupation"]
    return beta_ada


def test_the_receiver_ticks_one_change_and_applies_it(page, sign_in, proposals):
    sign_in("beta", "admin@beta.example")
    review = page.get_by_role("navigation", name="Main").get_by_role("link", name="Review")
    expect(review).to_contain_text("2")
    review.click()

    expect(page.get_by_role("heading", name="Review changes")).to_be_visible()
    card = page.get_by_role("region", name="Ada Lovelace")
    occupation = card.locator('tr[data-field="occupation"]')
    expect(occupation).to_contain_text("Nurse")
    expect(occupation).to_contain_text("Mathematician")
    expect(occupation).to_contain_text("alpha:climate")
    # The profile's box follows its fields: one of two ticked is "some".
    everything = card.get_by_label("Select all 2 changes")
    card.get_by_label("Occupation").check()
    expect(everything).not_to_be_checked()
    assert everything.evaluate("box => box.indeterminate")
    expect(page.get_by_text("1 selected")).to_be_visible()
    page.screenshot(path=f"{SCREENSHOTS}-review.png", full_page=True)

    page.get_by_role("button", name="Apply selected").click()
    expect(page.get_by_role("status").filter(has_text="Applied 1 change.")).to_be_visible()
    # The applied change has left the list; the other still waits, and the count follows.
    expect(page.locator('tr[data-field="occupation"]')).to_have_count(0)
    expect(page.locator('tr[data-field="employer"]')).to_contain_text("Analytical Engines")
    expect(review).to_contain_text("1")

    page.get_by_role("region", name="Ada Lovelace").get_by_role("link", name="Ada Lovelace").click()
    expect(page.get_by_role("heading", name="Ada Lovelace", level=1)).to_be_visible()
    expect(page.locator('[data-field="occupation"] dd')).to_have_text("Mathematician")
    expect(page.locator('[data-field="employer"] dd')).to_have_text("Clinic")

    # The screen fits a phone: no sideways scrolling.
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto("/reviews/")
    page.screenshot(path=f"{SCREENSHOTS}-review-390.png", full_page=True)
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the review screen scrolls sideways by {overflow}px at 390px"
