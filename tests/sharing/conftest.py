"""A coalition for sharing tests: a sender with a tag on a few people, a receiver, their admins."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tagshare.nations.actors import Actor
from tagshare.nations.models import Nation, User
from tagshare.people.models import Person
from tagshare.sharing import services
from tagshare.sharing.models import TagShare
from tagshare.tags.services import tag_apply


@pytest.fixture
def sender(make_nation) -> Nation:
    return make_nation("north", plan="organization", name="Northside")


@pytest.fixture
def receiver(make_nation) -> Nation:
    return make_nation("river", plan="enterprise", name="Riverside")


@pytest.fixture
def sender_admin(sender, make_user) -> User:
    return make_user(sender, "admin", email="admin@north.example")


@pytest.fixture
def receiver_admin(receiver, make_user) -> User:
    return make_user(receiver, "admin", email="admin@river.example")


@pytest.fixture
def tagged(sender, make_person) -> Callable[..., Person]:
    """A sender profile carrying the tag `climate`."""

    def make(**values: Any) -> Person:
        person = make_person(sender, **values)
        tag_apply(nation=sender, actor=Actor.system(), person=person, name="climate")
        return person

    return make


@pytest.fixture
def share_and_accept(sender, receiver, sender_admin, receiver_admin) -> Callable[..., TagShare]:
    def run(
        *,
        sync_option: str | None = "accept_all",
        sync_data: bool = True,
        optional_fields=(),
        create_profiles: bool = False,
        accept_create: bool = False,
        as_prospects: bool = True,
    ) -> TagShare:
        [share] = services.share_create(
            nation=sender,
            actor=Actor.for_user(sender_admin),
            tag_name="climate",
            nations="river",
            sync_data=sync_data,
            optional_fields=list(optional_fields),
            create_profiles=create_profiles,
        )
        services.share_accept(
            nation=receiver,
            actor=Actor.for_user(receiver_admin),
            share=share,
            sync_option=sync_option if sync_data else None,
            create_profiles=accept_create,
            as_prospects=as_prospects,
        )
        share.refresh_from_db()
        return share

    return run
