"""Tags > View all: the nation's tags (All), the shares it sends (Outgoing), those sent to it (Shared)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from tagshare.nations.models import Nation
from tagshare.sharing import selectors as share_selectors
from tagshare.sharing.models import ReviewItem, ReviewStatus, ShareLink, ShareStatus, TagShare
from tagshare.tags import selectors
from tagshare.tags.models import Tagging
from tagshare.web.guards import PanelRequest, nation_of, panel_view

COUNT_STATES = ("matched", "synced", "not_found", "ambiguous")


@panel_view
@require_GET
def tags_list(request: PanelRequest) -> HttpResponse:
    nation = nation_of(request)
    tags = selectors.tags_list(nation).select_related("shared_from")
    can_share = request.user.is_nation_admin and nation.can("create_shares")
    return _render(request, nation, "all", {"tags": tags, "can_share": can_share})


@panel_view
@require_GET
def tags_outgoing(request: PanelRequest) -> HttpResponse:
    nation = nation_of(request)
    shares = list(share_selectors.shares_outgoing(nation))
    counts = _counts(shares, viewer=nation)
    rows = [{"share": s, "counts": counts[s.pk]} for s in shares]
    return _render(request, nation, "outgoing", {"rows": rows})


@panel_view
@require_GET
def tags_shared(request: PanelRequest) -> HttpResponse:
    nation = nation_of(request)
    shares = list(share_selectors.shares_incoming(nation))
    taggings = _taggings(s.receiver_tag_id for s in shares)
    is_admin = request.user.is_nation_admin
    rows = [
        {
            "share": s,
            "pending": s.status == ShareStatus.PENDING,
            # The blue link goes where the admin has something to do: the accept screen.
            "href": reverse(
                "web:share-accept" if is_admin and s.status == ShareStatus.PENDING else "web:share",
                args=[s.pk],
            ),
            "taggings": taggings.get(s.receiver_tag_id or 0, 0),
        }
        for s in shares
    ]
    return _render(request, nation, "shared", {"rows": rows})


def _render(
    request: PanelRequest, nation: Nation, tab: str, context: dict[str, Any]
) -> HttpResponse:
    context.update(
        {
            "section": "tags",
            "tab": tab,
            "pending_here": share_selectors.pending_share_count(nation),
            "is_admin": request.user.is_nation_admin,
        }
    )
    return render(request, "web/tags/list.html", context)


def _counts(shares: list[TagShare], *, viewer: Nation) -> dict[int, dict[str, int]]:
    """share_counts for a whole list in two grouped queries instead of two per share."""
    counts: dict[int, dict[str, int]] = defaultdict(
        lambda: dict.fromkeys((*COUNT_STATES, "unreviewed"), 0)
    )
    ids = [s.pk for s in shares]
    if not ids:
        return counts
    links = (
        ShareLink.objects.filter(share_id__in=ids, state__in=COUNT_STATES)
        .order_by()
        .values("share_id", "state")
        .annotate(n=Count("id"))
        .values_list("share_id", "state", "n")
    )
    for share_id, state, n in links:
        counts[share_id][state] = n
    reviews = (
        ReviewItem.objects.filter(share_id__in=ids, nation=viewer, status=ReviewStatus.PENDING)
        .order_by()
        .values("share_id")
        .annotate(n=Count("id"))
        .values_list("share_id", "n")
    )
    for share_id, n in reviews:
        counts[share_id]["unreviewed"] = n
    return counts


def _taggings(tag_ids: Iterable[int | None]) -> dict[int, int]:
    wanted = {pk for pk in tag_ids if pk}
    if not wanted:
        return {}
    return dict(
        Tagging.objects.filter(tag_id__in=wanted)
        .order_by()
        .values("tag_id")
        .annotate(n=Count("id"))
        .values_list("tag_id", "n")
    )
