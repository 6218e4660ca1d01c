"""The Celery tasks are thin wrappers over the drainer and the reconciliation."""

from tagshare.outbox.models import OutboxEvent
from tagshare.outbox.tasks import drain_outbox
from tagshare.sharing.tasks import reconcile_share, reconcile_shares


def test_drain_task_processes_pending_events(nation, make_person):
    make_person(nation, first_name="A")
    assert OutboxEvent.objects.filter(processed_at__isnull=True).count() == 1
    assert drain_outbox.apply().get() == 1
    assert not OutboxEvent.objects.filter(processed_at__isnull=True).exists()


def test_reconcile_tasks_skip_what_is_gone(db):
    assert reconcile_shares.apply().get() == 0
    reconcile_share.apply(args=(123456,)).get()  # no such share: returns quietly


def test_the_celery_app_loads_with_its_schedule():
    from tagshare.celery import app

    assert {"drain-outbox", "reconcile-shares"} <= set(app.conf.beat_schedule)
