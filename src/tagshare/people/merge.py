"""Merging two profiles of one nation (SPEC §8): how ambiguous matches get resolved.

The kept profile takes the other's emails, IDs, tags, share links and history; where both have a value, the
kept one's stays and the other's is recorded in history (restorable). The other profile goes.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from tagshare.errors import ValidationFailed
from tagshare.nations.actors import Actor, require_admin
from tagshare.nations.models import Nation
from tagshare.outbox import services as outbox
from tagshare.outbox.models import EventKind
from tagshare.people import catalog, values
from tagshare.people.models import Person, PersonChange
from tagshare.people.services import _check_owned, _write
from tagshare.tags.models import Tagging


def person_merge(*, nation: Nation, actor: Actor, keep: Person, other: Person) -> Person:
    require_admin(actor, nation, "merge profiles")
    _check_owned(keep, nation)
    _check_owned(other, nation)
    if keep.pk == other.pk:
        raise ValidationFailed("Choose two different profiles to merge.")
    with transaction.atomic():
        locked = {
            p.pk: p for p in Person.objects.select_for_update().filter(pk__in=[keep.pk, other.pk])
        }
        kept, gone = locked[keep.pk], locked[other.pk]
        changes, conflicts = _fold(kept, gone)
        gone_id = gone.pk
        # History and taggings move before the other profile (and its email index) is deleted.
        PersonChange.objects.filter(person=gone).update(person=kept)
        have = set(Tagging.objects.filter(person=kept).values_list("tag_id", flat=True))
        Tagging.objects.filter(person=gone).exclude(tag_id__in=have).update(person=kept)
        # Links fold in too (SPEC §8). Imported here: sharing builds on people, not the reverse.
        from tagshare.sharing.profile_links import links_fold

        links_fold(kept_id=kept.pk, gone_id=gone.pk)
        gone.delete()
        change = _write(
            kept, nation=nation, actor=actor, cleaned=changes, versions=None, kind="merge"
        )
        if change is None:
            change = PersonChange.objects.create(
                nation=nation,
                person=kept,
                kind="merge",
                source=actor.source,
                actor_id=actor.user_id,
                changes={},
            )
        for name, other_value in conflicts.items():
            change.changes[name] = {
                "old": other_value,
                "new": values.to_json(values.read(kept, name)),
                "version": kept.field_versions.get(name),
                "merged_from": gone_id,
            }
        change.save(update_fields=["changes"])
        outbox.emit(
            nation_id=nation.pk,
            kind=EventKind.PERSON_MERGED,
            person_id=kept.pk,
            payload={"merged_person_id": gone_id, "change_id": change.pk},
        )
    keep.refresh_from_db()
    return keep


def _fold(kept: Person, gone: Person) -> tuple[dict[str, Any], dict[str, Any]]:
    """Values the kept profile takes (its blanks, the other's emails) and the conflicts it wins."""
    changes: dict[str, Any] = {}
    conflicts: dict[str, Any] = {}
    have = [
        values.normalise_email(getattr(kept, n)) for n in catalog.EMAIL_FIELDS if getattr(kept, n)
    ]
    extra = [
        getattr(gone, n)
        for n in catalog.EMAIL_FIELDS
        if getattr(gone, n) and values.normalise_email(getattr(gone, n)) not in have
    ]
    free = [n for n in catalog.EMAIL_FIELDS if not getattr(kept, n)]
    if len(extra) > len(free):
        raise ValidationFailed(
            f"Together the two profiles have more than {catalog.MAX_EMAILS} emails; remove "
            f"{len(extra) - len(free)} of them before merging."
        )
    changes.update(zip(free, extra, strict=False))
    for spec in catalog.FIELDS:
        if spec.name in catalog.EMAIL_FIELDS:
            continue
        mine, theirs = values.read(kept, spec.name), values.read(gone, spec.name)
        if values.is_blank(theirs):
            continue
        if values.is_blank(mine):
            changes[spec.name] = theirs
        elif not values.same(mine, theirs):
            conflicts[spec.name] = values.to_json(theirs)
    return changes, conflicts
