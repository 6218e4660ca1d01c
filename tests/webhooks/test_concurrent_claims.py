"""Two workers never take the same delivery: a row one is claiming is skipped by the other."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from tagshare.webhooks.deliver import deliver_due
from tagshare.webhooks.models import WebhookDelivery
from tagshare.webhooks.services import webhook_enqueue

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="claims skip locked rows with FOR UPDATE SKIP LOCKED, which is PostgreSQL's; SQLite "
    "serialises writers, so a second worker waits for the first one's claim to commit",
)


def test_a_delivery_locked_by_another_worker_is_skipped_not_waited_for(
    transactional_db, nation, hook, inbox
):
    hook(nation)
    for n in range(2):
        with transaction.atomic():
            webhook_enqueue(nation.pk, "share.accepted", {"n": n})
    first = WebhookDelivery.objects.order_by("id").first()
    assert first is not None
    locked, release = threading.Event(), threading.Event()

    def other_worker_mid_claim() -> None:
        try:
            with transaction.atomic():
                list(WebhookDelivery.objects.select_for_update().filter(pk=first.pk))
                locked.set()
                release.wait(30)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_worker_mid_claim)
    thread.start()
    try:
        assert locked.wait(30)
        now = timezone.now()
        assert deliver_due(now=now) == 1  # returns at once with the free one
        assert [r.json["data"] for r in inbox.received] == [{"n": 1}]
    finally:
        release.set()
        thread.join(30)
    assert deliver_due(now=now) == 1
    assert [r.json["data"] for r in inbox.received] == [{"n": 1}, {"n": 0}]
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}
