"""Creating shares through the API (SPEC §5.1): who may share, every error, one share per nation."""

from __future__ import annotations

import pytest

from tagshare.nations.actors import Actor
from tagshare.people.catalog import ALWAYS_SYNCED
from tagshare.sharing.models import Notification, TagShare
from tagshare.tags.services import tag_get_or_create
from tests.api.conftest import assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def climate(nation):
    return tag_get_or_create(nation=nation, actor=Actor.system(), name="climate")


def _create(api, **body):
    return api.post("/shares", {"tag": "climate", "nations": "beta", **body})


def test_an_admin_shares_a_tag_and_gets_the_share_back(admin_api, other_nation, climate):
    response = _create(admin_api, sync_data=True, optional_fields=["support_level", "van_id"])
    assert response.status_code == 201
    [share] = response.json()["results"]
    assert {k: share[k] for k in ("tag", "shared_tag", "sender", "receiver", "status")} == {
        "tag": "climate",
        "shared_tag": "alpha:climate",
        "sender": "alpha",
        "receiver": "beta",
        "status": "pending",
    }
    assert (share["sync_data"], share["optional_fields"]) == (True, ["support_level", "van_id"])
    assert share["always_synced_count"] == len(ALWAYS_SYNCED) == 37
    assert (share["sync_option"], share["accepted_create_profiles"], share["as_prospects"]) == (
        None,
        None,
        None,
    )
    assert share["counts"] == {
        "matched": 0,
        "synced": 0,
        "not_found": 0,
        "ambiguous": 0,
        "unreviewed": 0,
    }
    assert share["direction"] == "outgoing" and share["job"] is None
    assert share["requested_at"] and share["decided_at"] is None
    assert TagShare.objects.get(pk=share["id"]).receiver_id == other_nation.pk


def test_who_may_share_staff_cannot(staff_api, climate):
    assert_error(_create(staff_api), 403, "admin")
    assert not TagShare.objects.exists()


@pytest.mark.parametrize("plan", ["organization", "enterprise", "network"])
def test_who_may_share_organization_enterprise_and_network_plans_can_create(
    plan, make_nation, make_user, api_as, other_nation
):
    sender = make_nation("sender", plan=plan)
    tag_get_or_create(nation=sender, actor=Actor.system(), name="climate")
    response = _create(api_as(make_user(sender, "admin")))
    assert response.status_code == 201, response.content
    assert response.json()["results"][0]["sender"] == "sender"


def test_who_may_share_a_leader_plan_cannot_create_but_can_accept(
    make_nation, make_user, api_as, share_climate
):
    leader = make_nation("lead", plan="leader")
    leader_api = api_as(make_user(leader, "admin"))
    tag_get_or_create(nation=leader, actor=Actor.system(), name="climate")
    assert_error(_create(leader_api, nations="alpha"), 403, "leader plan")
    assert not TagShare.objects.filter(sender=leader).exists()

    share = share_climate(nations="lead")
    response = leader_api.post(f"/shares/{share['id']}/accept", {})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "approved"


def test_create_error_unknown_slug_is_422_naming_it(admin_api, climate):
    body = assert_error(_create(admin_api, nations="nowhere"), 422, "nowhere")
    assert body["errors"] == {"nations": "nowhere"}


def test_create_error_own_slug_is_422(admin_api, climate):
    assert_error(_create(admin_api, nations="alpha"), 422, "own nation")


def test_create_error_a_pending_or_approved_share_with_the_nation_is_409(
    admin_api, receiver_api, climate
):
    [share] = _create(admin_api).json()["results"]
    assert_error(_create(admin_api), 409, "already shared with beta")
    assert receiver_api.post(f"/shares/{share['id']}/accept", {}).status_code == 200
    assert_error(_create(admin_api), 409, "already shared with beta")
    assert TagShare.objects.count() == 1


def test_a_rejected_share_can_be_asked_for_anew(admin_api, receiver_api, climate):
    [share] = _create(admin_api).json()["results"]
    assert receiver_api.post(f"/shares/{share['id']}/reject").status_code == 200
    assert _create(admin_api).status_code == 201


def test_create_error_a_tag_shared_in_by_another_nation_is_422(
    admin_api, receiver_api, make_nation, climate
):
    make_nation("gamma")
    [share] = _create(admin_api).json()["results"]
    assert receiver_api.post(f"/shares/{share['id']}/accept", {}).status_code == 200
    response = receiver_api.post("/shares", {"tag": "alpha:climate", "nations": "gamma"})
    assert_error(response, 422, "only its own tags")
    assert not TagShare.objects.filter(sender__slug="beta").exists()


def test_create_error_a_tag_name_too_long_for_its_shared_copy_is_422(
    admin_api, nation, other_nation
):
    # The receiving nation's copy is `alpha:<tag>`: 6 + 250 characters cannot be stored (255).
    long_name = "c" * 250
    tag_get_or_create(nation=nation, actor=Actor.system(), name=long_name)
    response = _create(admin_api, tag=long_name)
    assert_error(response, 422, "too long to share", "at most 249 characters")
    assert not TagShare.objects.exists()
    tag_get_or_create(nation=nation, actor=Actor.system(), name="c" * 249)
    assert _create(admin_api, tag="c" * 249).status_code == 201  # alpha:ccc… is 255: it fits


def test_create_error_unknown_tag_is_404(admin_api, other_nation):
    assert_error(_create(admin_api, tag="no such tag"), 404, "no such tag")


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"sync_data": True, "optional_fields": ["first_name"]}, ["first_name", "always sync"]),
        ({"sync_data": True, "optional_fields": ["shoe_size"]}, ["shoe_size"]),
        ({"optional_fields": ["party"]}, ["sync_data"]),
        ({"create_profiles": True}, ["sync_data"]),
    ],
)
def test_create_error_bad_optional_fields_or_settings_are_422(admin_api, climate, body, words):
    assert_error(_create(admin_api, **body), 422, *words)
    assert not TagShare.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"nations": "beta"}, "tag"),
        ({"tag": "climate"}, "nations"),
        ({"tag": "climate", "nations": "beta", "sync_date": True}, "sync_date"),
        ({"tag": "climate", "nations": "beta", "sync_data": "maybe"}, "sync_data"),
    ],
)
def test_create_with_a_malformed_body_is_422_naming_the_field(admin_api, climate, body, field):
    response = admin_api.post("/shares", body)
    assert field in assert_error(response, 422)["errors"]


def test_create_with_no_slugs_is_422(admin_api, climate):
    assert_error(_create(admin_api, nations=" , "), 422, "slugs")


def test_comma_separated_slugs_make_one_share_per_nation(
    admin_api, other_nation, make_nation, climate
):
    make_nation("gamma")
    make_nation("delta")
    response = _create(admin_api, nations="beta, gamma ,delta")
    assert response.status_code == 201
    assert [s["receiver"] for s in response.json()["results"]] == ["beta", "gamma", "delta"]
    assert len({s["id"] for s in response.json()["results"]}) == 3
    assert sorted(Notification.objects.values_list("nation__slug", flat=True)) == [
        "beta",
        "delta",
        "gamma",
    ]


def test_a_list_of_slugs_works_too(admin_api, other_nation, make_nation, climate):
    make_nation("gamma")
    response = _create(admin_api, nations=["beta", "gamma"])
    assert [s["receiver"] for s in response.json()["results"]] == ["beta", "gamma"]


@pytest.mark.parametrize("bad", ["beta,nowhere", "beta,alpha"])
def test_one_bad_slug_creates_no_share_at_all(admin_api, other_nation, climate, bad):
    assert_error(_create(admin_api, nations=bad), 422)
    assert not TagShare.objects.exists()
    assert not Notification.objects.exists()


def test_one_nation_already_shared_with_creates_none_of_the_others(
    admin_api, other_nation, make_nation, climate
):
    make_nation("gamma")
    assert _create(admin_api, nations="gamma").status_code == 201
    assert_error(_create(admin_api, nations="beta,gamma"), 409, "gamma")
    assert list(TagShare.objects.values_list("receiver__slug", flat=True)) == ["gamma"]
    assert not Notification.objects.filter(nation__slug="beta").exists()
