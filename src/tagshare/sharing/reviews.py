"""Review items (SPEC §6.2): proposals a nation decides on, for its own profiles only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from tagshare.outbox.hlc import Version
from tagshare.sharing.models import ReviewItem, ReviewStatus


@dataclass(frozen=True)
class Proposal:
    share_id: int
    nation_id: int
    person_id: int
    field: str
    current_value: Any
    proposed_value: Any
    proposed_version: Version


def reviews_propose(proposals: Sequence[Proposal]) -> int:
    """Queue proposals; a newer one replaces an older pending one for the same field, an older
    one is dropped. Returns how many were queued. A fixed number of queries per call."""
    if not proposals:
        return 0
    pending = {
        (item.person_id, item.field): item
        for item in ReviewItem.objects.filter(
            status=ReviewStatus.PENDING, person_id__in={p.person_id for p in proposals}
        )
    }
    stale: list[int] = []
    new: dict[tuple[int, str], ReviewItem] = {}
    for p in proposals:
        key = (p.person_id, p.field)
        older = pending.get(key)
        if older is not None:
            if _version_of(older) >= p.proposed_version:
                continue
            stale.append(older.pk)
            pending.pop(key)
        earlier = new.get(key)
        if earlier is not None and _version_of(earlier) >= p.proposed_version:
            continue
        new[key] = ReviewItem(
            share_id=p.share_id,
            nation_id=p.nation_id,
            person_id=p.person_id,
            field=p.field,
            current_value=p.current_value,
            proposed_value=p.proposed_value,
            proposed_version=p.proposed_version.as_json(),
        )
    with transaction.atomic():
        if stale:
            ReviewItem.objects.filter(pk__in=stale).update(
                status=ReviewStatus.STALE, decided_at=timezone.now()
            )
        ReviewItem.objects.bulk_create(list(new.values()), batch_size=2000)
    return len(new)


def _version_of(item: ReviewItem) -> Version:
    return Version.from_json(item.proposed_version) or Version(0, 0)
