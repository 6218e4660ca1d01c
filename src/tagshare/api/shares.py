"""`/shares`: create, accept, reject, stop, edit and re-request tag shares — thin over sharing."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from django.db.models import Count, Max
from django.http import HttpRequest
from ninja import Query, Router, Status
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import BaseModel, Field
from pydantic import ValidationError as PydanticValidationError

from tagshare.api.auth import caller
from tagshare.api.pagination import PageQuery, keyset_page
from tagshare.api.payload import read_json_object
from tagshare.api.schemas import (
    LinkStateName,
    ShareAcceptIn,
    ShareCreateIn,
    ShareLinksPage,
    ShareOut,
    SharesCreatedOut,
    ShareSettingsIn,
    SharesPage,
    ShareStatusName,
    request_body_doc,
    responses,
)
from tagshare.errors import Conflict
from tagshare.nations.actors import require_admin
from tagshare.nations.models import Nation
from tagshare.people import catalog
from tagshare.sharing import selectors, services
from tagshare.sharing.models import (
    LinkState,
    ReviewItem,
    ReviewStatus,
    ShareLink,
    ShareStatus,
    ShareSyncJob,
    TagShare,
)
from tagshare.sharing.reconcile import share_reconcile
from tagshare.tags.models import Tagging

logger = logging.getLogger("tagshare.api")
router = Router(tags=["shares"])

M = TypeVar("M", bound=BaseModel)
# The receiver's choices exist once it has accepted; a stopped share keeps the ones it ran with.
_DECIDED = (ShareStatus.APPROVED, ShareStatus.STOPPED)


class SharesQuery(PageQuery):
    direction: Literal["outgoing", "incoming"] | None = Field(
        None,
        description="`outgoing` (this nation sends) or `incoming` (it receives); both if left out.",
    )
    status: ShareStatusName | None = Field(None, description="Only shares with this status.")


class LinksQuery(PageQuery):
    state: LinkStateName | None = Field(None, description="Only pairs in this state.")


@dataclass
class _Status:
    """What a share's JSON shows beyond its own row: counts, taggings, the latest job."""

    links: dict[str, int] = field(default_factory=dict)
    unreviewed: int = 0
    taggings: int = 0
    job: ShareSyncJob | None = None


def share_statuses(shares: Sequence[TagShare], *, viewer: Nation) -> dict[int, _Status]:
    """SPEC §5.4 for many shares in a fixed number of queries (a page of the list, or one)."""
    ids = [s.pk for s in shares]
    found = {pk: _Status() for pk in ids}
    if not ids:
        return found
    links = ShareLink.objects.filter(share_id__in=ids).values("share_id", "state")
    for row in links.annotate(n=Count("id")):
        found[row["share_id"]].links[row["state"]] = row["n"]
    # Each nation decides only about its own data, so `unreviewed` is the viewer's queue.
    reviews = ReviewItem.objects.filter(
        share_id__in=ids, nation=viewer, status=ReviewStatus.PENDING
    ).values("share_id")
    for queued in reviews.annotate(n=Count("id")):
        found[queued["share_id"]].unreviewed = queued["n"]
    by_tag = {s.receiver_tag_id: s.pk for s in shares if s.receiver_tag_id is not None}
    if by_tag:
        taggings = Tagging.objects.filter(tag_id__in=list(by_tag)).values("tag_id")
        for tagged in taggings.annotate(n=Count("id")):
            found[by_tag[tagged["tag_id"]]].taggings = tagged["n"]
    latest = (
        ShareSyncJob.objects.filter(share_id__in=ids).values("share_id").annotate(last=Max("id"))
    )
    for job in ShareSyncJob.objects.filter(pk__in=[row["last"] for row in latest]):
        found[job.share_id].job = job
    return found


def share_json(share: TagShare, *, viewer: Nation, status: _Status) -> dict[str, Any]:
    decided = share.status in _DECIDED
    stopped = share.status == ShareStatus.STOPPED
    job = status.job
    return {
        "id": share.pk,
        "direction": "outgoing" if share.sender_id == viewer.pk else "incoming",
        "tag": share.tag.name,
        # The receiver's tag as it is actually named, once it exists.
        "shared_tag": share.receiver_tag.name if share.receiver_tag else share.shared_tag_name,
        "sender": share.sender.slug,
        "receiver": share.receiver.slug,
        "status": share.status,
        "sync_data": share.sync_data,
        "optional_fields": list(share.optional_fields or []),
        "always_synced_count": len(catalog.ALWAYS_SYNCED),
        "create_profiles": share.create_profiles,
        "sync_option": (share.sync_option or None) if decided else None,
        "accepted_create_profiles": share.accepted_create_profiles if decided else None,
        "as_prospects": share.as_prospects if decided else None,
        "counts": {
            "matched": status.links.get(LinkState.MATCHED, 0),
            "synced": status.links.get(LinkState.SYNCED, 0),
            "not_found": status.links.get(LinkState.NOT_FOUND, 0),
            "ambiguous": status.links.get(LinkState.AMBIGUOUS, 0),
            "unreviewed": status.unreviewed,
        },
        "taggings_count": status.taggings,
        "job": None
        if job is None
        else {
            "kind": job.kind,
            "status": job.status,
            "phase": job.phase,
            "done": job.done,
            "total": job.total,
            "detail": job.detail,
            "started_at": job.started_at,
            "finished_at": job.finished_at,
        },
        "requested_at": share.requested_at,
        "decided_at": share.decided_at,
        # A re-requested share is no longer stopped: its last stop is history, not status.
        "stopped_at": share.stopped_at if stopped else None,
        "stopped_side": (share.stopped_side or None) if stopped else None,
    }


def _one(share: TagShare, viewer: Nation) -> dict[str, Any]:
    return share_json(share, viewer=viewer, status=share_statuses([share], viewer=viewer)[share.pk])


def _many(shares: Sequence[TagShare], viewer: Nation) -> list[dict[str, Any]]:
    statuses = share_statuses(shares, viewer=viewer)
    return [share_json(s, viewer=viewer, status=statuses[s.pk]) for s in shares]


def _body(request: HttpRequest, model: type[M], *, optional: bool = False) -> M:
    """The JSON body as `model`, read after the share was found (a missing share is a 404 first).

    Errors answer exactly like a body ninja validated itself.
    """
    if optional and not request.body.strip():
        return model()
    data = read_json_object(request)
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        errors = [{**e, "loc": ("body", "payload", *e["loc"])} for e in exc.errors()]
        raise NinjaValidationError(errors) from None


def _optional_body_doc(model: type[BaseModel]) -> dict[str, Any]:
    doc = request_body_doc(model)
    doc["requestBody"]["required"] = False
    return doc


@router.get("", response=responses({200: SharesPage}, 400, 422), summary="List shares")
def shares_index(request: HttpRequest, query: Query[SharesQuery]) -> dict[str, Any]:
    """The shares this nation sends or receives, oldest first; follow `next` for more."""
    c = caller(request)
    if query.direction == "outgoing":
        qs = selectors.shares_outgoing(c.nation)
    elif query.direction == "incoming":
        qs = selectors.shares_incoming(c.nation)
    else:
        qs = selectors.shares_outgoing(c.nation) | selectors.shares_incoming(c.nation)
    if query.status:
        qs = qs.filter(status=query.status)
    rows, next_page = keyset_page(request, qs.select_related("receiver_tag"), page=query)
    return {"results": _many(rows, c.nation), "next": next_page}


@router.post(
    "",
    response=responses({201: SharesCreatedOut}, 400, 403, 404, 409, 422),
    summary="Share a tag with other nations (admins)",
)
def shares_create(request: HttpRequest, payload: ShareCreateIn) -> Status[dict[str, Any]]:
    """One share per receiving nation, all or none; each receiver's admins are notified.

    Refused: a non-admin or a leader-plan nation (403), an unknown tag (404), an unknown or own
    slug, a tag shared in by another nation, a field that is not optional (422), a tag already
    shared (pending or approved) with one of the nations (409).
    """
    c = caller(request)
    shares = services.share_create(
        nation=c.nation,
        actor=c.actor,
        tag_name=payload.tag,
        nations=payload.nations,
        sync_data=payload.sync_data,
        optional_fields=payload.optional_fields,
        create_profiles=payload.create_profiles,
    )
    return Status(201, {"results": _many(shares, c.nation)})


@router.get("/{share_id}", response=responses({200: ShareOut}, 404, 422), summary="A share")
def shares_show(request: HttpRequest, share_id: int) -> dict[str, Any]:
    """Settings, the receiver's choices, status counts and the latest sync job's progress."""
    c = caller(request)
    return _one(services.access_share_by_id(c.nation, share_id), c.nation)


@router.patch(
    "/{share_id}",
    response=responses({200: ShareOut}, 400, 403, 404, 409, 422),
    openapi_extra=request_body_doc(ShareSettingsIn),
    summary="Edit a stopped share's settings (sender admins)",
)
def shares_update(request: HttpRequest, share_id: int) -> dict[str, Any]:
    """Settings change only while stopped (409 otherwise), so the receiver approves what it gets.

    To edit and ask again in one action, use POST /shares/{id}/request with the new settings.
    """
    c = caller(request)
    share = services.access_share_by_id(c.nation, share_id)
    changes = _body(request, ShareSettingsIn).model_dump(exclude_none=True)
    services.share_update(nation=c.nation, actor=c.actor, share=share, changes=changes)
    return _one(share, c.nation)


@router.post(
    "/{share_id}/accept",
    response=responses({200: ShareOut}, 400, 403, 404, 409, 422),
    openapi_extra=_optional_body_doc(ShareAcceptIn),
    summary="Accept a pending share (receiver admins)",
)
def shares_accept(request: HttpRequest, share_id: int) -> dict[str, Any]:
    """Runs the initial sync before answering: the counts show its result, `job` its record.

    A share without data sync can be accepted with no body at all.
    """
    c = caller(request)
    share = services.access_share_by_id(c.nation, share_id)
    choice = _body(request, ShareAcceptIn, optional=True)
    services.share_accept(
        nation=c.nation,
        actor=c.actor,
        share=share,
        sync_option=choice.sync_option,
        create_profiles=choice.create_profiles,
        as_prospects=choice.as_prospects,
    )
    return _one(share, c.nation)


@router.post(
    "/{share_id}/reject",
    response=responses({200: ShareOut}, 403, 404, 409, 422),
    summary="Reject a pending share (receiver admins)",
)
def shares_reject(request: HttpRequest, share_id: int) -> dict[str, Any]:
    c = caller(request)
    share = services.access_share_by_id(c.nation, share_id)
    services.share_reject(nation=c.nation, actor=c.actor, share=share)
    return _one(share, c.nation)


@router.post(
    "/{share_id}/stop",
    response=responses({200: ShareOut}, 403, 404, 409, 422),
    summary="Stop an approved share (either side's admins)",
)
def shares_stop(request: HttpRequest, share_id: int) -> dict[str, Any]:
    """The shared tag leaves every receiving profile and the links end; synced data stays."""
    c = caller(request)
    share = services.access_share_by_id(c.nation, share_id)
    services.share_stop(nation=c.nation, actor=c.actor, share=share)
    return _one(share, c.nation)


@router.post(
    "/{share_id}/request",
    response=responses({200: ShareOut}, 400, 403, 404, 409, 422),
    openapi_extra=_optional_body_doc(ShareSettingsIn),
    summary="Edit and re-request a stopped share (sender admins)",
)
def shares_request(request: HttpRequest, share_id: int) -> dict[str, Any]:
    """One action, so nothing typed is lost: the new settings (optional) apply and the share is
    `pending` again; the receiver's admins are notified and choose again."""
    c = caller(request)
    share = services.access_share_by_id(c.nation, share_id)
    changes = _body(request, ShareSettingsIn, optional=True).model_dump(exclude_none=True)
    services.share_update(
        nation=c.nation, actor=c.actor, share=share, changes=changes, request=True
    )
    return _one(share, c.nation)


@router.post(
    "/{share_id}/reconcile",
    response=responses({200: ShareOut}, 403, 404, 409, 422),
    summary="Reconcile an approved share now (either side's admins)",
)
def shares_reconcile(request: HttpRequest, share_id: int) -> dict[str, Any]:
    """What the daily run does (SPEC §7), now: match tagged profiles still not found, recreate
    deleted ones where the share creates profiles, re-check ambiguous ones, repair what a missed
    event left behind. Values that differed before the share began are never re-decided.

    Runs before answering: `job` is this run, `done` or `failed` with its `detail`; the counts
    show the result. Only an approved share can be reconciled (409 otherwise).
    """
    c = caller(request)
    share = services.access_share_by_id(c.nation, share_id)
    require_admin(c.actor, c.nation, "reconcile tag shares")
    if share.status != ShareStatus.APPROVED:
        raise Conflict(f"This share is {share.status}; only an approved share can be reconciled.")
    try:
        share_reconcile(share)
    except Exception:
        # As with accepting: the job row records the failure for both nations to see, and the
        # daily run tries again.
        logger.exception("reconciliation of share %s failed", share.pk)
    return _one(share, c.nation)


@router.get(
    "/{share_id}/links",
    response=responses({200: ShareLinksPage}, 400, 404, 422),
    summary="The share's pairs of profiles",
)
def shares_links(request: HttpRequest, share_id: int, query: Query[LinksQuery]) -> dict[str, Any]:
    """One row per tagged sender profile: both person ids (each nation sees both), the state,
    the matching rule, and for ambiguous pairs the reason and the candidates."""
    c = caller(request)
    share = services.access_share_by_id(c.nation, share_id)
    rows, next_page = keyset_page(
        request, selectors.share_links(share, state=query.state), page=query
    )
    results = [
        {
            "sender_person_id": link.sender_person_id,
            "receiver_person_id": link.receiver_person_id,
            "state": link.state,
            "rule": link.rule,
            "reason": link.reason,
            "candidates": [int(pk) for pk in link.candidates or []],
        }
        for link in rows
    ]
    return {"results": results, "next": next_page}
