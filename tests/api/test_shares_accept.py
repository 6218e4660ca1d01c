"""Receiving a share through the API (SPEC §3, §5.2, §5.3, §5.4).

Notify, accept or reject, status and links, and the receiver's hands off the shared tag.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tagshare.people.models import Person
from tagshare.people.selectors import person_tags
from tagshare.sharing.models import LinkState, ShareLink, TagShare
from tests.api.conftest import assert_error

pytestmark = pytest.mark.django_db


def _accept(api, share, **body):
    return api.post(f"/shares/{share['id']}/accept", body)


def _notes(api, **params):
    response = api.get("/notifications", params)
    assert response.status_code == 200, response.content
    return response.json()["results"]


# --- notifications ----------------------------------------------------------------------------


def test_the_pending_notification_names_the_sender_and_the_slug_tag(receiver_api, share_climate):
    share = share_climate(sync_data=True)
    [note] = _notes(receiver_api)
    assert note["kind"] == "share.requested" and note["share"] == share["id"]
    assert "Alpha Coalition" in note["message"] and "alpha:climate" in note["message"]
    assert note["read_at"] is None


def test_notifications_are_newest_first_filter_unread_and_are_marked_read(
    admin_api, receiver_api, share_climate, make_nation
):
    make_nation("gamma")
    first = share_climate()
    assert _accept(receiver_api, first).status_code == 200
    second = share_climate(nations="gamma")
    assert second["receiver"] == "gamma"
    notes = _notes(receiver_api)
    assert [n["kind"] for n in notes] == ["share.requested"]
    older = _notes(admin_api)
    assert [n["kind"] for n in older] == ["share.accepted"]

    response = receiver_api.post("/notifications/read", {"ids": [notes[0]["id"], older[0]["id"]]})
    assert response.json() == {"marked": 1}  # alpha's notification is not beta's to mark
    assert _notes(receiver_api, unread="true") == []
    assert _notes(admin_api, unread="true") != []
    assert admin_api.post("/notifications/read", {}).json() == {"marked": 1}
    assert _notes(admin_api, unread="true") == []


def test_notifications_page_newest_first(receiver_api, share_climate, nation):
    from tagshare.sharing.notifications import notify

    share_climate()
    for i in range(3):
        notify(nation=TagShare.objects.get().receiver, share=None, kind="test", message=f"n{i}")
    first = receiver_api.get("/notifications", {"limit": 2}).json()
    assert [n["message"] for n in first["results"]] == ["n2", "n1"]
    second = receiver_api.get(first["next"]).json()
    assert [n["kind"] for n in second["results"]] == ["test", "share.requested"]
    assert second["results"][0]["message"] == "n0"
    assert second["next"] is None


def test_notifications_are_for_admins_staff_get_403(staff_api):
    assert_error(staff_api.get("/notifications"), 403, "admin")
    assert_error(staff_api.post("/notifications/read", {}), 403, "admin")


def test_marking_notifications_read_with_bad_ids_is_422(receiver_api):
    assert (
        "ids.0"
        in assert_error(receiver_api.post("/notifications/read", {"ids": ["x"]}), 422)["errors"]
    )
    assert_error(receiver_api.post("/notifications/read", {"ids": [0]}), 422)
    assert_error(receiver_api.post("/notifications/read", {"id": [1]}), 422, "id")


def test_accepting_rejecting_and_stopping_notify_the_sender(
    admin_api, receiver_api, share_climate, make_nation, make_user, api_as
):
    gamma_api = api_as(make_user(make_nation("gamma", name="Gamma League"), "admin"))
    accepted = share_climate()
    rejected = share_climate(nations="gamma")
    assert _accept(receiver_api, accepted).status_code == 200
    assert gamma_api.post(f"/shares/{rejected['id']}/reject").status_code == 200
    assert receiver_api.post(f"/shares/{accepted['id']}/stop").status_code == 200
    notes = _notes(admin_api)
    assert [(n["kind"], n["share"]) for n in notes] == [
        ("share.stopped", accepted["id"]),
        ("share.rejected", rejected["id"]),
        ("share.accepted", accepted["id"]),
    ]
    assert "Beta Union" in notes[0]["message"] and "alpha:climate" in notes[0]["message"]
    assert "Gamma League" in notes[1]["message"]


# --- accept and reject ------------------------------------------------------------------------


def test_accept_without_a_required_sync_option_is_refused_and_the_share_stays_pending(
    receiver_api, share_climate, tagged
):
    tagged(email1="ann@x.org")
    share = share_climate(sync_data=True)
    body = assert_error(_accept(receiver_api, share), 422, "accept_all", "blank_only", "review")
    assert body["errors"] == {"sync_option": "required"}
    after = receiver_api.get(f"/shares/{share['id']}").json()
    assert after["status"] == "pending" and after["job"] is None
    assert not ShareLink.objects.exists()


def test_accept_with_an_unknown_sync_option_is_422(receiver_api, share_climate):
    share = share_climate(sync_data=True)
    assert (
        "sync_option"
        in assert_error(_accept(receiver_api, share, sync_option="all"), 422)["errors"]
    )


def test_a_tag_only_share_takes_no_sync_option(receiver_api, share_climate):
    share = share_climate()
    assert_error(_accept(receiver_api, share, sync_option="accept_all"), 422, "sync_option")


def test_create_profiles_when_not_offered_is_422(receiver_api, share_climate):
    share = share_climate(sync_data=True)
    body = assert_error(
        _accept(receiver_api, share, sync_option="review", create_profiles=True), 422, "offer"
    )
    assert body["errors"] == {"create_profiles": "not offered"}
    assert receiver_api.get(f"/shares/{share['id']}").json()["status"] == "pending"


def test_the_sender_cannot_accept_its_own_share(admin_api, share_climate):
    share = share_climate()
    assert_error(_accept(admin_api, share), 403, "receiving nation")
    assert_error(admin_api.post(f"/shares/{share['id']}/reject"), 403, "receiving nation")


def test_receiver_staff_cannot_accept_or_reject(other_nation, make_user, api_as, share_climate):
    staff = api_as(make_user(other_nation, "staff"))
    share = share_climate()
    assert_error(_accept(staff, share), 403, "admin")
    assert_error(staff.post(f"/shares/{share['id']}/reject"), 403, "admin")
    assert staff.get(f"/shares/{share['id']}").json()["status"] == "pending"  # staff may look


def test_another_nation_gets_404_for_everything_about_the_share(third_api, share_climate):
    share = share_climate()
    sid = share["id"]
    for response in (
        third_api.get(f"/shares/{sid}"),
        third_api.get(f"/shares/{sid}/links"),
        _accept(third_api, share),
        third_api.post(f"/shares/{sid}/reject"),
        third_api.post(f"/shares/{sid}/stop"),
        third_api.post(f"/shares/{sid}/request"),
        third_api.patch(f"/shares/{sid}", {}),
    ):
        assert_error(response, 404, "not found")
    assert third_api.get("/shares").json()["results"] == []
    assert TagShare.objects.get().status == "pending"


def test_a_share_is_decided_once(receiver_api, share_climate):
    share = share_climate()
    assert _accept(receiver_api, share).status_code == 200
    assert_error(_accept(receiver_api, share), 409, "approved")
    assert_error(receiver_api.post(f"/shares/{share['id']}/reject"), 409, "approved")


def test_reject_leaves_no_tag_and_no_links(receiver_api, share_climate, tagged):
    tagged(email1="ann@x.org")
    share = share_climate()
    response = receiver_api.post(f"/shares/{share['id']}/reject")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["decided_at"] is not None) == (
        "denied",
        True,
    )
    assert not ShareLink.objects.exists()
    assert receiver_api.get("/tags").json()["results"] == []


# --- after accepting: status and links --------------------------------------------------------


@pytest.fixture
def accepted(other_nation, make_person, tagged, share_climate, receiver_api) -> dict[str, Any]:
    """A share whose initial sync meets one pair to sync, one not found and one ambiguous."""
    here = make_person(other_nation, email1="ann@x.org", occupation="Nurse")
    twin_a = make_person(other_nation, first_name="Sam", last_name="Lee", birthdate="1990-01-01")
    twin_b = make_person(other_nation, first_name="Sam", last_name="Lee", birthdate="1990-01-01")
    ann = tagged(email1="ANN@x.org", employer="Hospital")
    nobody = tagged(email1="nobody@x.org")
    sam = tagged(first_name="Sam", last_name="Lee", birthdate="1990-01-01", occupation="Chef")
    share = share_climate(sync_data=True, optional_fields=["party"])
    response = _accept(receiver_api, share, sync_option="accept_all")
    assert response.status_code == 200, response.content
    return {
        "share": response.json(),
        "here": here,
        "twins": sorted([twin_a.pk, twin_b.pk]),
        "ann": ann,
        "nobody": nobody,
        "sam": sam,
    }


def test_after_accept_the_counts_show_the_initial_sync(accepted, admin_api, receiver_api):
    share = accepted["share"]
    assert share["status"] == "approved"
    assert (share["sync_option"], share["accepted_create_profiles"], share["as_prospects"]) == (
        "accept_all",
        False,
        True,
    )
    counts = {"matched": 0, "synced": 1, "not_found": 1, "ambiguous": 1, "unreviewed": 0}
    assert share["counts"] == counts and share["taggings_count"] == 1
    assert share["job"]["status"] == "done" and share["decided_at"]
    sender_view = admin_api.get(f"/shares/{share['id']}").json()
    assert sender_view["counts"] == counts and sender_view["direction"] == "outgoing"
    assert sender_view["taggings_count"] == 1
    assert share["direction"] == "incoming"


def test_after_accept_the_links_list_each_pair_with_both_person_ids(accepted, receiver_api):
    url = f"/shares/{accepted['share']['id']}/links"
    rows = {row["sender_person_id"]: row for row in receiver_api.get(url).json()["results"]}
    assert rows[accepted["ann"].pk] == {
        "sender_person_id": accepted["ann"].pk,
        "receiver_person_id": accepted["here"].pk,
        "state": "synced",
        "rule": "email",
        "reason": "",
        "candidates": [],
    }
    assert rows[accepted["nobody"].pk]["state"] == "not_found"
    assert rows[accepted["nobody"].pk]["receiver_person_id"] is None
    sam = rows[accepted["sam"].pk]
    assert (sam["state"], sam["receiver_person_id"]) == ("ambiguous", None)
    assert sorted(sam["candidates"]) == accepted["twins"] and sam["reason"]


def test_links_filter_by_state_and_page(accepted, admin_api):
    url = f"/shares/{accepted['share']['id']}/links"
    [row] = admin_api.get(url, {"state": "ambiguous"}).json()["results"]
    assert row["sender_person_id"] == accepted["sam"].pk
    page = admin_api.get(url, {"limit": 2}).json()
    assert len(page["results"]) == 2 and page["next"]
    rest = admin_api.get(page["next"]).json()
    assert len(rest["results"]) == 1 and rest["next"] is None
    assert_error(admin_api.get(url, {"state": "lost"}), 422, "state")


def test_after_accept_the_pair_is_synced_and_tagged(accepted):
    here = Person.objects.get(pk=accepted["here"].pk)
    assert here.employer == "Hospital"
    assert Person.objects.get(pk=accepted["ann"].pk).occupation == "Nurse"
    assert person_tags(here) == ["alpha:climate"]
    for twin in accepted["twins"]:
        assert person_tags(Person.objects.get(pk=twin)) == []


def test_unreviewed_counts_the_viewing_nations_own_queue(
    other_nation, make_person, tagged, share_climate, receiver_api, admin_api
):
    make_person(other_nation, email1="a@x.org", occupation="Nurse", employer="Clinic")
    tagged(email1="a@x.org", occupation="Doctor")
    share = share_climate(sync_data=True)
    response = _accept(receiver_api, share, sync_option="review")
    # One conflict queues an item on each side; each side counts only its own (not 2).
    assert response.json()["counts"]["unreviewed"] == 1
    assert response.json()["counts"]["synced"] == 1
    assert admin_api.get(f"/shares/{share['id']}").json()["counts"]["unreviewed"] == 1


def test_accept_with_create_profiles_makes_prospects(
    other_nation, tagged, share_climate, receiver_api
):
    tagged(email1="new@x.org", first_name="Nia")
    share = share_climate(sync_data=True, create_profiles=True)
    response = _accept(
        receiver_api, share, sync_option="blank_only", create_profiles=True, as_prospects=True
    )
    body = response.json()
    assert (body["accepted_create_profiles"], body["as_prospects"]) == (True, True)
    assert body["counts"]["synced"] == 1 and body["taggings_count"] == 1
    created = Person.objects.get(nation=other_nation)
    assert (created.first_name, created.is_prospect) == ("Nia", True)
    assert ShareLink.objects.get().rule == "created"


def test_list_shares_by_direction_and_status(admin_api, receiver_api, share_climate, make_nation):
    make_nation("gamma")
    to_beta = share_climate()
    to_gamma = share_climate(nations="gamma")
    assert _accept(receiver_api, to_beta).status_code == 200

    def ids(api, **params):
        response = api.get("/shares", params)
        assert response.status_code == 200, response.content
        return [s["id"] for s in response.json()["results"]]

    assert ids(admin_api) == [to_beta["id"], to_gamma["id"]]
    assert ids(admin_api, direction="outgoing", status="pending") == [to_gamma["id"]]
    assert ids(admin_api, direction="incoming") == []
    assert ids(receiver_api) == ids(receiver_api, direction="incoming") == [to_beta["id"]]
    assert ids(receiver_api, status="pending") == []
    page = admin_api.get("/shares", {"limit": 1}).json()
    assert [s["id"] for s in page["results"]] == [to_beta["id"]]
    assert [s["id"] for s in admin_api.get(page["next"]).json()["results"]] == [to_gamma["id"]]
    assert_error(admin_api.get("/shares", {"direction": "sideways"}), 422, "direction")
    assert_error(admin_api.get("/shares", {"status": "lost"}), 422, "status")


def test_an_unknown_share_id_is_404(admin_api):
    assert_error(admin_api.get("/shares/999999"), 404, "not found")
    assert_error(admin_api.get(f"/shares/{2**70}"), 404, "not found")


# --- the shared tag belongs to the sender (SPEC §3) -------------------------------------------


@pytest.fixture
def shared_profile(other_nation, make_person, tagged, share_climate, receiver_api) -> Person:
    here = make_person(other_nation, email1="ann@x.org")
    tagged(email1="ann@x.org")
    share = share_climate()
    assert _accept(receiver_api, share).status_code == 200
    assert person_tags(here) == ["alpha:climate"]
    return here


@pytest.fixture
def receiver_staff_api(other_nation, make_user, api_as):
    return api_as(make_user(other_nation, "staff"))


@pytest.mark.parametrize("who", ["receiver_api", "receiver_staff_api"])
def test_receiver_cannot_touch_the_shared_tag(
    request, who, other_nation, make_person, shared_profile
):
    api = request.getfixturevalue(who)
    other = make_person(other_nation, email1="bob@x.org")
    body = assert_error(
        api.put(f"/people/{other.pk}/taggings", {"tags": ["alpha:climate"]}), 409, "alpha"
    )
    assert "owns it" in body["detail"]
    assert_error(
        api.delete(f"/people/{shared_profile.pk}/taggings/{quote('alpha:climate')}"), 409, "owns"
    )
    assert person_tags(shared_profile) == ["alpha:climate"]
    assert person_tags(other) == []


def test_an_import_cannot_add_the_shared_tag(receiver_api, shared_profile, settings, tmp_path):
    settings.DATA_DIR = tmp_path

    def upload(content: str, **fields: Any) -> Any:
        file = SimpleUploadedFile("p.csv", content.encode(), content_type="text/csv")
        return receiver_api.post_form("/imports", {"file": file, **fields})

    assert_error(upload("email\nbob@x.org\n", tags="alpha:climate"), 422, "alpha:climate")
    job = upload("email,tag_list\nbob@x.org,alpha:climate\n").json()
    assert job["counts"]["rejected"] == 1 and "alpha:climate" in job["errors"][0]["message"]
    assert ShareLink.objects.get().state == LinkState.SYNCED
    assert not Person.objects.filter(email1="bob@x.org").exists()


def test_a_renamed_sender_tag_renames_the_shared_tag(nation, shared_profile, receiver_api):
    from tagshare.nations.actors import Actor
    from tagshare.tags.models import Tag
    from tagshare.tags.services import tag_rename

    tag = Tag.objects.get(nation=nation, name="climate")
    tag_rename(nation=nation, actor=Actor.system(), tag=tag, new_name="climate action")
    [share] = receiver_api.get("/shares").json()["results"]
    assert (share["tag"], share["shared_tag"]) == ("climate action", "alpha:climate action")
    tags = receiver_api.get(f"/people/{shared_profile.pk}/taggings").json()["results"]
    assert tags == [{"tag": "alpha:climate action"}]


def test_a_tag_only_share_is_accepted_with_no_body(receiver_api, share_climate):
    share = share_climate()
    response = receiver_api.post(f"/shares/{share['id']}/accept")  # an empty body
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["sync_option"]) == ("approved", None)


def test_listing_shares_costs_the_same_queries_for_one_or_many(
    admin_api, receiver_api, share_climate, make_nation, tagged
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    tagged(email1="ann@x.org")
    first = share_climate(sync_data=True)
    receiver_api.post(f"/shares/{first['id']}/accept", {"sync_option": "review"})

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_api.get("/shares").status_code == 200
        return len(captured)

    one = queries()
    for slug in ("gamma", "delta", "omega"):
        make_nation(slug)
        share_climate(nations=slug)
    assert len(admin_api.get("/shares").json()["results"]) == 4
    assert queries() == one
