"""Possible duplicates in a nation: profile groups the cascade would find ambiguous (SPEC §4, §8)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q

from tagshare.nations.models import Nation
from tagshare.people.models import Person


@dataclass(frozen=True)
class DuplicateGroup:
    reason: str
    person_ids: tuple[int, ...]


def possible_duplicates(nation: Nation, *, limit: int = 500) -> list[DuplicateGroup]:
    """Same name and birthdate, or same name and a phone: merge these before sharing a tag."""
    groups: list[DuplicateGroup] = []
    named = Person.objects.filter(nation=nation).exclude(Q(first_key="") | Q(last_key=""))
    by_birthdate = (
        named.filter(birthdate__isnull=False)
        .values("first_key", "last_key", "birthdate")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .order_by("last_key", "first_key")[:limit]
    )
    for key in by_birthdate:
        same = named.filter(
            first_key=key["first_key"], last_key=key["last_key"], birthdate=key["birthdate"]
        ).values_list("id", flat=True)
        groups.append(DuplicateGroup("same name and birthdate", tuple(sorted(same))))
    for column in ("phone_key", "mobile_key"):
        by_phone = (
            named.exclude(**{column: ""})
            .values("first_key", "last_key", column)
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .order_by("last_key", "first_key")[:limit]
        )
        for key in by_phone:
            ids = tuple(
                sorted(
                    named.filter(
                        first_key=key["first_key"],
                        last_key=key["last_key"],
                        **{column: key[column]},
                    ).values_list("id", flat=True)
                )
            )
            if not any(g.person_ids == ids for g in groups):
                groups.append(DuplicateGroup("same name and phone", ids))
    return groups[:limit]
