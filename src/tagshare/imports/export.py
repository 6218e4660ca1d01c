"""CSV export (SPEC §9.1): the import columns plus `id` and `tags`, so an export imports back."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable
from typing import IO, Any

from tagshare.errors import NotFound
from tagshare.imports.columns import export_columns
from tagshare.nations.models import Nation
from tagshare.people.models import Person
from tagshare.tags.models import Tag, Tagging

CHUNK = 2000


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def export_people(
    nation: Nation,
    out: IO[str],
    *,
    tag: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Write the nation's people (optionally those with `tag`) as CSV; returns the row count.

    Tags shared in by other nations are left out of `tags`: they are the sender's, and no import
    may add them (SPEC §3).
    """
    if tag and not Tag.objects.filter(nation=nation, name=tag).exists():
        # An empty file would look like a tag nobody carries: say the name is wrong instead.
        raise NotFound(f"No tag named {tag!r} in {nation.slug}; check the spelling.")
    columns = export_columns()
    stored = [c for c in columns if c not in ("id", "tags")]
    writer = csv.writer(out)
    writer.writerow(columns)
    people = Person.objects.filter(nation=nation)
    if tag:
        people = people.filter(taggings__tag__nation=nation, taggings__tag__name=tag)
    total = people.count()
    written = 0
    last_id = 0
    while True:
        chunk = list(
            people.filter(pk__gt=last_id).order_by("pk").values_list("pk", *stored)[:CHUNK]
        )
        if not chunk:
            break
        ids = [row[0] for row in chunk]
        tags: dict[int, list[str]] = {}
        for person_id, name in (
            Tagging.objects.filter(person_id__in=ids, tag__shared_from__isnull=True)
            .order_by("tag__name")
            .values_list("person_id", "tag__name")
        ):
            tags.setdefault(person_id, []).append(name)
        for row in chunk:
            writer.writerow([row[0], *(_cell(v) for v in row[1:]), ",".join(tags.get(row[0], []))])
        written += len(chunk)
        last_id = ids[-1]
        if progress:
            progress(written, total)
    return written
