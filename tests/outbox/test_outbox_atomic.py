"""Outbox events commit with the change that causes them, or not at all (ARCHITECTURE rule 2)."""

import pytest
from django.db import transaction

from tagshare.errors import Conflict
from tagshare.nations.actors import Actor
from tagshare.outbox import services as outbox
from tagshare.outbox.models import OutboxEvent
from tagshare.people import services
from tagshare.people.models import Person, PersonChange
from tagshare.tags import services as tags


def test_each_write_path_emits_one_event_describing_it(nation, make_person):
    person = make_person(nation, first_name="Ada")
    services.person_update(
        nation=nation, actor=Actor.system(), person=person, changes={"last_name": "L"}
    )
    tags.tag_apply(nation=nation, actor=Actor.system(), person=person, name="volunteers")
    tags.tag_apply(
        nation=nation, actor=Actor.system(), person=person, name="volunteers"
    )  # idempotent
    tags.tag_remove(nation=nation, actor=Actor.system(), person=person, name="volunteers")
    pid = person.pk
    services.person_delete(nation=nation, actor=Actor.system(), person=person)
    events = list(OutboxEvent.objects.order_by("id").values_list("kind", "person_id", "nation_id"))
    assert events == [
        ("person.created", pid, nation.pk),
        ("person.updated", pid, nation.pk),
        ("tag.applied", pid, nation.pk),
        ("tag.removed", pid, nation.pk),
        ("person.deleted", pid, nation.pk),
    ]
    update = OutboxEvent.objects.get(kind="person.updated")
    assert update.payload["fields"] == ["last_name"]
    assert update.processed_at is None


def test_a_refused_write_leaves_neither_change_nor_event(nation, make_person):
    make_person(nation, email1="taken@x.org")
    other = make_person(nation, first_name="Bo")
    before = (OutboxEvent.objects.count(), PersonChange.objects.count())
    with pytest.raises(Conflict):
        services.person_update(
            nation=nation, actor=Actor.system(), person=other, changes={"email1": "taken@x.org"}
        )
    assert (OutboxEvent.objects.count(), PersonChange.objects.count()) == before


def test_a_transaction_rolled_back_after_the_write_takes_its_event_with_it(nation, make_person):
    person = make_person(nation, first_name="Ada")
    before = (OutboxEvent.objects.count(), PersonChange.objects.count())

    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        services.person_update(
            nation=nation, actor=Actor.system(), person=person, changes={"first_name": "X"}
        )
        raise Boom
    assert (OutboxEvent.objects.count(), PersonChange.objects.count()) == before
    assert Person.objects.get(pk=person.pk).first_name == "Ada"


@pytest.mark.django_db(transaction=True)
def test_events_cannot_be_written_outside_a_transaction():
    with pytest.raises(RuntimeError):
        outbox.emit(nation_id=1, kind="person.updated", person_id=1, payload={})


@pytest.mark.django_db(transaction=True)
def test_workers_are_woken_only_after_commit(make_nation):
    nation = make_nation("gamma")
    woken: list[int] = []
    outbox.register_wake_hook(lambda: woken.append(1))
    try:
        with transaction.atomic():
            services.person_create(
                nation=nation, actor=Actor.system(), values_in={"first_name": "A"}
            )
            assert woken == []
        assert woken == [1]
    finally:
        outbox._wake_hooks.clear()
