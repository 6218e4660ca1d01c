"""Reads for people, scoped to one nation by construction (ARCHITECTURE rule 5)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet

from tagshare.errors import NotFound
from tagshare.nations.models import Nation
from tagshare.people import values
from tagshare.people.models import Person, PersonChange, PersonEmail


def access_person_by_id(nation: Nation, person_id: int | str) -> Person:
    """This nation's person with this id; another nation's answers exactly like a missing one."""
    try:
        pk = int(person_id)
    except (TypeError, ValueError):
        raise NotFound(f"Person {person_id!r} not found.") from None
    if not 0 < pk < 2**63:  # beyond a BIGINT: the database would refuse the query itself
        raise NotFound(f"Person {pk} not found.")
    person = Person.objects.filter(nation=nation, pk=pk).first()
    if person is None:
        raise NotFound(f"Person {pk} not found.")
    return person


def people_list(
    nation: Nation,
    *,
    search: str = "",
    updated_since: dt.datetime | None = None,
    tag: str | None = None,
) -> QuerySet[Person]:
    qs = Person.objects.filter(nation=nation)
    if updated_since is not None:
        qs = qs.filter(updated_at__gte=updated_since)
    if tag:
        qs = qs.filter(taggings__tag__nation=nation, taggings__tag__name=tag)
    for word in search.split():
        qs = qs.filter(
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(email1__icontains=word)
            | Q(email2__icontains=word)
            | Q(phone__icontains=word)
            | Q(mobile__icontains=word)
        )
    return qs.order_by("id")


def person_by_email(nation: Nation, email: str) -> Person:
    row = (
        PersonEmail.objects.filter(nation=nation, address=values.normalise_email(email))
        .select_related("person")
        .first()
    )
    if row is None:
        raise NotFound(f"No person with email {email!r}.")
    return row.person


def person_history(
    nation: Nation,
    person: Person,
    *,
    field: str | None = None,
    after: tuple[int, str] | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """One entry per changed field per write, newest first (by change id, then field name).

    A long-synced profile can have thousands of writes, so a page reads only what it shows:
    the entries after `after` (a (change id, field) already shown), at most `limit` of them.
    Writes are read newest first, in chunks, until the page is full.
    """
    if person.nation_id != nation.pk:
        raise NotFound("Person not found.")
    entries: list[dict[str, Any]] = []
    writes = PersonChange.objects.filter(person=person)
    if field:
        # The documents are text: this narrows the writes to those naming the field (a value
        # could contain the same text; the loop below keeps only the field's own entries).
        writes = writes.filter(changes__contains=f'"{field}":')
    if after is not None:
        writes = writes.filter(pk__lte=after[0])
    writes = writes.select_related("actor").order_by("-id")
    for change in writes.iterator(chunk_size=HISTORY_CHUNK):
        for name, detail in sorted(change.entries().items()):
            if field and name != field:
                continue
            if after is not None and change.pk == after[0] and name <= after[1]:
                continue  # shown on an earlier page
            entries.append(
                {
                    "change_id": change.pk,
                    "field": name,
                    "old": detail.get("old"),
                    "new": detail.get("new"),
                    "version": detail.get("version"),
                    "source": change.source,
                    "kind": change.kind,
                    "actor": change.actor.email if change.actor else None,
                    "share_id": change.share_id,
                    "at": change.created_at,
                }
            )
            if limit is not None and len(entries) >= limit:
                return entries
    return entries


HISTORY_CHUNK = 200


def person_tags(person: Person) -> list[str]:
    return sorted(person.taggings.values_list("tag__name", flat=True))
