"""Sending: signed JSON over real HTTP, retries with backoff, giving up, leases, the workers."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import socket

import pytest
from django.db import transaction
from django.utils import timezone

from tagshare.nations.actors import Actor
from tagshare.outbox.drain import Worker
from tagshare.sharing.services import share_create
from tagshare.tags.services import tag_get_or_create
from tagshare.webhooks import deliver, signing
from tagshare.webhooks.deliver import BACKOFF, LEASE, MAX_ATTEMPTS, deliver_due
from tagshare.webhooks.models import DeliveryStatus, WebhookDelivery
from tagshare.webhooks.services import webhook_enqueue

pytestmark = pytest.mark.django_db


def _enqueue(nation, event_type="share.accepted", **data):
    with transaction.atomic():
        return webhook_enqueue(nation.pk, event_type, data or {"share": {"id": 1}})


def test_a_delivery_is_signed_json_that_verifies_with_the_secret_only(nation, hook, inbox):
    endpoint = hook(nation)
    assert _enqueue(nation, note="hello") == 1
    now = timezone.now()
    assert deliver_due(now=now) == 1

    [got] = inbox.at("/alpha")
    delivery = WebhookDelivery.objects.get()
    assert got.headers["Tagshare-Event"] == "share.accepted"
    assert got.headers["Tagshare-Delivery"] == str(delivery.pk)
    assert got.headers["Content-Type"] == "application/json"
    assert got.json == {
        "id": delivery.pk,
        "type": "share.accepted",
        "created_at": delivery.created_at.isoformat(),
        "nation": "alpha",
        "data": {"note": "hello"},
    }
    # What docs/webhooks.md tells receivers to do, written out independently of our helper.
    stamp, _, sig = got.headers["Tagshare-Signature"].partition(",")
    t = stamp.removeprefix("t=")
    assert t == str(int(now.timestamp()))
    expected = hmac.new(endpoint.secret.encode(), f"{t}.".encode() + got.body, hashlib.sha256)
    assert sig == f"v1={expected.hexdigest()}"
    header = got.headers["Tagshare-Signature"]
    assert signing.verify(endpoint.secret, header, got.body, now=now.timestamp())
    assert not signing.verify(signing.new_secret(), header, got.body, now=now.timestamp())
    assert not signing.verify(endpoint.secret, header, got.body + b" ", now=now.timestamp())
    # A captured request replayed ten minutes later is refused by its timestamp.
    assert not signing.verify(endpoint.secret, header, got.body, now=now.timestamp() + 600)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    assert delivery.delivered_at == now
    assert deliver_due(now=now + dt.timedelta(days=1)) == 0  # delivered once, never again


def test_a_change_that_rolls_back_sends_nothing(nation, other_nation, hook, inbox):
    hook(other_nation)
    tag_get_or_create(nation=nation, actor=Actor.system(), name="climate")
    with pytest.raises(RuntimeError), transaction.atomic():
        share_create(nation=nation, actor=Actor.system(), tag_name="climate", nations="beta")
        assert WebhookDelivery.objects.count() == 1  # queued with the change...
        raise RuntimeError("the request failed after the share was written")
    assert WebhookDelivery.objects.count() == 0  # ...and gone with it
    assert deliver_due(now=timezone.now() + dt.timedelta(hours=1)) == 0
    assert inbox.received == []


def test_enqueuing_outside_a_transaction_is_refused(nation, hook, monkeypatch):
    hook(nation)

    class NotInTransaction:
        in_atomic_block = False

    monkeypatch.setattr(transaction, "get_connection", lambda: NotInTransaction())
    with pytest.raises(RuntimeError, match="inside the transaction"):
        webhook_enqueue(nation.pk, "share.accepted", {})


def test_a_500_is_retried_after_the_backoff_then_delivered(nation, hook, inbox):
    hook(nation)
    _enqueue(nation)
    inbox.answer(500)
    t0 = timezone.now()
    assert deliver_due(now=t0) == 1
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    assert delivery.next_attempt_at == t0 + BACKOFF[0] == t0 + dt.timedelta(seconds=30)
    assert "500" in delivery.last_error

    assert deliver_due(now=t0 + dt.timedelta(seconds=29)) == 0  # not yet
    assert len(inbox.at("/alpha")) == 1
    assert deliver_due(now=t0 + dt.timedelta(seconds=30)) == 1

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 2, 200)
    assert delivery.last_error == ""
    first, second = inbox.at("/alpha")
    # The same delivery id and body both times: receivers de-duplicate on them.
    assert first.headers["Tagshare-Delivery"] == second.headers["Tagshare-Delivery"]
    assert first.body == second.body


def test_it_gives_up_after_the_last_attempt(nation, hook, inbox):
    hook(nation)
    _enqueue(nation)
    inbox.answer(*[503] * 20)
    now = timezone.now()
    waits = []
    for _ in range(MAX_ATTEMPTS):
        assert deliver_due(now=now) == 1
        delivery = WebhookDelivery.objects.get()
        if delivery.status == DeliveryStatus.PENDING:
            waits.append(delivery.next_attempt_at - now)
            now = delivery.next_attempt_at
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == MAX_ATTEMPTS == 8
    assert waits == list(BACKOFF)
    assert waits[:4] == [
        dt.timedelta(seconds=30),
        dt.timedelta(minutes=2),
        dt.timedelta(minutes=10),
        dt.timedelta(hours=1),
    ]
    assert deliver_due(now=now + dt.timedelta(days=30)) == 0
    assert len(inbox.at("/alpha")) == MAX_ATTEMPTS


def test_a_network_error_is_retried_like_a_bad_answer(nation, hook, inbox):
    endpoint = hook(nation)
    with socket.socket() as probe:  # a port nothing listens on: the connection is refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint.url = f"http://127.0.0.1:{port}/gone"
    endpoint.save()
    _enqueue(nation)
    now = timezone.now()
    assert deliver_due(now=now) == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.last_status_code is None and "refused" in delivery.last_error.lower()
    assert delivery.next_attempt_at == now + BACKOFF[0]


def test_a_redirect_is_not_followed_and_counts_as_a_failure(nation, hook, inbox):
    hook(nation)
    _enqueue(nation)
    inbox.answer(307)
    assert deliver_due(now=timezone.now()) == 1
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.last_status_code) == ("pending", 307)
    assert len(inbox.received) == 1


def test_a_claim_left_by_a_dead_worker_is_sent_once_its_lease_runs_out(nation, hook, inbox):
    hook(nation)
    _enqueue(nation)
    now = timezone.now()
    [claimed] = deliver._claim(now, 10)  # the worker dies before sending
    assert deliver_due(now=now) == 0  # another worker does not take it meanwhile
    assert deliver_due(now=now + LEASE - dt.timedelta(seconds=1)) == 0
    assert deliver_due(now=now + LEASE) == 1
    delivery = WebhookDelivery.objects.get(pk=claimed.pk)
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    assert len(inbox.received) == 1


def test_many_due_deliveries_go_out_in_one_turn(nation, hook, inbox):
    hook(nation, suffix="/a")
    hook(nation, suffix="/b")
    for i in range(5):
        _enqueue(nation, n=i)
    assert deliver_due(now=timezone.now()) == 10
    assert len(inbox.at("/alpha/a")) == len(inbox.at("/alpha/b")) == 5
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}


def test_the_event_filter_is_respected(nation, hook, inbox):
    hook(nation, "share.stopped", suffix="/stops")
    hook(nation, suffix="/all")
    _enqueue(nation, "share.accepted")
    _enqueue(nation, "share.stopped")
    deliver_due(now=timezone.now())
    assert inbox.events("/alpha/stops") == ["share.stopped"]
    assert sorted(inbox.events("/alpha/all")) == ["share.accepted", "share.stopped"]


def test_another_nations_endpoints_get_nothing(nation, other_nation, hook, inbox):
    hook(other_nation)
    _enqueue(nation)
    assert deliver_due(now=timezone.now()) == 0
    assert inbox.received == []


def test_the_embedded_worker_sends_what_is_due_each_turn(nation, hook, inbox):
    hook(nation)
    _enqueue(nation)
    Worker().run(until_idle=True)  # as `tagshare serve` and `tagshare worker` run it
    assert inbox.events("/alpha") == ["share.accepted"]


def test_the_worker_command_sends_what_is_due(nation, hook, inbox):
    import io

    from django.core.management import call_command

    hook(nation)
    _enqueue(nation)
    call_command("worker", "--until-idle", stdout=io.StringIO())
    assert inbox.events("/alpha") == ["share.accepted"]


def test_the_celery_task_sends_what_is_due_and_beat_runs_it(nation, hook, inbox):
    from tagshare.celery import app
    from tagshare.webhooks.tasks import deliver_webhooks

    hook(nation)
    _enqueue(nation)
    assert deliver_webhooks.apply().get() == 1
    assert inbox.events("/alpha") == ["share.accepted"]
    schedule = app.conf.beat_schedule["deliver-webhooks"]
    assert schedule["task"] == deliver_webhooks.name
