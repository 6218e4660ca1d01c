"""The review screen (SPEC §6.2): list, filter, apply and skip proposed changes in the panel.

Alpha shares `climate` (Ann) and `donors` (Bob) with beta, syncing data with "Always review each
change". Alpha then edits its Ann and Bob, so beta's queue holds their proposals; beta edits its
Ann, so alpha's queue holds one too. All state is made through the services, and the sync
engine runs in-process (drain_until_idle).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tagshare.nations.actors import Actor
from tagshare.nations.models import Nation, User
from tagshare.outbox.drain import drain_until_idle
from tagshare.people.models import Person
from tagshare.people.services import person_update
from tagshare.sharing import services
from tagshare.sharing.models import ReviewItem, ReviewStatus, TagShare
from tagshare.sharing.reviews import reviews_apply, reviews_skip
from tagshare.tags.services import tag_apply


@dataclass
class World:
    climate: TagShare
    donors: TagShare
    beta_ann: Person  # beta's profiles: the ones beta decides about
    beta_bob: Person
    alpha_ann: Person
    alpha_bob: Person
    occupation: ReviewItem  # beta's pending items
    employer: ReviewItem
    bob_occupation: ReviewItem
    alpha_item: ReviewItem  # alpha's pending item: first_name of alpha's Ann


def _client(user: User, **kw: Any) -> Client:
    client = Client(**kw)
    client.force_login(user)
    return client


def _text(response: Any) -> str:
    return response.content.decode()


def _get(person: Person) -> Person:
    return Person.objects.get(pk=person.pk)


def _write(person: Person, **changes: Any) -> None:
    """A write in the person's own nation, then the sync engine runs until nothing is left."""
    person_update(nation=person.nation, actor=Actor.system(), person=_get(person), changes=changes)
    drain_until_idle()


def _share(sender: Nation, sender_admin: User, receiver: Nation, receiver_admin: User, tag: str):
    [share] = services.share_create(
        nation=sender,
        actor=Actor.for_user(sender_admin),
        tag_name=tag,
        nations=receiver.slug,
        sync_data=True,
    )
    services.share_accept(
        nation=receiver, actor=Actor.for_user(receiver_admin), share=share, sync_option="review"
    )
    share.refresh_from_db()
    return share


def _pending(nation: Nation) -> list[ReviewItem]:
    return list(ReviewItem.objects.filter(nation=nation, status=ReviewStatus.PENDING))


def _item(nation: Nation, person: Person, field: str) -> ReviewItem:
    return ReviewItem.objects.get(
        nation=nation, person=person, field=field, status=ReviewStatus.PENDING
    )


@pytest.fixture
def world(nation, other_nation, admin, other_admin, make_person) -> World:
    alpha_ann = make_person(nation, first_name="Ann", last_name="Archer", email1="ann@x.org")
    alpha_bob = make_person(nation, first_name="Bob", last_name="Baker", email1="bob@x.org")
    tag_apply(nation=nation, actor=Actor.system(), person=alpha_ann, name="climate")
    tag_apply(nation=nation, actor=Actor.system(), person=alpha_bob, name="donors")
    beta_ann = make_person(
        other_nation,
        first_name="Ann",
        last_name="Archer",
        email1="ann@x.org",
        occupation="Nurse",
        employer="Clinic",
    )
    beta_bob = make_person(
        other_nation, first_name="Bob", last_name="Baker", email1="bob@x.org", occupation="Baker"
    )
    climate = _share(nation, admin, other_nation, other_admin, "climate")
    donors = _share(nation, admin, other_nation, other_admin, "donors")
    drain_until_idle()
    # Start from empty queues: drop whatever the initial syncs proposed.
    for here, who in ((other_nation, other_admin), (nation, admin)):
        people = list({item.person_id for item in _pending(here)})
        if people:
            reviews_skip(nation=here, actor=Actor.for_user(who), person_ids=people)
    assert _pending(other_nation) == [] and _pending(nation) == []

    _write(alpha_ann, occupation="Doctor", employer="Hospital")
    _write(alpha_bob, occupation="Chef")
    _write(beta_ann, first_name="Annie")
    assert len(_pending(other_nation)) == 3 and len(_pending(nation)) == 1
    return World(
        climate=climate,
        donors=donors,
        beta_ann=beta_ann,
        beta_bob=beta_bob,
        alpha_ann=alpha_ann,
        alpha_bob=alpha_bob,
        occupation=_item(other_nation, beta_ann, "occupation"),
        employer=_item(other_nation, beta_ann, "employer"),
        bob_occupation=_item(other_nation, beta_bob, "occupation"),
        alpha_item=_item(nation, alpha_ann, "first_name"),
    )


@pytest.fixture
def beta(other_admin) -> Client:
    return _client(other_admin)


@pytest.fixture
def alpha(admin) -> Client:
    return _client(admin)


def _ids_on(body: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'name="ids" value="(\d+)"', body)}


def _shown_on(body: str) -> str:
    found = re.search(r'name="shown" value="([\d,]*)"', body)
    assert found, "the review form carries the ids it shows"
    return found.group(1)


def _profile_section(body: str, person: Person) -> str:
    start = body.index(f'id="profile-{person.pk}"')
    return body[start : body.index("</section>", start)]


def _row(body: str, item: ReviewItem) -> str:
    marker = f'name="ids" value="{item.pk}"'
    start = body.rindex("<tr", 0, body.index(marker))
    return body[start : body.index("</tr>", start)]


def _messages(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- the list ---------------------------------------------------------------------------------


def test_the_page_lists_this_nations_changes_grouped_by_profile(world, beta):
    response = beta.get("/reviews/")
    assert response.status_code == 200
    body = _text(response)
    assert _ids_on(body) == {world.occupation.pk, world.employer.pk, world.bob_occupation.pk}

    ann = _profile_section(body, world.beta_ann)
    # Beta's Ann is Annie here since beta's own edit: the card shows the profile as it is now.
    assert f'href="/people/{world.beta_ann.pk}/">Annie Archer</a>' in ann
    assert _ids_on(ann) == {world.occupation.pk, world.employer.pk}
    row = _row(body, world.occupation)
    for shown in ("Occupation", "Nurse", "Doctor", "Alpha Coalition", "alpha:climate"):
        assert shown in row, shown
    assert f'href="/shares/{world.climate.pk}/"' in row
    assert "Clinic" in _row(body, world.employer) and "Hospital" in _row(body, world.employer)
    bob = _profile_section(body, world.beta_bob)
    assert "Chef" in bob and "alpha:donors" in bob
    # Alpha's queue (beta's edit of Ann's first name) is alpha's to decide, not beta's.
    assert str(world.alpha_item.pk) not in _shown_on(body).split(",")


def test_each_nation_sees_only_its_own_queue(world, alpha):
    body = _text(alpha.get("/reviews/"))
    assert _ids_on(body) == {world.alpha_item.pk}
    row = _row(body, world.alpha_item)
    assert "First name" in row and "Annie" in row and "Beta Union" in row
    for theirs in ("Doctor", "Hospital", "Chef", "Nurse"):
        assert theirs not in body, theirs


def test_the_page_reads_a_fixed_number_of_queries(world, alpha, beta):
    """Beta's page (two profiles, three changes, two shares) costs what alpha's (one of each)
    costs: nothing is read per row."""
    with CaptureQueriesContext(connection) as small:
        assert alpha.get("/reviews/").status_code == 200
    with CaptureQueriesContext(connection) as large:
        assert beta.get("/reviews/").status_code == 200
    assert len(large) == len(small)


def test_the_navigation_counts_what_waits_for_review(world, beta, nation, make_user):
    body = _text(beta.get("/"))
    link = re.search(r'<a href="/reviews/"[^>]*>Review(.*?)</a>', body)
    assert link and ">3<" in link.group(1) and "pending" in link.group(1)
    # Staff do not review: no link, and the page is refused.
    staff = _client(make_user(nation, "staff"))
    assert 'href="/reviews/"' not in _text(staff.get("/"))
    assert staff.get("/reviews/").status_code == 403
    assert staff.post("/reviews/apply/", {"ids": [world.alpha_item.pk]}).status_code == 403
    assert _item(nation, world.alpha_ann, "first_name").pk == world.alpha_item.pk


def test_an_empty_queue_says_what_it_is_for(nation, admin):
    client = _client(admin)
    body = _text(client.get("/reviews/"))
    assert "Nothing to review" in body
    assert "Always review each change" in body
    assert "Apply selected" not in body
    link = re.search(r'<a href="/reviews/"[^>]*>Review(.*?)</a>', _text(client.get("/")))
    assert link and "count-pill" not in link.group(1)


# --- filter by share --------------------------------------------------------------------------


def test_the_list_filters_by_share(world, beta, make_nation, make_user, nation, admin):
    climate = _text(beta.get(f"/reviews/?share={world.climate.pk}"))
    assert _ids_on(climate) == {world.occupation.pk, world.employer.pk}
    donors = _text(beta.get(f"/reviews/?share={world.donors.pk}"))
    assert _ids_on(donors) == {world.bob_occupation.pk}
    assert "Chef" in donors and "Doctor" not in donors
    # The filter names each share with what waits from it.
    assert re.search(r"alpha:climate</span> · Alpha Coalition \(2\)", climate)
    assert re.search(r"alpha:donors</span> · Alpha Coalition \(1\)", climate)

    # A share between two other nations answers like a missing one.
    gamma = make_nation("gamma", name="Gamma League")
    make_user(gamma, "admin")
    [elsewhere] = services.share_create(
        nation=nation, actor=Actor.for_user(admin), tag_name="climate", nations="gamma"
    )
    for share in (elsewhere.pk, 2**70, "abc"):
        response = beta.get(f"/reviews/?share={share}")
        assert response.status_code == 404, share
        assert "Doctor" not in _text(response)


def test_a_filtered_page_with_nothing_left_offers_the_rest(world, beta, other_nation, other_admin):
    reviews_apply(
        nation=other_nation, actor=Actor.for_user(other_admin), person_ids=[world.beta_bob.pk]
    )
    body = _text(beta.get(f"/reviews/?share={world.donors.pk}"))
    assert "Nothing from" in body and "alpha:donors" in body
    assert 'href="/reviews/">Show all 2 waiting changes</a>' in body


# --- apply and skip ---------------------------------------------------------------------------


def test_apply_selected_writes_the_proposed_value_and_both_nations_agree(world, beta):
    response = beta.post(
        "/reviews/apply/", {"ids": [world.occupation.pk], "next": "/reviews/"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/reviews/"
    assert "Applied 1 change." in _messages(response)
    # Only what was ticked: the employer still waits, and the page lists it.
    assert _ids_on(_text(response)) == {world.employer.pk, world.bob_occupation.pk}
    here = _get(world.beta_ann)
    assert (here.occupation, here.employer) == ("Doctor", "Clinic")

    drain_until_idle()
    there = _get(world.alpha_ann)
    assert there.occupation == "Doctor"
    assert here.field_versions["occupation"] == there.field_versions["occupation"]
    # Nothing bounced back to alpha as a new proposal.
    assert [i.pk for i in _pending(world.alpha_ann.nation)] == [world.alpha_item.pk]


def test_skip_selected_keeps_the_value_here(world, beta):
    response = beta.post(
        "/reviews/skip/", {"ids": [world.occupation.pk, world.employer.pk]}, follow=True
    )
    assert "Skipped 2 changes; the values here stay as they are." in _messages(response)
    drain_until_idle()
    here = _get(world.beta_ann)
    assert (here.occupation, here.employer) == ("Nurse", "Clinic")
    assert _get(world.alpha_ann).occupation == "Doctor"  # alpha keeps its own
    world.occupation.refresh_from_db()
    assert world.occupation.status == ReviewStatus.SKIPPED
    assert _ids_on(_text(response)) == {world.bob_occupation.pk}


def test_a_profile_box_decides_the_changes_the_page_showed_of_that_profile(world, beta):
    """Without JavaScript the profile's "select all" box is read by the server; a proposal that
    arrived after the page was drawn is not decided unseen."""
    shown = _shown_on(_text(beta.get("/reviews/")))
    _write(world.alpha_ann, last_name="Ashby")  # a new proposal for beta's Ann, not on the page
    later = _item(world.beta_ann.nation, world.beta_ann, "last_name")

    response = beta.post(
        "/reviews/apply/", {"profiles": [world.beta_ann.pk], "shown": shown}, follow=True
    )
    assert "Applied 2 changes." in _messages(response)
    here = _get(world.beta_ann)
    assert (here.occupation, here.employer, here.last_name) == ("Doctor", "Hospital", "Archer")
    later.refresh_from_db()
    assert later.status == ReviewStatus.PENDING
    assert _get(world.beta_bob).occupation == "Baker"  # another profile, not ticked


def test_the_page_box_decides_everything_the_page_showed(world, beta):
    shown = _shown_on(_text(beta.get("/reviews/")))
    response = beta.post("/reviews/skip/", {"all": "1", "shown": shown}, follow=True)
    assert "Skipped 3 changes; the values here stay as they are." in _messages(response)
    assert _pending(world.beta_ann.nation) == []
    assert "Nothing to review" in _text(response)


def test_another_nations_item_is_404_and_nothing_changes(world, beta):
    own, theirs = world.occupation.pk, world.alpha_item.pk
    for route in ("/reviews/apply/", "/reviews/skip/"):
        for data in (
            {"ids": [own, theirs]},
            {"ids": [theirs]},
            {"all": "1", "shown": f"{own},{theirs}"},
            {"profiles": [world.alpha_ann.pk], "shown": f"{own}"},
            {"ids": ["abc"]},
        ):
            response = beta.post(route, data)
            assert response.status_code == 404, (route, data)
    assert {i.pk for i in _pending(world.alpha_ann.nation)} == {theirs}
    assert len(_pending(world.beta_ann.nation)) == 3
    assert _get(world.alpha_ann).first_name == "Ann"
    assert _get(world.beta_ann).occupation == "Nurse"


@pytest.mark.parametrize("data", [{"ids": ["²"]}, {"shown": "²", "all": "1"}], ids=["ids", "all"])
@pytest.mark.parametrize("route", ["/reviews/apply/", "/reviews/skip/"])
def test_an_id_written_with_other_digits_is_not_found(admin, route, data):
    # "²" passes isdigit() but not int(): it was a 500.
    assert _client(admin).post(route, data).status_code == 404


def test_deciding_again_says_the_changes_were_already_decided(world, beta):
    beta.post("/reviews/skip/", {"ids": [world.occupation.pk]}, follow=True)
    response = beta.post("/reviews/apply/", {"ids": [world.occupation.pk]}, follow=True)
    [message] = list(response.context["messages"])
    assert message.level_tag == "error"
    assert "1 change was already decided" in str(message)
    assert _get(world.beta_ann).occupation == "Nurse"

    # Mixed with one still waiting: that one is applied, the other is named.
    response = beta.post(
        "/reviews/apply/", {"ids": [world.occupation.pk, world.employer.pk]}, follow=True
    )
    assert _messages(response)[0] == "Applied 1 change."
    assert "1 change was already decided" in _messages(response)[1]
    assert _get(world.beta_ann).employer == "Hospital"


def test_a_change_older_than_a_local_edit_is_not_applied(world, beta):
    # Beta edits the field after the proposal came; before the engine drops the proposal.
    person_update(
        nation=world.beta_ann.nation,
        actor=Actor.system(),
        person=_get(world.beta_ann),
        changes={"occupation": "Midwife"},
    )
    response = beta.post("/reviews/apply/", {"ids": [world.occupation.pk]}, follow=True)
    [message] = list(response.context["messages"])
    assert message.level_tag == "warning"
    assert "1 change was not applied" in str(message) and "edited" in str(message)
    assert _get(world.beta_ann).occupation == "Midwife"


def test_nothing_selected_is_said_plainly(world, beta):
    response = beta.post(
        "/reviews/apply/", {"shown": _shown_on(_text(beta.get("/reviews/")))}, follow=True
    )
    assert "Nothing was selected" in _messages(response)[0]
    assert len(_pending(world.beta_ann.nation)) == 3


def test_csrf_is_enforced_on_review_posts(world, other_admin):
    client = _client(other_admin, enforce_csrf_checks=True)
    for route in ("/reviews/apply/", "/reviews/skip/"):
        response = client.post(route, {"ids": [world.occupation.pk]})
        assert response.status_code == 403, route
        assert "This form has expired" in _text(response)
    world.occupation.refresh_from_db()
    assert world.occupation.status == ReviewStatus.PENDING
    # With the token from the page, the same POST goes through.
    token = client.get("/reviews/").cookies["csrftoken"].value
    response = client.post(
        "/reviews/apply/", {"ids": [world.occupation.pk], "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert _get(world.beta_ann).occupation == "Doctor"


def test_get_is_not_a_decision(world, beta):
    assert beta.get(f"/reviews/apply/?ids={world.occupation.pk}").status_code == 405
    assert _get(world.beta_ann).occupation == "Nurse"
