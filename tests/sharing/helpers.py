"""Small helpers the sharing scenario tests share: read a profile afresh, write it locally."""

from __future__ import annotations

from typing import Any

from tagshare.nations.actors import Actor
from tagshare.people.models import Person
from tagshare.people.services import person_update


def fresh(person: Person) -> Person:
    """The profile as stored now (what a sync may have written since it was read)."""
    return Person.objects.get(pk=person.pk)


def local_write(person: Person, **changes: Any) -> None:
    """A write by the profile's own nation, through the one write path."""
    person_update(nation=person.nation, actor=Actor.system(), person=fresh(person), changes=changes)
