"""Tenant isolation in the services: another nation's record answers like a missing one (SPEC §1)."""

import pytest

from tagshare.errors import NotFound
from tagshare.nations.actors import Actor
from tagshare.people import selectors, services


def test_selectors_do_not_find_another_nations_person(nation, other_nation, make_person):
    theirs = make_person(other_nation, first_name="T", email1="t@x.org")
    with pytest.raises(NotFound) as missing:
        selectors.access_person_by_id(nation, 10**9)
    with pytest.raises(NotFound) as foreign:
        selectors.access_person_by_id(nation, theirs.pk)
    assert type(missing.value) is type(foreign.value)
    assert missing.value.status_code == foreign.value.status_code == 404
    with pytest.raises(NotFound):
        selectors.person_by_email(nation, "t@x.org")
    assert list(selectors.people_list(nation)) == []


@pytest.mark.parametrize("call", ["update", "delete", "history"])
def test_services_refuse_another_nations_user_or_person(call, nation, other_admin, make_person):
    ours = make_person(nation, first_name="Ours")
    for actor_nation, actor in (
        (nation, Actor.for_user(other_admin)),
        (other_admin.nation, Actor.for_user(other_admin)),
    ):
        with pytest.raises(NotFound):
            if call == "update":
                services.person_update(
                    nation=actor_nation, actor=actor, person=ours, changes={"first_name": "X"}
                )
            elif call == "delete":
                services.person_delete(nation=actor_nation, actor=actor, person=ours)
            else:
                selectors.person_history(other_admin.nation, ours)
    ours.refresh_from_db()
    assert ours.first_name == "Ours"


def test_a_user_signs_in_only_to_their_own_nation(nation, other_nation, make_user):
    from django.contrib.auth import authenticate

    make_user(nation, "admin", email="same@x.org", password="pw-alpha-123")
    make_user(other_nation, "staff", email="same@x.org", password="pw-beta-1234")
    user = authenticate(None, nation="alpha", email="SAME@x.org", password="pw-alpha-123")
    assert user is not None and user.nation == nation and user.role == "admin"
    assert authenticate(None, nation="beta", email="same@x.org", password="pw-alpha-123") is None
    assert authenticate(None, nation="gamma", email="same@x.org", password="pw-alpha-123") is None


def test_api_tokens_are_stored_hashed_and_map_to_one_user(nation, admin):
    from tagshare.nations.models import ApiToken
    from tagshare.nations.services import token_authenticate, token_create

    raw = token_create(user=admin)
    stored = ApiToken.objects.get(user=admin)
    assert raw not in (stored.digest, stored.prefix) and len(stored.digest) == 64
    assert token_authenticate(raw) == admin
    assert token_authenticate(raw + "x") is None
    assert token_authenticate("") is None
