"""Notifications for a nation's admins about shares (SPEC §5.2)."""

from __future__ import annotations

from django.db.models import QuerySet

from tagshare.nations.models import Nation
from tagshare.sharing.models import Notification, TagShare
from tagshare.sharing.webhook_events import SHARE_EVENTS, share_event


def notify(*, nation: Nation, share: TagShare | None, kind: str, message: str) -> Notification:
    """Tell the nation's admins; a share's request and decisions also go out as webhooks."""
    note = Notification.objects.create(nation=nation, share=share, kind=kind, message=message)
    if share is not None and kind in SHARE_EVENTS:
        share_event(share, kind)
    return note


def notifications_for(nation: Nation, *, unread_only: bool = False) -> QuerySet[Notification]:
    qs = Notification.objects.filter(nation=nation)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.order_by("-id")


def notifications_mark_read(*, nation: Nation, ids: list[int] | None = None) -> int:
    from django.utils import timezone

    qs = Notification.objects.filter(nation=nation, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())
