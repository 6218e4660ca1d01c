"""The initial sync's reconciliation in parallel batches (PostgreSQL, outside a transaction).

These tests commit for real (`transaction=True`): the batches run on threads with their own
database connections, which cannot see a test's uncommitted rows.
"""

from __future__ import annotations

import threading

import pytest
from django.db import IntegrityError, connection

from tagshare.people.models import Person
from tagshare.people.selectors import person_history
from tagshare.sharing import initial_sync
from tagshare.sharing.models import JobStatus, LinkState, ShareLink
from tagshare.sharing.selectors import share_counts, share_latest_job

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="batches run in parallel only on PostgreSQL (SQLite has one writer at a time)",
    ),
]

PAIRS = 9


@pytest.fixture
def pairs(receiver, tagged, make_person):
    """Nine matching pairs: a blank to fill each way and a conflict accept_all settles."""
    for i in range(PAIRS):
        make_person(receiver, email1=f"p{i}@x.org", occupation=f"Job {i}", language="old")
        tagged(email1=f"p{i}@x.org", employer=f"Employer {i}", language=f"new {i}")


@pytest.fixture(params=["reconcile_set_based", "reconcile_links"])
def path(request, monkeypatch):
    """The function that takes the batches: the SQL path's, or (with it off) the Python one's."""
    monkeypatch.setattr(initial_sync, "SET_BASED", request.param == "reconcile_set_based")
    return request.param


def _assert_every_pair_reconciled_once(receiver, sender) -> None:
    for i in range(PAIRS):
        here = Person.objects.get(nation=receiver, email1=f"p{i}@x.org")
        there = Person.objects.get(nation=sender, email1=f"p{i}@x.org")
        assert (here.employer, here.language) == (f"Employer {i}", f"new {i}")
        assert there.occupation == f"Job {i}"
        assert len(person_history(receiver, here, field="employer")) == 1


def test_batches_run_on_two_threads_and_give_the_result_of_one(
    pairs, sender, receiver, share_and_accept, monkeypatch, path
):
    real = getattr(initial_sync, path)
    both_threads = threading.Barrier(2, timeout=20)
    seen: set[int] = set()

    def on_two_threads(share, links):
        if threading.get_ident() not in seen:
            seen.add(threading.get_ident())
            both_threads.wait()  # each thread's first batch waits for the other's
        return real(share, links)

    monkeypatch.setattr(initial_sync, path, on_two_threads)
    monkeypatch.setattr(initial_sync, "BATCH", 2)
    share = share_and_accept(sync_option="accept_all")
    assert len(seen) == 2
    assert share_latest_job(share).status == JobStatus.DONE
    assert share_counts(share)["synced"] == PAIRS
    _assert_every_pair_reconciled_once(receiver, sender)


def test_a_failed_batch_fails_the_job_and_a_rerun_finishes_it(
    pairs, sender, receiver, share_and_accept, monkeypatch, path
):
    real = getattr(initial_sync, path)
    calls = {"n": 0}
    counting = threading.Lock()

    def crash_on_third_batch(share, links):
        with counting:
            calls["n"] += 1
            n = calls["n"]
        if n == 3:
            raise RuntimeError("worker killed")
        return real(share, links)

    monkeypatch.setattr(initial_sync, path, crash_on_third_batch)
    monkeypatch.setattr(initial_sync, "BATCH", 2)
    share = share_and_accept(sync_option="accept_all")
    job = share_latest_job(share)
    assert job.status == JobStatus.FAILED and "worker killed" in job.detail
    assert 0 < share_counts(share)["matched"] < PAIRS
    monkeypatch.setattr(initial_sync, path, real)
    initial_sync.share_initial_sync(share, batch=2)
    assert share_counts(share)["synced"] == PAIRS
    assert ShareLink.objects.filter(share=share).count() == PAIRS
    _assert_every_pair_reconciled_once(receiver, sender)


def test_a_batch_that_loses_a_race_for_a_unique_value_runs_again(
    pairs, sender, receiver, share_and_accept, monkeypatch, path
):
    real = getattr(initial_sync, path)
    raced = {"done": False}

    def lose_one_race(share, links):
        if not raced["done"]:
            raced["done"] = True
            raise IntegrityError('duplicate key value violates unique constraint "email_unique"')
        return real(share, links)

    monkeypatch.setattr(initial_sync, path, lose_one_race)
    monkeypatch.setattr(initial_sync, "BATCH", 2)
    share = share_and_accept(sync_option="accept_all")
    assert raced["done"]
    assert share_latest_job(share).status == JobStatus.DONE
    assert not ShareLink.objects.filter(share=share).exclude(state=LinkState.SYNCED).exists()
    _assert_every_pair_reconciled_once(receiver, sender)
