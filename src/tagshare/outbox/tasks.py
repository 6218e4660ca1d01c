"""Celery tasks for the outbox: thin, idempotent, safe to run on any number of workers."""

from __future__ import annotations

from celery import shared_task

from tagshare.outbox.drain import drain_until_idle


@shared_task(name="tagshare.outbox.tasks.drain_outbox", ignore_result=True)
def drain_outbox() -> int:
    return drain_until_idle()
