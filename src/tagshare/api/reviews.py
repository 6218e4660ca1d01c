"""`/reviews`: this nation's queue of changes proposed over shares (SPEC §6.2), applied or skipped."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from ninja import Query, Router
from pydantic import Field

from tagshare.api.auth import Caller, caller
from tagshare.api.pagination import PageQuery, decode_cursor, next_url
from tagshare.api.schemas import (
    ReviewsAppliedOut,
    ReviewsDecideIn,
    ReviewsPage,
    ReviewsSkippedOut,
    responses,
)
from tagshare.errors import ValidationFailed
from tagshare.nations.actors import require_admin
from tagshare.people import values
from tagshare.people.selectors import access_person_by_id
from tagshare.sharing import reviews, selectors, services
from tagshare.sharing.models import ReviewItem

router = Router(tags=["reviews"])

_CHOOSE = (
    'Choose what to decide: {"ids": [...]} with review item ids from GET /reviews, or '
    '{"person_ids": [...]} for whole profiles.'
)


class ReviewsQuery(PageQuery):
    share: int | None = Field(None, description="Only proposals that came over this share.")
    person: int | None = Field(None, description="Only proposals for this profile.")


def review_json(item: ReviewItem) -> dict[str, Any]:
    share = item.share
    other = share.sender if item.nation_id == share.receiver_id else share.receiver
    return {
        "id": item.pk,
        "share": item.share_id,
        "person_id": item.person_id,
        "field": item.field,
        # The profile's value now, not when the proposal arrived: a later local write changed
        # what applying would replace.
        "current_value": values.to_json(values.read(item.person, item.field)),
        "proposed_value": item.proposed_value,
        "proposed_version": list(item.proposed_version),
        "status": item.status,
        "proposed_by": other.slug,
        "created_at": item.created_at,
    }


@router.get(
    "",
    response=responses({200: ReviewsPage}, 400, 403, 404, 422),
    summary="This nation's pending review items (admins)",
)
def reviews_index(request: HttpRequest, query: Query[ReviewsQuery]) -> dict[str, Any]:
    """Proposed changes to this nation's own profiles, grouped by profile (ordered by person id,
    then field); follow `next` for more. Each nation sees and decides only its own queue. A
    `share` or `person` that is not this nation's is a 404; staff get 403."""
    c = caller(request)
    require_admin(c.actor, c.nation, "review changes proposed over shares")
    share = services.access_share_by_id(c.nation, query.share) if query.share is not None else None
    qs = selectors.reviews_for(c.nation, share=share)
    if query.person is not None:
        qs = qs.filter(person=access_person_by_id(c.nation, query.person))
    if query.cursor:
        # (person, field) is unique among pending items, so it is a keyset on its own.
        person_id, field = decode_cursor(query.cursor, (int, str))
        qs = qs.filter(Q(person_id__gt=person_id) | Q(person_id=person_id, field__gt=field))
    page = qs.select_related("person", "share__sender", "share__receiver")
    rows = list(page[: query.limit + 1])
    next_page = None
    if len(rows) > query.limit:
        rows = rows[: query.limit]
        next_page = next_url(request, (rows[-1].person_id, rows[-1].field))
    return {"results": [review_json(item) for item in rows], "next": next_page}


def _selection(c: Caller, payload: ReviewsDecideIn, action: str) -> dict[str, list[int]]:
    require_admin(c.actor, c.nation, action)
    if payload.ids and payload.person_ids:
        raise ValidationFailed(
            "Send either ids or person_ids, not both: decide on items or on whole profiles.",
            errors={"person_ids": "not with ids"},
        )
    if payload.ids:
        return {"ids": payload.ids}
    if payload.person_ids:
        return {"person_ids": payload.person_ids}
    raise ValidationFailed(
        _CHOOSE, errors={"ids": "is required (or person_ids)", "person_ids": "or ids"}
    )


@router.post(
    "/apply",
    response=responses({200: ReviewsAppliedOut}, 400, 403, 422),
    summary="Apply proposed changes to this nation's profiles (admins)",
)
def reviews_apply(request: HttpRequest, payload: ReviewsDecideIn) -> dict[str, int]:
    """Writes each proposed value with its proposed version, so both nations then hold the same
    value. A proposal that is no longer newer than the profile's value is dropped (`stale`).

    Ids of another nation's items or profiles are simply not this nation's pending items: they
    are passed over and counted nowhere (each nation decides only about its own data)."""
    c = caller(request)
    selection = _selection(c, payload, "apply changes proposed over shares")
    return reviews.reviews_apply(nation=c.nation, actor=c.actor, **selection)


@router.post(
    "/skip",
    response=responses({200: ReviewsSkippedOut}, 400, 403, 422),
    summary="Skip proposed changes; the profiles keep their values (admins)",
)
def reviews_skip(request: HttpRequest, payload: ReviewsDecideIn) -> dict[str, int]:
    """Discards the proposals. Ids that are not this nation's pending items are passed over."""
    c = caller(request)
    selection = _selection(c, payload, "skip changes proposed over shares")
    return reviews.reviews_skip(nation=c.nation, actor=c.actor, **selection)
