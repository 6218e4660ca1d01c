"""The review queue and on-demand reconciliation through the API (SPEC §6.2, §7, §9.1).

Alpha sends its tag `climate` to beta with sync option `review`; alpha's profile is written over
the API and the sync engine runs in-process (drain_until_idle), so beta gets proposals to decide.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tagshare.outbox.drain import drain_until_idle
from tests.api.conftest import ApiClient, assert_error

pytestmark = pytest.mark.django_db


@dataclass
class World:
    share: int
    here: int  # beta's profile: the one beta decides about
    there: int  # alpha's linked profile


@pytest.fixture
def reviewed(other_nation, make_person, tagged, share_climate, receiver_api) -> World:
    """An approved review share; beta's profile says Nurse and works at a Clinic, alpha's is
    blank there (the initial sync fills it from beta's). The queue starts empty."""
    here = make_person(other_nation, email1="ann@x.org", occupation="Nurse", employer="Clinic")
    there = tagged(email1="ann@x.org")
    share = share_climate(sync_data=True)
    response = receiver_api.post(f"/shares/{share['id']}/accept", {"sync_option": "review"})
    assert response.status_code == 200, response.content
    assert response.json()["counts"]["synced"] == 1
    drain_until_idle()
    # The engine currently proposes the equal email1 of the two profiles (same value, newer
    # version); skip whatever the initial sync queued so each test starts from an empty queue.
    receiver_api.post("/reviews/skip", {"person_ids": [here.pk]})
    assert _pending(receiver_api) == []
    return World(share=share["id"], here=here.pk, there=there.pk)


@pytest.fixture
def receiver_staff_api(other_nation, make_user, api_as) -> ApiClient:
    return api_as(make_user(other_nation, "staff"))


def _write(api: ApiClient, person_id: int, **changes: Any) -> None:
    """An API write on one side, then the sync engine runs until nothing is left."""
    response = api.patch(f"/people/{person_id}", changes)
    assert response.status_code == 200, response.content
    drain_until_idle()


def _pending(api: ApiClient, **params: Any) -> list[dict[str, Any]]:
    response = api.get("/reviews", params)
    assert response.status_code == 200, response.content
    return list(response.json()["results"])


def _person(api: ApiClient, person_id: int) -> dict[str, Any]:
    response = api.get(f"/people/{person_id}")
    assert response.status_code == 200, response.content
    return dict(response.json())


def _version(api: ApiClient, person_id: int, field: str) -> list[int]:
    """The version of the profile's latest write of `field`, from its history."""
    response = api.get(f"/people/{person_id}/history", {"field": field})
    assert response.status_code == 200, response.content
    return list(response.json()["results"][0]["version"])


# --- listing ----------------------------------------------------------------------------------


def test_the_receiver_lists_the_proposal_with_both_values(reviewed, admin_api, receiver_api):
    _write(admin_api, reviewed.there, occupation="Doctor")

    [item] = _pending(receiver_api)
    assert {k: item[k] for k in ("share", "person_id", "field", "status", "proposed_by")} == {
        "share": reviewed.share,
        "person_id": reviewed.here,
        "field": "occupation",
        "status": "pending",
        "proposed_by": "alpha",
    }
    assert (item["current_value"], item["proposed_value"]) == ("Nurse", "Doctor")
    assert item["proposed_version"] == _version(admin_api, reviewed.there, "occupation")
    assert item["created_at"]
    # Nothing changed yet, and the sender has no queue: each nation decides about its own data.
    assert _person(receiver_api, reviewed.here)["occupation"] == "Nurse"
    assert _pending(admin_api) == []
    share = receiver_api.get(f"/shares/{reviewed.share}").json()
    assert share["counts"]["unreviewed"] == 1


def test_the_list_filters_by_share_and_person(
    reviewed, admin_api, receiver_api, other_nation, make_person
):
    _write(admin_api, reviewed.there, occupation="Doctor")
    assert len(_pending(receiver_api, share=reviewed.share)) == 1
    assert len(_pending(receiver_api, person=reviewed.here)) == 1
    someone_else = make_person(other_nation, email1="zed@x.org")
    assert _pending(receiver_api, person=someone_else.pk) == []


def test_a_local_write_after_the_proposal_wins_over_it(reviewed, admin_api, receiver_api):
    _write(admin_api, reviewed.there, occupation="Doctor")
    [item] = _pending(receiver_api)
    _write(receiver_api, reviewed.here, occupation="Midwife")  # newer than the proposal
    # Listed, it shows what applying would replace: the profile's value now, not the old one.
    listed = {i["id"]: i["current_value"] for i in _pending(receiver_api)}
    assert listed.get(item["id"], "Midwife") == "Midwife"
    assert receiver_api.post("/reviews/apply", {"ids": [item["id"]]}).json()["applied"] == 0
    assert _person(receiver_api, reviewed.here)["occupation"] == "Midwife"


def test_the_list_pages_by_profile_then_field(
    reviewed, admin_api, receiver_api, other_nation, make_person, tagged
):
    second_here = make_person(other_nation, email1="bob@x.org", occupation="Baker")
    second_there = tagged(email1="bob@x.org")
    drain_until_idle()  # the sender's new tagging links the second pair
    assert receiver_api.get(f"/shares/{reviewed.share}").json()["counts"]["synced"] == 2, (
        "the second pair should be linked by the tagging event"
    )
    _write(admin_api, reviewed.there, occupation="Doctor", employer="Hospital")
    _write(admin_api, second_there.pk, occupation="Chef")

    first = receiver_api.get("/reviews", {"limit": 2}).json()
    second = receiver_api.get(first["next"]).json()
    seen = [(i["person_id"], i["field"]) for i in first["results"] + second["results"]]
    assert seen == [
        (reviewed.here, "employer"),
        (reviewed.here, "occupation"),
        (second_here.pk, "occupation"),
    ]
    assert second["next"] is None


def test_a_newer_proposal_replaces_the_older_pending_one(reviewed, admin_api, receiver_api):
    _write(admin_api, reviewed.there, occupation="Doctor")
    [older] = _pending(receiver_api)
    _write(admin_api, reviewed.there, occupation="Surgeon")

    [newer] = _pending(receiver_api)
    assert (newer["proposed_value"], newer["current_value"]) == ("Surgeon", "Nurse")
    assert newer["proposed_version"] > older["proposed_version"]
    # The replaced proposal is no longer pending: applying it does nothing.
    assert receiver_api.post("/reviews/apply", {"ids": [older["id"]]}).json() == {
        "applied": 0,
        "stale": 0,
    }
    assert _person(receiver_api, reviewed.here)["occupation"] == "Nurse"


# --- deciding ---------------------------------------------------------------------------------


def test_apply_by_id_writes_the_proposed_value_so_both_nations_agree(
    reviewed, admin_api, receiver_api
):
    _write(admin_api, reviewed.there, occupation="Doctor")
    [item] = _pending(receiver_api)

    response = receiver_api.post("/reviews/apply", {"ids": [item["id"]]})
    assert response.status_code == 200, response.content
    assert response.json() == {"applied": 1, "stale": 0}
    drain_until_idle()

    assert _person(receiver_api, reviewed.here)["occupation"] == "Doctor"
    assert _person(admin_api, reviewed.there)["occupation"] == "Doctor"
    assert _version(receiver_api, reviewed.here, "occupation") == item["proposed_version"]
    assert _version(admin_api, reviewed.there, "occupation") == item["proposed_version"]
    # Decided, and nothing bounced back as a proposal to either nation.
    assert _pending(receiver_api) == [] and _pending(admin_api) == []
    # The value beta had is kept in its history.
    history = receiver_api.get(f"/people/{reviewed.here}/history", {"field": "occupation"})
    assert history.json()["results"][0]["old"] == "Nurse"


def test_apply_selected_items_leaves_the_others_pending(reviewed, admin_api, receiver_api):
    _write(admin_api, reviewed.there, occupation="Doctor", employer="Hospital")
    items = {i["field"]: i for i in _pending(receiver_api)}
    assert set(items) == {"occupation", "employer"}

    response = receiver_api.post("/reviews/apply", {"ids": [items["employer"]["id"]]})
    assert response.json() == {"applied": 1, "stale": 0}
    person = _person(receiver_api, reviewed.here)
    assert (person["employer"], person["occupation"]) == ("Hospital", "Nurse")
    assert [i["field"] for i in _pending(receiver_api)] == ["occupation"]


def test_skip_whole_profiles_keeps_the_nations_own_values(reviewed, admin_api, receiver_api):
    _write(admin_api, reviewed.there, occupation="Doctor", employer="Hospital")
    assert len(_pending(receiver_api)) == 2

    response = receiver_api.post("/reviews/skip", {"person_ids": [reviewed.here]})
    assert response.status_code == 200, response.content
    assert response.json() == {"skipped": 2}
    drain_until_idle()

    person = _person(receiver_api, reviewed.here)
    assert (person["occupation"], person["employer"]) == ("Nurse", "Clinic")
    assert _person(admin_api, reviewed.there)["occupation"] == "Doctor"  # alpha keeps its own
    assert _pending(receiver_api) == []
    assert receiver_api.get(f"/shares/{reviewed.share}").json()["counts"]["unreviewed"] == 0


def test_apply_whole_profiles_many_at_once(reviewed, admin_api, receiver_api):
    _write(admin_api, reviewed.there, occupation="Doctor", employer="Hospital")
    response = receiver_api.post("/reviews/apply", {"person_ids": [reviewed.here]})
    assert response.json() == {"applied": 2, "stale": 0}
    person = _person(receiver_api, reviewed.here)
    assert (person["occupation"], person["employer"]) == ("Doctor", "Hospital")


def test_the_sender_cannot_decide_about_the_receivers_profiles(reviewed, admin_api, receiver_api):
    _write(admin_api, reviewed.there, occupation="Doctor")
    [item] = _pending(receiver_api)

    assert admin_api.post("/reviews/apply", {"ids": [item["id"]]}).json() == {
        "applied": 0,
        "stale": 0,
    }
    assert admin_api.post("/reviews/apply", {"person_ids": [reviewed.here]}).json() == {
        "applied": 0,
        "stale": 0,
    }
    assert admin_api.post("/reviews/skip", {"ids": [item["id"]]}).json() == {"skipped": 0}
    assert _person(receiver_api, reviewed.here)["occupation"] == "Nurse"
    assert [i["id"] for i in _pending(receiver_api)] == [item["id"]]


def test_staff_cannot_review(reviewed, admin_api, receiver_api, receiver_staff_api):
    _write(admin_api, reviewed.there, occupation="Doctor")
    [item] = _pending(receiver_api)
    assert_error(receiver_staff_api.get("/reviews"), 403, "admin")
    assert_error(receiver_staff_api.post("/reviews/apply", {"ids": [item["id"]]}), 403, "admin")
    assert_error(receiver_staff_api.post("/reviews/skip", {"ids": [item["id"]]}), 403, "admin")
    assert [i["id"] for i in _pending(receiver_api)] == [item["id"]]
    assert _person(receiver_api, reviewed.here)["occupation"] == "Nurse"


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize("route", ["/reviews/apply", "/reviews/skip"])
@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({}, ["ids", "person_ids"]),
        ({"ids": []}, ["ids", "person_ids"]),
        ({"ids": [1], "person_ids": [1]}, ["not both"]),
        ({"ids": ["seven"]}, ["ids.0"]),
        ({"ids": [0]}, ["ids.0"]),
        ({"ids": 5}, ["ids"]),
        ({"id": [1]}, ["id"]),
        ({"person_ids": list(range(1, 1002))}, ["person_ids"]),
    ],
)
def test_a_decision_without_a_clear_selection_is_422(receiver_api, route, body, words):
    assert_error(receiver_api.post(route, body), 422, *words)


def test_a_share_or_person_of_another_nation_is_404(
    reviewed, third_api, receiver_api, make_nation, nation, make_person
):
    assert_error(third_api.get("/reviews", {"share": reviewed.share}), 404, "share")
    alphas = make_person(nation, email1="alpha-only@x.org")
    assert_error(receiver_api.get("/reviews", {"person": alphas.pk}), 404, "person")
    assert_error(receiver_api.get("/reviews", {"share": 2**70}), 404, "share")


def test_bad_list_parameters_are_4xx(receiver_api):
    assert_error(receiver_api.get("/reviews", {"share": "abc"}), 422, "share")
    assert_error(receiver_api.get("/reviews", {"cursor": "nope"}), 400, "cursor")
    assert_error(receiver_api.get("/reviews", {"limit": 0}), 422, "limit")


# --- reconcile --------------------------------------------------------------------------------


def test_reconcile_links_a_profile_that_was_not_found(
    reviewed, tagged, other_nation, make_person, receiver_api, admin_api
):
    tagged(email1="cy@x.org")
    drain_until_idle()
    before = admin_api.get(f"/shares/{reviewed.share}").json()
    assert before["counts"]["not_found"] == 1
    make_person(other_nation, email1="cy@x.org")  # beta now has them

    for api in (receiver_api, admin_api):  # either side's admins
        response = api.post(f"/shares/{reviewed.share}/reconcile")
        assert response.status_code == 200, response.content
        body = response.json()
        assert (body["id"], body["status"]) == (reviewed.share, "approved")
        assert (body["job"]["kind"], body["job"]["status"]) == ("reconcile", "done")
        assert body["counts"]["not_found"] == 0
        assert body["counts"]["matched"] + body["counts"]["synced"] == 2


def test_reconcile_of_a_share_not_approved_is_409(share_climate, admin_api, receiver_api):
    share = share_climate(sync_data=True)
    for api in (admin_api, receiver_api):
        assert_error(api.post(f"/shares/{share['id']}/reconcile"), 409, "pending", "approved")
    assert admin_api.get(f"/shares/{share['id']}").json()["job"] is None


def test_reconcile_by_a_third_nation_is_404_and_by_staff_403(
    reviewed, third_api, receiver_staff_api
):
    assert_error(third_api.post(f"/shares/{reviewed.share}/reconcile"), 404, "share")
    assert_error(receiver_staff_api.post(f"/shares/{reviewed.share}/reconcile"), 403, "admin")


def test_a_failed_reconciliation_answers_with_the_failed_job(reviewed, receiver_api, monkeypatch):
    from tagshare.sharing import reconcile

    def broken(share: Any) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(reconcile, "_repair_drift", broken)
    response = receiver_api.post(f"/shares/{reviewed.share}/reconcile")
    assert response.status_code == 200, response.content
    job = response.json()["job"]
    assert (job["kind"], job["status"]) == ("reconcile", "failed")
    assert "disk on fire" in job["detail"]
