"""The initial sync's reconciliation in parallel batches (PostgreSQL, outside a transaction).

These tests commit for real (`transaction=True`): the batches run on threads with their own
database connections, which cannot see a test's uncommitted rows.
"""

from __future__ import annotations

import threading

import pytest
from django.db import IntegrityError, connection, connections

from tagshare.matching.models import MatchIncoming, MatchResult, MatchRun
from tagshare.nations.actors import Actor
from tagshare.people.models import Person
from tagshare.people.selectors import person_history
from tagshare.people.services import person_update
from tagshare.sharing import initial_sync, set_reconcile
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


# --- a local write landing while a batch reconciles -------------------------------------------


def _commit_elsewhere(write) -> None:
    """Run `write` on a connection of its own and commit it, as another request would."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            write()
        except BaseException as exc:  # reported on the test's thread
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=20)
    assert not thread.is_alive(), "the other write waited on the batch: it should not have"
    assert not errors, errors


def _write_once(monkeypatch, method: str, write) -> dict[str, int]:
    """Before the first call of set_reconcile._Sql.`method`, commit `write` elsewhere."""
    real = getattr(set_reconcile._Sql, method)
    done = {"writes": 0}

    def first_write_then(self, *args, **kwargs):
        if not done["writes"]:
            done["writes"] = 1
            _commit_elsewhere(write)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(set_reconcile._Sql, method, first_write_then)
    return done


def test_a_receiving_profile_written_while_its_batch_reconciles_is_read_not_overwritten(
    pairs, sender, receiver, share_and_accept, monkeypatch
):
    """The batch read the pair, then someone filled a field both sides had blank on the
    receiving profile before the batch wrote it: the batch runs again on the new value, which
    reaches the sender at once (as it would have had the write come a moment sooner)."""
    monkeypatch.setattr(initial_sync, "BATCH", PAIRS)
    here = Person.objects.get(nation=receiver, email1="p0@x.org")

    def local_write() -> None:
        person_update(
            nation=receiver,
            actor=Actor.system(),
            person=here,
            changes={"website": "https://p0.org"},
        )

    done = _write_once(monkeypatch, "find_written", local_write)
    share = share_and_accept(sync_option="accept_all")
    assert done["writes"] == 1
    assert share_latest_job(share).status == JobStatus.DONE
    there = Person.objects.get(nation=sender, email1="p0@x.org")
    assert there.website == "https://p0.org"
    assert Person.objects.get(pk=here.pk).website == "https://p0.org"
    _assert_every_pair_reconciled_once(receiver, sender)


def test_a_sending_profile_written_while_its_batch_reconciles_is_carried_across(
    sender, receiver, tagged, make_person, share_and_accept, monkeypatch
):
    """A sender profile the batch only reads (nothing flows back to it) changes after the
    batch wrote its receiving profile, before the batch committed: the batch runs again and
    the receiving profile gets the new value, rather than the link turning synced on the old."""
    make_person(receiver, email1="ada@x.org")
    ada = tagged(email1="ada@x.org", employer="Analytical Engines")
    make_person(receiver, email1="bob@x.org")
    tagged(email1="bob@x.org", employer="Difference Engines")

    def local_write() -> None:
        person_update(
            nation=sender, actor=Actor.system(), person=ada, changes={"occupation": "Programmer"}
        )

    done = _write_once(monkeypatch, "lock_read_only", local_write)
    share = share_and_accept(sync_option="accept_all")
    assert done["writes"] == 1
    assert share_latest_job(share).status == JobStatus.DONE
    here = Person.objects.get(nation=receiver, email1="ada@x.org")
    assert (here.employer, here.occupation) == ("Analytical Engines", "Programmer")
    bob = Person.objects.get(nation=receiver, email1="bob@x.org")
    assert bob.employer == "Difference Engines"
    assert len(person_history(receiver, here, field="employer")) == 1


# --- matching a big share in two parts -------------------------------------------------------

TWICE = "several incoming profiles match this one profile"


@pytest.fixture
def duplicates_in_both_halves(receiver, tagged, make_person):
    """Four tagged sender profiles; the first and the last (one in each half of the ids) are
    the same person, who exists once in the receiving nation."""
    ada = {"first_name": "Ada", "last_name": "Lovelace", "birthdate": "1815-12-10"}
    make_person(receiver, **ada)
    make_person(receiver, email1="a@x.org")
    make_person(receiver, email1="b@x.org")
    return [
        tagged(**ada),
        tagged(email1="a@x.org"),
        tagged(email1="b@x.org"),
        tagged(**ada, mobile="+44 7700 900123"),
    ]


@pytest.mark.parametrize("parts", [True, False], ids=["two parts", "one run"])
def test_a_big_share_matched_in_two_parts_gives_the_result_of_one_run(
    duplicates_in_both_halves, receiver, share_and_accept, monkeypatch, parts
):
    first, second, third, last = duplicates_in_both_halves
    ada = Person.objects.get(nation=receiver, first_name="Ada")
    real = initial_sync._stage
    both_threads = threading.Barrier(2, timeout=20)
    staged: list[tuple[int | None, int | None]] = []

    def on_two_threads(share, run, **kwargs):
        if "id_range" in kwargs:
            staged.append(kwargs["id_range"])
            both_threads.wait()  # each part waits for the other: they run side by side
        return real(share, run, **kwargs)

    monkeypatch.setattr(initial_sync, "_stage", on_two_threads)
    monkeypatch.setattr(initial_sync, "PARTS_FROM", 4 if parts else 5)
    share = share_and_accept(sync_option="accept_all")
    assert set(staged) == ({(None, third.pk), (third.pk, None)} if parts else set())
    links = {link.sender_person_id: link for link in ShareLink.objects.filter(share=share)}
    # The duplicates were in different parts; the last rule still saw both.
    for duplicate in (first, last):
        link = links[duplicate.pk]
        assert (link.state, link.reason, link.candidates) == (LinkState.AMBIGUOUS, TWICE, [ada.pk])
        assert link.receiver_person_id is None
    assert links[second.pk].state == links[third.pk].state == LinkState.SYNCED
    assert share_latest_job(share).status == JobStatus.DONE
    assert not MatchRun.objects.exists() and not MatchResult.objects.exists()


def test_a_part_that_fails_fails_the_job_and_leaves_no_link_and_no_staged_row(
    duplicates_in_both_halves, share_and_accept, monkeypatch
):
    from tagshare.matching import engine

    real = engine.run_cascade

    def fail_the_second_part(run, **kwargs):
        real(run, **kwargs)
        if MatchRun.objects.count() == 2 and run.pk == max(
            MatchRun.objects.values_list("pk", flat=True)
        ):
            raise RuntimeError("part killed")

    monkeypatch.setattr(engine, "run_cascade", fail_the_second_part)
    monkeypatch.setattr(initial_sync, "PARTS_FROM", 4)
    share = share_and_accept(sync_option="accept_all")
    job = share_latest_job(share)
    assert job.status == JobStatus.FAILED and "part killed" in job.detail
    assert not ShareLink.objects.filter(share=share).exists()
    assert not MatchRun.objects.exists() and not MatchIncoming.objects.exists()
    monkeypatch.setattr(engine, "run_cascade", real)
    initial_sync.share_initial_sync(share)
    assert ShareLink.objects.filter(share=share, state=LinkState.SYNCED).count() == 2
    assert ShareLink.objects.filter(share=share, state=LinkState.AMBIGUOUS).count() == 2


def _wal_compression() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW wal_compression")
        return str(cursor.fetchone()[0])


def test_the_sync_compresses_its_log_and_leaves_the_connection_as_it_was(
    pairs, share_and_accept, monkeypatch
):
    """The job writes its page images to the WAL compressed (dbcopy.compressed_wal) and
    gives the connection back with the server's setting, for whatever runs on it next."""
    if _wal_compression() != "off":
        pytest.skip("this server compresses its WAL already")
    during: list[str] = []
    real = initial_sync.tag_linked

    def tag_linked(share, **kwargs):
        during.append(_wal_compression())
        return real(share, **kwargs)

    monkeypatch.setattr(initial_sync, "tag_linked", tag_linked)
    share = share_and_accept(sync_option="accept_all")
    assert share_latest_job(share).status == JobStatus.DONE
    assert during == ["lz4"]
    assert _wal_compression() == "off"
