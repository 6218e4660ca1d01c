"""Celery wiring (composition root): many workers on many machines drain the same outbox.

Run `celery -A tagshare worker` on as many machines as needed (PostgreSQL's SKIP LOCKED keeps
them from taking the same events) and one `celery -A tagshare beat` for the schedule. Without
a broker (`CELERY_BROKER_URL` unset) none of this is used: `tagshare serve` drains in-process.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tagshare.settings")

app = Celery("tagshare")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(
    ["tagshare.outbox", "tagshare.sharing", "tagshare.webhooks", "tagshare.imports"]
)
app.conf.beat_schedule = {
    # A safety net: commits wake a drain at once; this catches anything a lost wake-up missed.
    "drain-outbox": {"task": "tagshare.outbox.tasks.drain_outbox", "schedule": 5.0},
    # Each share is reconciled when its last run is a day old (SPEC §7: at least daily).
    "reconcile-shares": {"task": "tagshare.sharing.tasks.reconcile_shares", "schedule": 600.0},
    # Webhook deliveries that are due: new ones, and retries whose backoff has run out.
    "deliver-webhooks": {"task": "tagshare.webhooks.tasks.deliver_webhooks", "schedule": 5.0},
}
