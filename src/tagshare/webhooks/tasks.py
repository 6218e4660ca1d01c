"""Celery task for webhooks: beat runs it every few seconds; safe on any number of workers."""

from __future__ import annotations

from celery import shared_task

from tagshare.webhooks.deliver import deliver_until_idle


@shared_task(name="tagshare.webhooks.tasks.deliver_webhooks", ignore_result=True)
def deliver_webhooks() -> int:
    return deliver_until_idle()
