"""`/notifications`: what a nation's admins are told about shares (SPEC §5.2), and marking read."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router
from pydantic import Field

from tagshare.api.auth import caller
from tagshare.api.pagination import PageQuery, keyset_page
from tagshare.api.schemas import (
    NotificationsPage,
    NotificationsReadIn,
    NotificationsReadOut,
    responses,
)
from tagshare.nations.actors import require_admin
from tagshare.sharing.models import Notification
from tagshare.sharing.notifications import notifications_for, notifications_mark_read

router = Router(tags=["notifications"])


class NotificationsQuery(PageQuery):
    unread: bool = Field(False, description="true: only notifications not yet marked read.")


def notification_json(note: Notification) -> dict[str, Any]:
    return {
        "id": note.pk,
        "kind": note.kind,
        "message": note.message,
        "share": note.share_id,
        "created_at": note.created_at,
        "read_at": note.read_at,
    }


@router.get(
    "",
    response=responses({200: NotificationsPage}, 400, 403, 422),
    summary="This nation's notifications (admins)",
)
def notifications_index(request: HttpRequest, query: Query[NotificationsQuery]) -> dict[str, Any]:
    """Newest first; follow `next` for older ones. Shares are an admin's business, so staff get
    403."""
    c = caller(request)
    require_admin(c.actor, c.nation, "read the nation's notifications")
    qs = notifications_for(c.nation, unread_only=query.unread)
    rows, next_page = keyset_page(request, qs, page=query, newest_first=True)
    return {"results": [notification_json(n) for n in rows], "next": next_page}


@router.post(
    "/read",
    response=responses({200: NotificationsReadOut}, 400, 403, 422),
    summary="Mark notifications read (admins)",
)
def notifications_read(request: HttpRequest, payload: NotificationsReadIn) -> dict[str, Any]:
    """`{"ids": [...]}` marks those, `{}` marks all. Ids that are not this nation's unread
    notifications are passed over."""
    c = caller(request)
    require_admin(c.actor, c.nation, "mark the nation's notifications read")
    return {"marked": notifications_mark_read(nation=c.nation, ids=payload.ids)}
