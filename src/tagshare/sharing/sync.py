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

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from tagshare.idlists import many_ids
from tagshare.nations.actors import Actor
from tagshare.nations.models import Nation
from tagshare.outbox.hlc import Version
from tagshare.outbox.models import EventKind, OutboxEvent
from tagshare.people import catalog, values
from tagshare.people.bulk_update import Write, people_bulk_update, people_for_update
from tagshare.people.models import Person
from tagshare.sharing.models import (
    LINKED_STATES,
    LinkState,
    ShareLink,
    ShareStatus,
    SyncOption,
    TagShare,
    link_reason,
)
from tagshare.sharing.reviews import Proposal, reviews_propose
from tagshare.tags.models import Tagging

logger = logging.getLogger(__name__)


def on_person_changed(events: Sequence[OutboxEvent]) -> None:
    """Created/updated/merged profiles: push the changed fields over their links, per batch.

    The whole batch is planned in memory from one read of its links and one locked read of the
    profiles they join, then written with one `people_bulk_update` per (target nation, share):
    a fixed number of statements per batch, not per event, which is what lets one worker keep
    up with thousands of field changes a second.
    """
    # person -> field -> where the change came from: a share's id, or None for a local write.
    origins: dict[int, dict[str, set[int | None]]] = {}
    for event in events:
        if event.person_id is None:
            continue
        origin = event.payload.get("share_id") if event.payload.get("source") == "share" else None
        by_field = origins.setdefault(event.person_id, {})
        for name in event.payload.get("fields", []):
            by_field.setdefault(name, set()).add(origin)
    if not origins:
        return
    changed_fields = {pid: set(fields) for pid, fields in origins.items()}
    with transaction.atomic():
        links = list(
            ShareLink.objects.filter(
                state__in=LINKED_STATES, share__status=ShareStatus.APPROVED, share__sync_data=True
            )
            .filter(
                Q(sender_person_id__in=many_ids(origins))
                | Q(receiver_person_id__in=many_ids(origins))
            )
            .exclude(receiver_person__isnull=True)
            # Only while the sender's profile still carries the tag: events are handled grouped
            # by kind, so a write made just after an untag can come before the untag's event
            # ends the link — and the pair must sync nothing more once the tag is off (SPEC §7).
            .filter(
                Exists(
                    Tagging.objects.filter(
                        tag_id=OuterRef("share__tag_id"), person_id=OuterRef("sender_person_id")
                    )
                )
            )
            .values_list("id", "share_id", "sender_person_id", "receiver_person_id")
        )
        # How many live links each profile has in each share: normally one.
        per_share: dict[tuple[int, int], int] = {}
        for _, share_id, sender_id, receiver_id in links:
            for pid in (sender_id, receiver_id):
                per_share[(share_id, pid)] = per_share.get((share_id, pid), 0) + 1
        pushes: list[tuple[int, int, int, int, set[str]]] = []
        for link_id, share_id, sender_id, receiver_id in links:
            for source_id, target_id in ((sender_id, receiver_id), (receiver_id, sender_id)):
                # A value a share wrote came from the other end of that share's link, which
                # already holds it (or something newer): only its other links need it. This
                # keeps the echo of every synced write from costing a read of both profiles.
                # Not when the profile has two live links in that share (duplicates in a
                # nation): the value may have come over the other one.
                unique_link = per_share[(share_id, source_id)] == 1
                fields = {
                    name
                    for name, came_from in origins.get(source_id, {}).items()
                    if came_from - {share_id} or not unique_link
                }
                if fields:
                    pushes.append((link_id, share_id, source_id, target_id, fields))
        if not pushes:
            drop_stale_proposals(changed_fields)
            return
        shares = TagShare.objects.in_bulk({push[1] for push in pushes})
        ids = {pid for push in pushes for pid in push[2:4]}
        # Locked in id order, so two drainers touching the same profiles cannot deadlock, and a
        # concurrent local write waits rather than being overwritten by a decision made on
        # values it has already replaced.
        synced = {name for share in shares.values() for name in share.synced_fields}
        people = people_for_update(ids, fields=synced)
        # Review items after profiles, as reviews_apply does: the same lock order, no deadlock.
        drop_stale_proposals(changed_fields)
        plan = _Plan()
        for link_id, share_id, source_id, target_id, fields in pushes:
            source, target = people.get(source_id), people.get(target_id)
            if source is not None and target is not None:
                plan.consider(shares[share_id], link_id, source, target, fields)
        plan.execute()


@dataclass
class _Candidate:
    share: TagShare
    link_id: int
    target: Person
    name: str
    value: Any
    existing: Any
    version: Version


@dataclass
class _Plan:
    """What one batch will write (the newest candidate per target field) and propose."""

    writes: dict[tuple[int, str], _Candidate] = field(default_factory=dict)
    reviews: list[_Candidate] = field(default_factory=list)

    def consider(
        self, share: TagShare, link_id: int, source: Person, target: Person, changed: set[str]
    ) -> None:
        """SPEC §6 for each changed field, from one linked profile to the other."""
        for name in sorted(changed & share.synced_field_set):
            version = Version.from_json(source.field_versions.get(name))
            if version is None:
                continue
            current = Version.from_json(target.field_versions.get(name))
            if current is not None and version <= current:
                continue  # the target already has this write, or a newer one
            value, existing = values.read(source, name), values.read(target, name)
            candidate = _Candidate(share, link_id, target, name, value, existing, version)
            if (
                # The same value with a newer version is still written (a version-only write,
                # never a review item): otherwise the target keeps its older version, and an
                # older write arriving over its other links could win in a chain of three.
                values.same(value, existing)
                or values.is_blank(existing)
                or catalog.get(name).is_address
                or share.sync_option in (SyncOption.ACCEPT_ALL, SyncOption.BLANK_ONLY)
            ):
                key = (target.pk, name)
                best = self.writes.get(key)
                if best is None or version > best.version:
                    self.writes[key] = candidate
            else:
                self.reviews.append(candidate)

    def execute(self) -> None:
        groups: dict[tuple[int, int], dict[int, Write]] = {}
        for (target_id, name), c in self.writes.items():
            write = groups.setdefault((c.target.nation_id, c.share.pk), {}).setdefault(
                target_id, Write(c.target, {}, {})
            )
            write.changes[name] = c.value
            write.versions[name] = c.version
        nations = Nation.objects.in_bulk({nation_id for nation_id, _ in groups})
        refused: dict[tuple[int, int], list[str]] = {}
        for (nation_id, share_id), writes in groups.items():
            for item in people_bulk_update(
                nation=nations[nation_id],
                actor=Actor.share(share_id),
                writes=list(writes.values()),
                kind="sync",
            ):
                refused.setdefault((share_id, item.person_id), []).append(
                    f"{item.field} not synced: {item.message}"
                )
        proposals = [
            Proposal(
                c.share.pk,
                c.target.nation_id,
                c.target.pk,
                c.name,
                values.to_json(c.existing),
                values.to_json(c.value),
                c.version,
                Version.from_json(c.target.field_versions.get(c.name)),
            )
            for c in self.reviews
            # A proposal older than what this batch writes anyway would be stale at birth.
            if (w := self.writes.get((c.target.pk, c.name))) is None or c.version > w.version
        ]
        reviews_propose(proposals)
        if refused:
            _note_refusals(refused, self.writes.values())


def _note_refusals(refused: dict[tuple[int, int], list[str]], candidates: Any) -> None:
    """An email or ID another profile of the target nation holds is not synced: say so on the
    link (as the initial sync does) instead of failing the batch over and over."""
    reasons: dict[int, list[str]] = {}
    for c in candidates:
        notes = refused.get((c.share.pk, c.target.pk))
        if notes:
            reasons[c.link_id] = notes
    links = [
        ShareLink(pk=link_id, reason=link_reason(sorted(set(notes))))
        for link_id, notes in reasons.items()
    ]
    for link in links:
        logger.warning("link %s: %s", link.pk, link.reason)
    ShareLink.objects.bulk_update(links, ["reason"])  # one statement, however many links


def drop_stale_proposals(fields_by_person: dict[int, set[str]]) -> None:
    """A pending proposal no longer newer than its profile's value is dropped as stale (§6.2)."""
    from django.utils import timezone

    from tagshare.sharing.models import ReviewItem, ReviewStatus

    pending = list(
        ReviewItem.objects.filter(
            status=ReviewStatus.PENDING, person_id__in=many_ids(fields_by_person)
        ).values_list("pk", "person_id", "field", "proposed_version")
    )
    if not pending:
        return  # the usual case: a separate read of versions only when there is something to check
    versions = dict(
        Person.objects.filter(pk__in=many_ids({row[1] for row in pending})).values_list(
            "pk", "field_versions"
        )
    )
    stale = []
    for pk, person_id, name, proposed_json in pending:
        if name not in fields_by_person[person_id]:
            continue
        current = Version.from_json((versions.get(person_id) or {}).get(name))
        proposed = Version.from_json(proposed_json)
        if current is not None and proposed is not None and proposed <= current:
            stale.append(pk)
    if stale:
        ReviewItem.objects.filter(pk__in=stale).update(
            status=ReviewStatus.STALE, decided_at=timezone.now()
        )


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
        linked = list(tagged)
        if share.sync_data and share.accepted_create_profiles:
            linked += create_missing(share)
        tag_linked(share, person_ids=linked)  # not an anti-join over the whole share
        if share.sync_data:
            reconcile_matched(share)


def on_tag_removed(events: Sequence[OutboxEvent]) -> None:
    """The sender untags a profile: the shared tag leaves the linked profile, the link ends."""
    from tagshare.sharing.webhook_events import end_links

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
            if link.receiver_person is not None:
                take_shared_tag_off(share, link.receiver_person)
        end_links(links, reason="tag_removed")


def take_shared_tag_off(share: TagShare, person: Person) -> bool:
    """The shared tag leaves a receiving profile (its sender profile was untagged or deleted);
    False when it was not on (a replayed event)."""
    from tagshare.tags.services import tag_remove

    if share.receiver_tag is None:
        return False
    return tag_remove(
        nation=share.receiver,
        actor=Actor.share(share.pk),
        person=person,
        name=share.receiver_tag.name,
    )


def on_person_deleted(events: Sequence[OutboxEvent]) -> None:
    """A linked profile was deleted.

    A receiving one: its links lost their profile with the deletion; they end. A sending one:
    its links went with it, and the event lists them; the shared tag leaves those receiving
    profiles, as when the sender untags (SPEC §7), and integrators hear of the unlink.
    """
    from tagshare.sharing.webhook_events import end_links, unlinked_event

    end_links(
        ShareLink.objects.filter(state__in=LINKED_STATES, receiver_person__isnull=True),
        reason="profile_deleted",
    )
    sent = [
        (int(share_id), event.person_id or 0, int(receiver_id))
        for event in events
        for share_id, receiver_id in event.payload.get("sent_links", [])
    ]
    shares = TagShare.objects.filter(
        pk__in={row[0] for row in sent}, status=ShareStatus.APPROVED
    ).select_related("receiver", "receiver_tag")
    by_id = {share.pk: share for share in shares}
    receivers = Person.objects.in_bulk({row[2] for row in sent})
    unlinked = []
    for row in sent:
        share, person = by_id.get(row[0]), receivers.get(row[2])
        if share is None or person is None:
            continue  # the share stopped, or the receiving profile went too
        if ShareLink.objects.filter(
            share=share, receiver_person_id=person.pk, state__in=LINKED_STATES
        ).exists():
            continue  # linked again meanwhile (a merge, a new match): the tag stays
        if take_shared_tag_off(share, person):  # reported once: a replay finds it gone
            unlinked.append(row)
    unlinked_event(unlinked, reason="profile_deleted")


def register_handlers() -> None:
    from tagshare.outbox import drain

    for kind in (EventKind.PERSON_CREATED, EventKind.PERSON_UPDATED, EventKind.PERSON_MERGED):
        drain.register(kind, on_person_changed)
    drain.register(EventKind.TAG_APPLIED, on_tag_applied)
    drain.register(EventKind.TAG_REMOVED, on_tag_removed)
    drain.register(EventKind.PERSON_DELETED, on_person_deleted)
