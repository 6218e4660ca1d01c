"""Celery tasks for shares: thin wrappers that re-read state and call one service."""

from __future__ import annotations

from celery import shared_task

from tagshare.sharing.models import ShareStatus, TagShare
from tagshare.sharing.reconcile import reconcile_due, share_reconcile


@shared_task(name="tagshare.sharing.tasks.reconcile_shares", ignore_result=True)
def reconcile_shares() -> int:
    return reconcile_due()


@shared_task(name="tagshare.sharing.tasks.reconcile_share", ignore_result=True)
def reconcile_share(share_id: int) -> None:
    share = TagShare.objects.filter(pk=share_id, status=ShareStatus.APPROVED).first()
    if share is not None:  # gone or stopped since it was queued: nothing to do
        share_reconcile(share)
