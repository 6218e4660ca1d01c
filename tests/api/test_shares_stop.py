"""Stopping a share, editing it and asking again, through the API (SPEC §5.1, §7)."""

from __future__ import annotations

from typing import Any

import pytest

from tagshare.people.models import Person
from tagshare.people.selectors import person_tags
from tagshare.sharing.models import LinkState, Notification, ShareLink, TagShare
from tests.api.conftest import assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def running(other_nation, make_person, tagged, share_climate, receiver_api) -> dict[str, Any]:
    """An approved data share: two pairs linked and synced, the shared tag on both."""
    here = [
        make_person(other_nation, email1="ann@x.org"),
        make_person(other_nation, email1="bob@x.org", occupation="Baker"),
    ]
    there = [tagged(email1="ann@x.org", employer="Hospital"), tagged(email1="bob@x.org")]
    share = share_climate(sync_data=True)
    response = receiver_api.post(f"/shares/{share['id']}/accept", {"sync_option": "accept_all"})
    assert response.json()["counts"]["synced"] == 2
    assert all(person_tags(p) == ["alpha:climate"] for p in here)
    return {"id": share["id"], "here": here, "there": there}


def _fresh(person: Person) -> Person:
    return Person.objects.get(pk=person.pk)


def _assert_stopped_cleanly(running: dict[str, Any], body: dict[str, Any], side: str) -> None:
    assert (body["status"], body["stopped_side"]) == ("stopped", side)
    assert body["stopped_at"] and body["taggings_count"] == 0
    assert body["counts"] == {
        "matched": 0,
        "synced": 0,
        "not_found": 0,
        "ambiguous": 0,
        "unreviewed": 0,
    }
    # The shared tag leaves every receiving profile; the sender keeps its own tag.
    assert [person_tags(_fresh(p)) for p in running["here"]] == [[], []]
    assert [person_tags(_fresh(p)) for p in running["there"]] == [["climate"], ["climate"]]
    # Links end; data already synced stays on both sides.
    assert set(ShareLink.objects.values_list("state", flat=True)) == {LinkState.ENDED}
    assert _fresh(running["here"][0]).employer == "Hospital"
    assert _fresh(running["there"][1]).occupation == "Baker"
    assert Person.objects.count() == 4


def test_stop_by_receiver(running, receiver_api, admin_api):
    response = receiver_api.post(f"/shares/{running['id']}/stop")
    assert response.status_code == 200, response.content
    _assert_stopped_cleanly(running, response.json(), "receiver")
    links = admin_api.get(f"/shares/{running['id']}/links", {"state": "ended"}).json()["results"]
    assert len(links) == 2
    assert admin_api.get("/notifications").json()["results"][0]["kind"] == "share.stopped"


def test_stop_by_sender(running, admin_api, receiver_api):
    response = admin_api.post(f"/shares/{running['id']}/stop")
    assert response.status_code == 200, response.content
    _assert_stopped_cleanly(running, response.json(), "sender")
    [note, *_] = receiver_api.get("/notifications").json()["results"]
    assert note["kind"] == "share.stopped" and "alpha:climate" in note["message"]


def test_after_stop_the_receiver_may_use_its_profiles_freely(running, receiver_api):
    receiver_api.post(f"/shares/{running['id']}/stop")
    here = running["here"][0]
    response = receiver_api.patch(f"/people/{here.pk}", {"employer": "Clinic"})
    assert response.status_code == 200
    assert _fresh(running["there"][0]).employer == "Hospital"  # nothing flows any more


def test_a_stopped_share_cannot_be_stopped_again(receiver_api, admin_api, running):
    assert admin_api.post(f"/shares/{running['id']}/stop").status_code == 200
    assert_error(admin_api.post(f"/shares/{running['id']}/stop"), 409, "stopped")
    assert_error(receiver_api.post(f"/shares/{running['id']}/stop"), 409, "stopped")


def test_a_pending_share_cannot_be_stopped(share_climate, admin_api, receiver_api):
    share = share_climate()
    assert_error(admin_api.post(f"/shares/{share['id']}/stop"), 409, "pending")
    assert_error(receiver_api.post(f"/shares/{share['id']}/stop"), 409, "pending")


def test_staff_cannot_stop(running, staff_api, other_nation, make_user, api_as):
    assert_error(staff_api.post(f"/shares/{running['id']}/stop"), 403, "admin")
    receiver_staff = api_as(make_user(other_nation, "staff"))
    assert_error(receiver_staff.post(f"/shares/{running['id']}/stop"), 403, "admin")
    assert TagShare.objects.get().status == "approved"


# --- edit and re-request ----------------------------------------------------------------------


def test_settings_cannot_change_while_approved_or_pending(running, admin_api, share_climate):
    assert_error(
        admin_api.patch(f"/shares/{running['id']}", {"optional_fields": ["party"]}),
        409,
        "only while it is stopped",
    )
    assert_error(admin_api.post(f"/shares/{running['id']}/request", {}), 409, "stopped")
    assert TagShare.objects.get(pk=running["id"]).optional_fields == []


def test_patch_while_stopped_changes_settings_only(running, admin_api, receiver_api):
    admin_api.post(f"/shares/{running['id']}/stop")
    notes = Notification.objects.count()
    response = admin_api.patch(
        f"/shares/{running['id']}", {"optional_fields": ["party"], "create_profiles": True}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["optional_fields"], body["create_profiles"]) == (
        "stopped",
        ["party"],
        True,
    )
    assert Notification.objects.count() == notes  # nothing asked of the receiver yet
    assert_error(admin_api.patch(f"/shares/{running['id']}", {"status": "pending"}), 422, "status")
    assert_error(
        admin_api.patch(f"/shares/{running['id']}", {"optional_fields": ["email1"]}), 422, "email1"
    )
    assert_error(receiver_api.patch(f"/shares/{running['id']}", {}), 403, "sending nation")


def test_edit_and_re_request_in_one_action(running, admin_api, receiver_api):
    admin_api.post(f"/shares/{running['id']}/stop")
    response = admin_api.post(
        f"/shares/{running['id']}/request", {"optional_fields": ["party", "van_id"]}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["optional_fields"], body["sync_data"]) == (
        "pending",
        ["party", "van_id"],
        True,
    )
    assert (body["sync_option"], body["decided_at"], body["stopped_at"]) == (None, None, None)
    [note, *_] = receiver_api.get("/notifications", {"unread": "true"}).json()["results"]
    assert (note["kind"], note["share"]) == ("share.requested", running["id"])
    assert "alpha:climate" in note["message"]
    assert receiver_api.get(f"/shares/{running['id']}").json()["optional_fields"] == [
        "party",
        "van_id",
    ]


def test_accepting_a_re_requested_share_links_again(running, admin_api, receiver_api):
    admin_api.post(f"/shares/{running['id']}/stop")
    assert admin_api.post(f"/shares/{running['id']}/request").status_code == 200
    response = receiver_api.post(f"/shares/{running['id']}/accept", {"sync_option": "blank_only"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["sync_option"], body["stopped_side"]) == (
        "approved",
        "blank_only",
        None,
    )
    assert body["counts"]["synced"] == 2 and body["taggings_count"] == 2
    assert [person_tags(_fresh(p)) for p in running["here"]] == [["alpha:climate"]] * 2
    assert ShareLink.objects.count() == 2


def test_re_request_with_bad_settings_changes_nothing(running, admin_api):
    admin_api.post(f"/shares/{running['id']}/stop")
    notes = Notification.objects.count()
    assert_error(
        admin_api.post(f"/shares/{running['id']}/request", {"optional_fields": ["nope"]}),
        422,
        "nope",
    )
    assert_error(admin_api.post(f"/shares/{running['id']}/request", {"sync": True}), 422, "sync")
    assert_error(admin_api.post(f"/shares/{running['id']}/request", raw="[1]"), 422, "object")
    share = TagShare.objects.get(pk=running["id"])
    assert (share.status, share.optional_fields) == ("stopped", [])
    assert Notification.objects.count() == notes


def test_only_the_sender_re_requests(running, admin_api, receiver_api):
    receiver_api.post(f"/shares/{running['id']}/stop")
    assert_error(receiver_api.post(f"/shares/{running['id']}/request"), 403, "sending nation")
    assert TagShare.objects.get().status == "stopped"


def test_re_request_when_a_newer_share_is_active_is_409(running, admin_api, share_climate):
    admin_api.post(f"/shares/{running['id']}/stop")
    share_climate()  # a new share of the same tag with the same nation
    assert_error(admin_api.post(f"/shares/{running['id']}/request"), 409, "active share")
    assert TagShare.objects.get(pk=running["id"]).status == "stopped"
