"""Review items (SPEC §6.2): proposals a nation decides on, for its own profiles only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from tagshare.outbox.hlc import Version
from tagshare.people.models import Person
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
    base_version: Version | None = None  # the target's version of the field now (None: none)


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
            base_version=p.base_version.as_json() if p.base_version else None,
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


def _pending_for(nation: Any, ids: Sequence[int] | None, person_ids: Sequence[int] | None) -> Any:
    from tagshare.errors import ValidationFailed

    if not ids and not person_ids:
        raise ValidationFailed(
            "Choose what to decide: review item ids, or person ids for whole profiles."
        )
    qs = ReviewItem.objects.filter(nation=nation, status=ReviewStatus.PENDING)
    if ids:
        qs = qs.filter(pk__in=list(ids))
    if person_ids:
        qs = qs.filter(person_id__in=list(person_ids))
    return qs.select_related("person", "share")


def reviews_apply(
    *,
    nation: Any,
    actor: Any,
    ids: Sequence[int] | None = None,
    person_ids: Sequence[int] | None = None,
) -> dict[str, int]:
    """Write the proposed values into this nation's own profiles, with the proposed version, so
    both nations then agree. A proposal no longer newer than the profile's value is stale —
    unless it never was and the profile's value has not changed since it was queued (an initial
    sync's proposal to the side holding the newer value): then the value is written with a
    fresh version, newer than both sides', and travels back over the link like any write.
    Applying an item makes the pair's opposite item (the other side's proposal for the same
    field, in the same share) stale: the two sides now agree."""
    from tagshare.nations.actors import require_admin
    from tagshare.people.services import person_update

    require_admin(actor, nation, "review synced changes")
    applied = stale = 0
    with transaction.atomic():
        # Profiles first (in id order), then their items: the sync worker locks in the same
        # order, so an admin applying reviews and a worker proposing new ones cannot deadlock.
        wanted = set(_pending_for(nation, ids, person_ids).values_list("person_id", flat=True))
        people = {
            p.pk: p for p in Person.objects.select_for_update().filter(pk__in=wanted).order_by("pk")
        }
        items = list(
            _pending_for(nation, ids, person_ids)
            .filter(person_id__in=list(people))
            .select_for_update(of=("self",))
        )
        by_person: dict[int, list[ReviewItem]] = {}
        for item in items:
            by_person.setdefault(item.person_id, []).append(item)
        now = timezone.now()
        decided: list[ReviewItem] = []
        for person_id, person_items in by_person.items():
            person = people[person_id]  # the locked, current profile: versions compared here hold
            changes: dict[str, Any] = {}
            versions: dict[str, Version] = {}
            for item in person_items:
                current = Version.from_json(person.field_versions.get(item.field))
                proposed = _version_of(item)
                if current is None or proposed > current:
                    changes[item.field] = item.proposed_value
                    versions[item.field] = proposed
                elif current == Version.from_json(item.base_version):
                    changes[item.field] = item.proposed_value  # a fresh version (person_update)
                else:
                    item.status = ReviewStatus.STALE
                    stale += 1
                if item.status != ReviewStatus.STALE:
                    item.status = ReviewStatus.APPLIED
                    applied += 1
                    decided.append(item)
                item.decided_at, item.decided_by = now, actor.user
            if changes:
                person_update(
                    nation=nation,
                    actor=actor,
                    person=person,
                    changes=changes,
                    versions=versions,
                    kind="review",
                )
        ReviewItem.objects.bulk_update(items, ["status", "decided_at", "decided_by"])
        _stale_opposites(decided)
    return {"applied": applied, "stale": stale}


def _stale_opposites(applied: Sequence[ReviewItem]) -> None:
    """The other side's pending proposal for each applied item's pair and field goes stale.

    A fixed number of queries however many items were applied ("apply all" may be thousands):
    the links and the candidates are read by id lists, and the exact (share, profile, field)
    triples are picked in Python rather than spelled out as one OR per item in SQL."""
    if not applied:
        return
    from django.db.models import Q

    from tagshare.idlists import many_ids
    from tagshare.sharing.models import LINKED_STATES, ShareLink

    wanted: dict[tuple[int, int], set[str]] = {}
    for item in applied:
        wanted.setdefault((item.share_id, item.person_id), set()).add(item.field)
    people = {pid for _, pid in wanted}
    partners: set[tuple[int, int, str]] = set()
    for share_id, sender_id, receiver_id in (
        ShareLink.objects.filter(
            share_id__in={share_id for share_id, _ in wanted}, state__in=LINKED_STATES
        )
        .filter(
            Q(sender_person_id__in=many_ids(people)) | Q(receiver_person_id__in=many_ids(people))
        )
        .values_list("share_id", "sender_person_id", "receiver_person_id")
    ):
        for mine, other in ((sender_id, receiver_id), (receiver_id, sender_id)):
            if other is not None:
                partners.update(
                    (share_id, other, name) for name in wanted.get((share_id, mine), ())
                )
    if not partners:
        return
    stale = [
        pk
        for pk, share_id, person_id, name in ReviewItem.objects.filter(
            status=ReviewStatus.PENDING,
            person_id__in=many_ids({person_id for _, person_id, _ in partners}),
        ).values_list("pk", "share_id", "person_id", "field")
        if (share_id, person_id, name) in partners
    ]
    if stale:
        ReviewItem.objects.filter(pk__in=many_ids(stale)).update(
            status=ReviewStatus.STALE, decided_at=timezone.now()
        )


def reviews_skip(
    *,
    nation: Any,
    actor: Any,
    ids: Sequence[int] | None = None,
    person_ids: Sequence[int] | None = None,
) -> dict[str, int]:
    """Discard proposals: this nation keeps its own values."""
    from tagshare.nations.actors import require_admin

    require_admin(actor, nation, "review synced changes")
    skipped = _pending_for(nation, ids, person_ids).update(
        status=ReviewStatus.SKIPPED, decided_at=timezone.now(), decided_by=actor.user
    )
    return {"skipped": skipped}
