"""The life of a tag share (SPEC §5.1, §5.2, §7): create, accept, reject, stop, edit, re-request.

Every action is admin-only and checks the nation's plan here, in the service, whatever calls it.
`pending → approved | denied`, `approved → stopped` (either side), `stopped → pending` when the
sender edits and re-requests in one action.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from tagshare.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from tagshare.nations.actors import Actor, require_admin
from tagshare.nations.models import Nation
from tagshare.outbox import services as outbox
from tagshare.outbox.models import EventKind, OutboxEvent
from tagshare.people import catalog
from tagshare.people.models import Person
from tagshare.sharing.models import (
    ACTIVE_STATUSES,
    LINKED_STATES,
    LinkState,
    ShareLink,
    ShareStatus,
    Side,
    SyncOption,
    TagShare,
)
from tagshare.sharing.notifications import notify
from tagshare.sharing.webhook_events import end_links
from tagshare.tags.models import Tag, Tagging
from tagshare.tags.services import MAX_TAG_LENGTH, shared_name_room

logger = logging.getLogger(__name__)


def _clean_settings(
    sync_data: bool, optional_fields: Iterable[str] | None, create_profiles: bool
) -> list[str]:
    chosen = list(dict.fromkeys(optional_fields or []))
    unknown = [name for name in chosen if name not in catalog.OPTIONAL]
    if unknown:
        always = [n for n in unknown if n in catalog.ALWAYS_SYNCED]
        hint = f" ({', '.join(always)} always sync)" if always else ""
        raise ValidationFailed(
            f"Not optional fields: {', '.join(unknown)}{hint}. Choose from GET /api/v1/fields "
            "where sync is 'optional'.",
            errors={"optional_fields": ", ".join(unknown)},
        )
    if chosen and not sync_data:
        raise ValidationFailed("Optional fields sync only when the share syncs data (sync_data).")
    if create_profiles and not sync_data:
        raise ValidationFailed(
            "create_profiles needs sync_data: new profiles are made from the synced fields."
        )
    return chosen


def share_create(
    *,
    nation: Nation,
    actor: Actor,
    tag_name: str,
    nations: str | Iterable[str],
    sync_data: bool = False,
    optional_fields: Iterable[str] | None = None,
    create_profiles: bool = False,
) -> list[TagShare]:
    """One share per receiving nation; all or none are created."""
    require_admin(actor, nation, "share tags")
    if not nation.can("create_shares"):
        raise NotAllowed(
            f"Nations on the {nation.plan} plan can accept tag shares but not create them; "
            "an organization, enterprise or network plan can."
        )
    tag = Tag.objects.filter(nation=nation, name=" ".join(str(tag_name).split())).first()
    if tag is None:
        raise NotFound(f"No tag named {tag_name!r} in this nation.")
    if tag.is_shared_in:
        raise ValidationFailed(
            f"{tag.name!r} is shared with you by another nation; a nation can share only its own tags."
        )
    _check_shared_name_fits(nation.slug, tag.name)
    chosen = _clean_settings(sync_data, optional_fields, create_profiles)
    slugs = _parse_slugs(nations)
    receivers: list[Nation] = []
    for slug in slugs:
        if slug == nation.slug:
            raise ValidationFailed("You cannot share a tag with your own nation; remove your slug.")
        receiver = Nation.objects.filter(slug=slug).first()
        if receiver is None:
            raise ValidationFailed(
                f"No nation with slug {slug!r}; check the spelling.", errors={"nations": slug}
            )
        receivers.append(receiver)
    now = timezone.now()
    shares = []
    try:
        with transaction.atomic():
            for receiver in receivers:
                if TagShare.objects.filter(
                    tag=tag, receiver=receiver, status__in=ACTIVE_STATUSES
                ).exists():
                    raise Conflict(
                        f"{tag.name!r} is already shared with {receiver.slug} (pending or approved)."
                    )
                share = TagShare.objects.create(
                    sender=nation,
                    tag=tag,
                    receiver=receiver,
                    sync_data=sync_data,
                    optional_fields=chosen,
                    create_profiles=create_profiles,
                    requested_by=actor.user,
                    requested_at=now,
                )
                _notify_requested(share)
                shares.append(share)
    except IntegrityError:
        raise Conflict(f"{tag.name!r} is already shared with one of these nations.") from None
    return shares


def _check_shared_name_fits(sender_slug: str, tag_name: str) -> None:
    """The receiving nation's copy is named `<sender slug>:<tag>` (SPEC §3), and a tag name has
    at most MAX_TAG_LENGTH characters: a share whose copy could not be stored is refused here,
    not left pending for an accept that must fail."""
    longest = shared_name_room(sender_slug)
    if len(tag_name) > longest:
        raise ValidationFailed(
            f"The tag's name is too long to share: receiving nations name it "
            f"'{sender_slug}:<tag>', which must fit in {MAX_TAG_LENGTH} characters. Rename the "
            f"tag to at most {longest} characters, then share it."
        )


def _parse_slugs(nations: str | Iterable[str]) -> list[str]:
    raw = nations.split(",") if isinstance(nations, str) else list(nations)
    slugs = list(dict.fromkeys(s.strip().lower() for s in raw if s and s.strip()))
    if not slugs:
        raise ValidationFailed("Enter one or more receiving nation slugs, separated by commas.")
    return slugs


def _notify_requested(share: TagShare) -> None:
    what = "with profile data sync" if share.sync_data else "(tag only)"
    notify(
        nation=share.receiver,
        share=share,
        kind="share.requested",
        message=f"{share.sender.name} wants to share the tag {share.shared_tag_name} {what}. "
        "Accept or reject it under People > Tags > Shared.",
    )


def access_share_by_id(nation: Nation, share_id: int | str) -> TagShare:
    """A share this nation sends or receives; any other answers like a missing one."""
    try:
        pk = int(share_id)
    except (TypeError, ValueError):
        raise NotFound(f"Share {share_id!r} not found.") from None
    share = (
        TagShare.objects.select_related("sender", "receiver", "tag", "receiver_tag")
        .filter(pk=pk)
        .first()
        if 0 < pk < 2**63
        else None
    )
    if share is None or nation.pk not in (share.sender_id, share.receiver_id):
        raise NotFound(f"Share {share_id} not found.")
    return share


def share_accept(
    *,
    nation: Nation,
    actor: Actor,
    share: TagShare,
    sync_option: str | None = None,
    create_profiles: bool = False,
    as_prospects: bool = True,
    run_initial_sync: bool = True,
) -> TagShare:
    require_admin(actor, nation, "accept tag shares")
    _check_receiver(share, nation)
    if not nation.can("accept_shares"):
        raise NotAllowed(f"Nations on the {nation.plan} plan cannot accept tag shares.")
    if share.status != ShareStatus.PENDING:
        raise Conflict(f"This share is {share.status}; only a pending share can be accepted.")
    option = (sync_option or "").strip()
    if share.sync_data:
        if option not in SyncOption.values:
            raise ValidationFailed(
                "This share syncs profile data: choose how, with sync_option review (always review "
                "each change), accept_all (accept all changes) or blank_only (accept only for blank "
                "fields).",
                errors={"sync_option": "required"},
            )
    elif option:
        raise ValidationFailed("This share does not sync data, so it takes no sync_option.")
    if create_profiles and not share.create_profiles:
        raise ValidationFailed(
            "The sending nation does not offer to create profiles in this share.",
            errors={"create_profiles": "not offered"},
        )
    with transaction.atomic():
        _lock(share, ShareStatus.PENDING, "accepted")
        share.receiver_tag = _receiver_tag(share)
        share.status = ShareStatus.APPROVED
        share.sync_option = option
        share.accepted_create_profiles = bool(create_profiles)
        share.as_prospects = bool(as_prospects) if create_profiles else True
        share.decided_by, share.decided_at = actor.user, timezone.now()
        share.save()
        notify(
            nation=share.sender,
            share=share,
            kind="share.accepted",
            message=f"{share.receiver.name} accepted your share of {share.tag.name}.",
        )
    if run_initial_sync:
        from tagshare.sharing.initial_sync import share_initial_sync

        try:
            share_initial_sync(share)
        except Exception:
            # The share is accepted either way; its job row says the sync failed, and the next
            # run (reconciliation, or accepting code calling it again) resumes where it stopped.
            logger.exception("initial sync of share %s failed", share.pk)
    return share


def _lock(share: TagShare, expected: str, action: str) -> None:
    """Re-read the status under a row lock: two admins deciding at once cannot both win."""
    current = TagShare.objects.select_for_update().values_list("status", flat=True).get(pk=share.pk)
    if current != expected:
        raise Conflict(f"This share is {current}; only a {expected} share can be {action}.")


def _receiver_tag(share: TagShare) -> Tag:
    name = share.shared_tag_name
    tag = Tag.objects.filter(nation=share.receiver, name=name).first()
    if tag is None:
        return Tag.objects.create(
            nation=share.receiver, name=name, shared_from=share.sender, source_tag=share.tag
        )
    if tag.shared_from_id != share.sender_id:
        raise Conflict(f"The receiving nation already has a tag named {name!r} of its own.")
    return tag


def share_reject(*, nation: Nation, actor: Actor, share: TagShare) -> TagShare:
    require_admin(actor, nation, "reject tag shares")
    _check_receiver(share, nation)
    if share.status != ShareStatus.PENDING:
        raise Conflict(f"This share is {share.status}; only a pending share can be rejected.")
    with transaction.atomic():
        _lock(share, ShareStatus.PENDING, "rejected")
        share.status = ShareStatus.DENIED
        share.decided_by, share.decided_at = actor.user, timezone.now()
        share.save()
        notify(
            nation=share.sender,
            share=share,
            kind="share.rejected",
            message=f"{share.receiver.name} rejected your share of {share.tag.name}.",
        )
    return share


def share_stop(*, nation: Nation, actor: Actor, share: TagShare) -> TagShare:
    """Either side stops: the shared tag leaves every receiving profile, links end, data stays."""
    require_admin(actor, nation, "stop tag shares")
    side = _side_of(share, nation)
    if share.status != ShareStatus.APPROVED:
        raise Conflict(f"This share is {share.status}; only an approved share can be stopped.")
    with transaction.atomic():
        _lock(share, ShareStatus.APPROVED, "stopped")
        _untag_all(share)
        end_links(
            ShareLink.objects.filter(share=share).exclude(state=LinkState.ENDED),
            reason="share_stopped",
            updated_at=timezone.now(),
        )
        from tagshare.sharing.models import ReviewItem, ReviewStatus

        ReviewItem.objects.filter(share=share, status=ReviewStatus.PENDING).update(
            status=ReviewStatus.STALE, decided_at=timezone.now()
        )
        share.status = ShareStatus.STOPPED
        share.stopped_by, share.stopped_at, share.stopped_side = actor.user, timezone.now(), side
        share.save()
        other = share.sender if side == Side.RECEIVER else share.receiver
        notify(
            nation=other,
            share=share,
            kind="share.stopped",
            message=f"{nation.name} stopped the share of {share.shared_tag_name}.",
        )
    return share


def _untag_all(share: TagShare) -> None:
    """Take the receiver's shared tag off every profile, with one outbox event per tagging."""
    if share.receiver_tag_id is None:
        return
    taggings = Tagging.objects.filter(tag_id=share.receiver_tag_id)
    person_ids = list(taggings.values_list("person_id", flat=True))
    # As for any tagging change, updated_at moves so that `updated_since` polling sees it.
    Person.objects.filter(taggings__tag_id=share.receiver_tag_id).update(updated_at=timezone.now())
    taggings.delete()
    outbox.emit_many(
        OutboxEvent(
            nation_id=share.receiver_id,
            kind=EventKind.TAG_REMOVED,
            person_id=pid,
            payload={
                "tag_id": share.receiver_tag_id,
                "tag": share.shared_tag_name,
                "source": "share",
                "share_id": share.pk,
            },
        )
        for pid in person_ids
    )


def share_update(
    *,
    nation: Nation,
    actor: Actor,
    share: TagShare,
    changes: dict[str, Any],
    request: bool = False,
) -> TagShare:
    """The sender edits its settings while stopped and, with `request`, asks again in one action."""
    require_admin(actor, nation, "edit tag shares")
    if share.sender_id != nation.pk:
        if share.receiver_id == nation.pk:
            raise NotAllowed("Only the sending nation can edit or re-request a share.")
        raise NotFound(f"Share {share.pk} not found.")
    if share.status != ShareStatus.STOPPED:
        raise Conflict(
            f"This share is {share.status}; settings can change only while it is stopped, so the "
            "receiving nation always approves what it gets."
        )
    unknown = sorted(set(changes) - {"sync_data", "optional_fields", "create_profiles"})
    if unknown:
        raise ValidationFailed(f"Unknown share setting(s): {', '.join(unknown)}.")
    sync_data = bool(changes.get("sync_data", share.sync_data))
    create_profiles = bool(
        changes.get("create_profiles", share.create_profiles if sync_data else False)
    )
    optional = changes.get("optional_fields", share.optional_fields if sync_data else [])
    chosen = _clean_settings(sync_data, optional, create_profiles)
    with transaction.atomic():
        _lock(share, ShareStatus.STOPPED, "edited")
        share.sync_data, share.optional_fields, share.create_profiles = (
            sync_data,
            chosen,
            create_profiles,
        )
        if request:
            if (
                TagShare.objects.filter(
                    tag=share.tag, receiver=share.receiver, status__in=ACTIVE_STATUSES
                )
                .exclude(pk=share.pk)
                .exists()
            ):
                raise Conflict(
                    f"{share.tag.name!r} already has an active share with {share.receiver.slug}."
                )
            share.status = ShareStatus.PENDING
            share.sync_option, share.accepted_create_profiles, share.as_prospects = "", False, True
            share.requested_by, share.requested_at = actor.user, timezone.now()
            share.decided_by = share.decided_at = None
            share.save()
            _notify_requested(share)
        else:
            share.save()
    return share


def _check_receiver(share: TagShare, nation: Nation) -> None:
    if share.receiver_id != nation.pk:
        if share.sender_id == nation.pk:
            raise NotAllowed("Only the receiving nation can accept or reject a share.")
        raise NotFound(f"Share {share.pk} not found.")


def _side_of(share: TagShare, nation: Nation) -> str:
    if share.sender_id == nation.pk:
        return Side.SENDER
    if share.receiver_id == nation.pk:
        return Side.RECEIVER
    raise NotFound(f"Share {share.pk} not found.")


def linked_states() -> tuple[str, ...]:
    return tuple(LINKED_STATES)
