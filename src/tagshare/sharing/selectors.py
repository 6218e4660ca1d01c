"""Reads for shares: lists per side, status counts (SPEC §5.4), links, review queues."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from tagshare.nations.models import Nation
from tagshare.sharing.models import (
    LinkState,
    ReviewItem,
    ReviewStatus,
    ShareLink,
    ShareSyncJob,
    TagShare,
)
from tagshare.tags.models import Tagging


def shares_outgoing(nation: Nation) -> QuerySet[TagShare]:
    return (
        TagShare.objects.filter(sender=nation)
        .select_related("tag", "receiver", "sender")
        .order_by("-id")
    )


def shares_incoming(nation: Nation) -> QuerySet[TagShare]:
    return (
        TagShare.objects.filter(receiver=nation)
        .select_related("tag", "receiver", "sender")
        .order_by("-id")
    )


def share_counts(share: TagShare, *, viewer: Nation | None = None) -> dict[str, int]:
    """matched, synced, not_found, ambiguous (links), and unreviewed review items.

    `unreviewed` counts the viewer's own queue when a viewer is given (each nation decides only
    about its own data), else both sides'.
    """
    by_state = dict(
        ShareLink.objects.filter(share=share)
        .values_list("state")
        .annotate(n=Count("id"))
        .values_list("state", "n")
    )
    reviews = ReviewItem.objects.filter(share=share, status=ReviewStatus.PENDING)
    if viewer is not None:
        reviews = reviews.filter(nation=viewer)
    return {
        "matched": by_state.get(LinkState.MATCHED, 0),
        "synced": by_state.get(LinkState.SYNCED, 0),
        "not_found": by_state.get(LinkState.NOT_FOUND, 0),
        "ambiguous": by_state.get(LinkState.AMBIGUOUS, 0),
        "unreviewed": reviews.count(),
    }


def share_taggings_count(share: TagShare) -> int:
    if share.receiver_tag_id is None:
        return 0
    return Tagging.objects.filter(tag_id=share.receiver_tag_id).count()


def share_links(share: TagShare, *, state: str | None = None) -> QuerySet[ShareLink]:
    qs = ShareLink.objects.filter(share=share)
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("id")


def share_latest_job(share: TagShare) -> ShareSyncJob | None:
    return ShareSyncJob.objects.filter(share=share).order_by("-id").first()


def pending_share_count(nation: Nation) -> int:
    return TagShare.objects.filter(receiver=nation, status="pending").count()


def reviews_for(nation: Nation, *, share: TagShare | None = None) -> QuerySet[ReviewItem]:
    qs = ReviewItem.objects.filter(nation=nation, status=ReviewStatus.PENDING)
    if share is not None:
        qs = qs.filter(share=share)
    return qs.order_by("person_id", "field")
