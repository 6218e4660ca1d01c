"""The ongoing sync (SPEC §6, §7): outbox events applied over every active link.

- A profile write reaches each linked profile per SPEC §6: fields not synced by the share are
  ignored; a version not newer than the target's is ignored; a blank target or an address slot
  is written; `accept_all` and `blank_only` write ("most recent = most accurate"); `review`
  queues a review item in the target's nation. Values written by sync carry the original
  version, so they travel on over the target's other links and the journey ends where a
  profile already has that version.
- The sender adds the tag: the profile is matched into each receiving nation. The sender
  removes it: the shared tag leaves the linked profile and the link ends.
- The receiving nation deletes a linked profile: the link ends (reconciliation recreates it
  when the share creates profiles).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Q

from tagshare.nations.actors import Actor
from tagshare.outbox.hlc import Version
from tagshare.outbox.models import EventKind, OutboxEvent
from tagshare.people import catalog, values
from tagshare.people.models import Person
from tagshare.people.services import person_update
from tagshare.sharing.models import (
    LINKED_STATES,
    LinkState,
    ShareLink,
    ShareStatus,
    SyncOption,
    TagShare,
)
from tagshare.sharing.reviews import Proposal, reviews_propose
from tagshare.tags.models import Tagging


def on_person_changed(events: Sequence[OutboxEvent]) -> None:
    """Created/updated/merged profiles: push the changed fields over their links."""
    fields_by_person: dict[int, set[str]] = {}
    for event in events:
        if event.person_id is not None:
            fields_by_person.setdefault(event.person_id, set()).update(
                event.payload.get("fields", [])
            )
    if not fields_by_person:
        return
    links = (
        ShareLink.objects.filter(
            state__in=LINKED_STATES, share__status=ShareStatus.APPROVED, share__sync_data=True
        )
        .filter(
            Q(sender_person_id__in=fields_by_person) | Q(receiver_person_id__in=fields_by_person)
        )
        .exclude(receiver_person__isnull=True)
        .select_related("share")
    )
    drop_stale_proposals(fields_by_person)
    for link in links:
        if link.receiver_person_id is None:
            continue
        for source_id, target_id in (
            (link.sender_person_id, link.receiver_person_id),
            (link.receiver_person_id, link.sender_person_id),
        ):
            changed = fields_by_person.get(source_id)
            if changed:
                push_fields(link.share, source_id, target_id, changed)


def drop_stale_proposals(fields_by_person: dict[int, set[str]]) -> None:
    """A pending proposal no longer newer than its profile's value is dropped as stale (§6.2)."""
    from django.utils import timezone

    from tagshare.sharing.models import ReviewItem, ReviewStatus

    pending = ReviewItem.objects.filter(
        status=ReviewStatus.PENDING, person_id__in=list(fields_by_person)
    ).select_related("person")
    stale = []
    for item in pending:
        if item.field not in fields_by_person[item.person_id]:
            continue
        current = Version.from_json(item.person.field_versions.get(item.field))
        proposed = Version.from_json(item.proposed_version)
        if current is not None and proposed is not None and proposed <= current:
            stale.append(item.pk)
    if stale:
        ReviewItem.objects.filter(pk__in=stale).update(
            status=ReviewStatus.STALE, decided_at=timezone.now()
        )


def push_fields(share: TagShare, source_id: int, target_id: int, fields: set[str]) -> None:
    """Apply SPEC §6 for each changed field from one linked profile to the other."""
    people = Person.objects.in_bulk([source_id, target_id])
    source, target = people.get(source_id), people.get(target_id)
    if source is None or target is None:
        return
    synced = set(share.synced_fields)
    changes: dict[str, object] = {}
    versions: dict[str, Version] = {}
    proposals: list[Proposal] = []
    for name in sorted(fields & synced):
        version = Version.from_json(source.field_versions.get(name))
        if version is None:
            continue
        current = Version.from_json(target.field_versions.get(name))
        if current is not None and version <= current:
            continue  # the target already has this write, or a newer one
        value, existing = values.read(source, name), values.read(target, name)
        if values.same(value, existing):
            continue  # nothing to change or to review: only the versions differ
        if (
            values.is_blank(existing)
            or catalog.get(name).is_address
            or share.sync_option in (SyncOption.ACCEPT_ALL, SyncOption.BLANK_ONLY)
        ):
            changes[name] = value
            versions[name] = version
        else:
            proposals.append(
                Proposal(
                    share.pk,
                    target.nation_id,
                    target.pk,
                    name,
                    values.to_json(existing),
                    values.to_json(value),
                    version,
                )
            )
    if changes:
        person_update(
            nation=target.nation,
            actor=Actor.share(share.pk),
            person=target,
            changes=changes,
            versions=versions,
            kind="sync",
        )
    reviews_propose(proposals)


def on_tag_applied(events: Sequence[OutboxEvent]) -> None:
    """The sender tags a profile: match it into each receiving nation of an approved share."""
    from tagshare.sharing.initial_sync import (
        create_missing,
        match_and_link,
        reconcile_matched,
        tag_linked,
    )

    by_tag: dict[int, list[int]] = {}
    for event in events:
        if event.person_id is not None and event.payload.get("tag_id"):
            by_tag.setdefault(int(event.payload["tag_id"]), []).append(event.person_id)
    shares = TagShare.objects.filter(tag_id__in=by_tag, status=ShareStatus.APPROVED).select_related(
        "sender", "receiver", "tag"
    )
    for share in shares:
        tagged = list(
            Tagging.objects.filter(
                tag_id=share.tag_id, person_id__in=by_tag[share.tag_id]
            ).values_list("person_id", flat=True)
        )
        if not tagged:
            continue  # removed again before we got here
        match_and_link(share, person_ids=tagged)
        if share.sync_data and share.accepted_create_profiles:
            create_missing(share)
        tag_linked(share)
        if share.sync_data:
            reconcile_matched(share)


def on_tag_removed(events: Sequence[OutboxEvent]) -> None:
    """The sender untags a profile: the shared tag leaves the linked profile, the link ends."""
    from tagshare.tags.services import tag_remove

    by_tag: dict[int, list[int]] = {}
    for event in events:
        if event.person_id is not None and event.payload.get("tag_id"):
            by_tag.setdefault(int(event.payload["tag_id"]), []).append(event.person_id)
    shares = TagShare.objects.filter(tag_id__in=by_tag, status=ShareStatus.APPROVED).select_related(
        "receiver", "receiver_tag"
    )
    for share in shares:
        still_tagged = set(
            Tagging.objects.filter(
                tag_id=share.tag_id, person_id__in=by_tag[share.tag_id]
            ).values_list("person_id", flat=True)
        )
        gone = [pid for pid in by_tag[share.tag_id] if pid not in still_tagged]
        links = ShareLink.objects.filter(share=share, sender_person_id__in=gone).exclude(
            state=LinkState.ENDED
        )
        for link in links.select_related("receiver_person"):
            if link.receiver_person is not None and share.receiver_tag is not None:
                tag_remove(
                    nation=share.receiver,
                    actor=Actor.share(share.pk),
                    person=link.receiver_person,
                    name=share.receiver_tag.name,
                )
        links.update(state=LinkState.ENDED)


def on_person_deleted(events: Sequence[OutboxEvent]) -> None:
    """A linked profile was deleted (its link's person is now empty): the link ends."""
    del events  # the foreign key was set to NULL with the deletion; end those links
    ShareLink.objects.filter(state__in=LINKED_STATES, receiver_person__isnull=True).update(
        state=LinkState.ENDED
    )


def register_handlers() -> None:
    from tagshare.outbox import drain

    for kind in (EventKind.PERSON_CREATED, EventKind.PERSON_UPDATED, EventKind.PERSON_MERGED):
        drain.register(kind, on_person_changed)
    drain.register(EventKind.TAG_APPLIED, on_tag_applied)
    drain.register(EventKind.TAG_REMOVED, on_tag_removed)
    drain.register(EventKind.PERSON_DELETED, on_person_deleted)
