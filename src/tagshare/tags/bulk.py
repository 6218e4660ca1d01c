"""Tagging many profiles at once (imports): a fixed number of queries per batch."""

from __future__ import annotations

import json
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from tagshare.dbcopy import Table, store_for_connection
from tagshare.idlists import many_ids
from tagshare.nations.actors import Actor, check_acts_in
from tagshare.nations.models import Nation
from tagshare.outbox import services as outbox
from tagshare.outbox.models import EventKind
from tagshare.tags.models import Tag, Tagging
from tagshare.tags.services import clean_tag_name, guard_owned, tag_get_or_create

_TAGGING = Table.of(Tagging, with_id=False)


def tags_bulk_apply(*, nation: Nation, actor: Actor, pairs: Iterable[tuple[int, str]]) -> int:
    """Put tags on profiles given as (person id, tag name); returns how many taggings are new.

    The caller vouches that the person ids are this nation's (they come from its own queries).
    """
    check_acts_in(actor, nation)
    by_name: dict[str, set[int]] = {}
    for person_id, name in pairs:
        by_name.setdefault(clean_tag_name(name), set()).add(person_id)
    created = 0
    store = store_for_connection()
    stamp = store.adapt_datetime(timezone.now())
    with transaction.atomic():
        for name, person_ids in by_name.items():
            tag = tag_get_or_create(nation=nation, actor=actor, name=name)
            guard_owned(tag, actor, "add")
            wanted = sorted(person_ids)
            # One payload per tag; taggings and events go in through COPY (executemany on
            # SQLite) — Django's bulk_create built an object per row, a tenth of an import.
            payload = json.dumps({"tag_id": tag.pk, "tag": tag.name, "source": actor.source})
            for start in range(0, len(wanted), 5000):
                chunk = wanted[start : start + 5000]
                have = set(
                    Tagging.objects.filter(tag=tag, person_id__in=many_ids(chunk)).values_list(
                        "person_id", flat=True
                    )
                )
                new = [pid for pid in chunk if pid not in have]
                store.insert(_TAGGING, [(tag.pk, pid, stamp) for pid in new])
                outbox.emit_rows(
                    [
                        outbox.event_row(
                            nation.pk, pid, EventKind.TAG_APPLIED.value, payload, stamp
                        )
                        for pid in new
                    ]
                )
                created += len(new)
    return created


def tag_names_shared_in(nation: Nation) -> set[str]:
    return set(
        Tag.objects.filter(nation=nation, shared_from__isnull=False).values_list("name", flat=True)
    )
