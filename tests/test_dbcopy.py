"""The bulk paths' row store (dbcopy.py): ids taken ahead, and rows written by a second thread.

Both stores write in the background (COPY on PostgreSQL, multi-row INSERTs on SQLite): the rules
that keep it correct are that anything else on the connection waits for what is queued, and that
an error in a queued write reaches the caller.
"""

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from tagshare.dbcopy import (
    PostgresStore,
    QueuedWriteFailed,
    SQLiteStore,
    Table,
    store_for_connection,
)
from tagshare.people.models import Person
from tagshare.tags.models import Tag

TAGS = Table("tags_tag", ("nation_id", "name", "created_at"))

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's")


def _tag_rows(nation, *names):
    return [(nation.pk, name, timezone.now()) for name in names]


@pytest.mark.django_db(transaction=True)
def test_ids_taken_ahead_of_their_rows_never_overlap(nation):
    store = store_for_connection()
    with transaction.atomic():
        first = store.allocate_ids(Person, 3)
        second = store.allocate_ids(Person, 3)  # before any of `first` is inserted
    assert len(set(first) | set(second)) == 6
    assert max(first) < min(second)


@pytest.mark.django_db(transaction=True)
def test_ids_taken_by_a_store_are_never_given_to_a_plain_insert(nation):
    store = store_for_connection()
    with transaction.atomic():
        taken = store.allocate_ids(Tag, 50)
        store.insert(
            Table("tags_tag", ("id", *TAGS.columns)),
            [(taken[0], nation.pk, "first", timezone.now())],
        )
        later = Tag.objects.create(nation=nation, name="later")
    assert later.pk > max(taken)


def test_rows_sent_in_the_background_are_seen_by_the_next_query(nation):
    store = store_for_connection()
    with transaction.atomic(), store.in_background():
        store.insert(TAGS, _tag_rows(nation, *(f"t{i}" for i in range(5000))))
        # No explicit wait: the query itself waits for the queued COPY.
        assert Tag.objects.filter(nation=nation).count() == 5000


def test_another_stores_copy_goes_after_the_queued_rows(nation):
    store = store_for_connection()
    with transaction.atomic(), store.in_background():
        store.insert(TAGS, _tag_rows(nation, "queued"))
        store_for_connection().insert(TAGS, _tag_rows(nation, "direct"))
        names = list(
            Tag.objects.filter(nation=nation).order_by("id").values_list("name", flat=True)
        )
    assert names == ["queued", "direct"]


def test_an_error_in_a_background_copy_reaches_the_caller_and_nothing_stays(nation):
    store = store_for_connection()
    with pytest.raises(QueuedWriteFailed) as failed, transaction.atomic(), store.in_background():
        store.insert(TAGS, _tag_rows(nation, "same", "same"))
        store.insert(TAGS, _tag_rows(nation, "later"))  # queued after the failure: not sent
    assert isinstance(failed.value.__cause__, IntegrityError)
    assert not Tag.objects.filter(nation=nation).exists()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_another_threads_background_copy_is_none_of_this_threads_business(nation):
    # Connections are per thread: one thread's queued writes (and their failure) must not make
    # another thread wait or fail. The web server runs imports in request threads beside the
    # in-process sync worker.
    import threading

    started, release = threading.Event(), threading.Event()
    outcome: list[BaseException | None] = []

    def failing_import() -> None:
        store = PostgresStore()
        try:
            with transaction.atomic(), store.in_background():
                store.insert(TAGS, _tag_rows(nation, "same", "same"))
                started.set()
                release.wait(10)
        except BaseException as exc:
            outcome.append(exc)
        finally:
            connection.close()

    other = threading.Thread(target=failing_import)
    other.start()
    try:
        assert started.wait(10)
        with transaction.atomic():
            PostgresStore().insert(TAGS, _tag_rows(nation, "mine"))
        assert Tag.objects.filter(nation=nation, name="mine").exists()
    finally:
        release.set()
        other.join(10)
    assert isinstance(outcome[0], QueuedWriteFailed)


def test_the_callers_own_error_wins_over_a_queued_one(nation):
    store = store_for_connection()
    with pytest.raises(ValueError, match="caller"), transaction.atomic(), store.in_background():
        store.insert(TAGS, _tag_rows(nation, "same", "same"))
        raise ValueError("the caller's")
    assert not Tag.objects.filter(nation=nation).exists()


def test_prepared_rows_insert_like_plain_ones(nation):
    store = store_for_connection()
    with transaction.atomic():
        store.insert(TAGS, store.prepare(TAGS, _tag_rows(nation, "a", "b")))
        store.insert(TAGS, _tag_rows(nation, "c"))
    assert sorted(Tag.objects.filter(nation=nation).values_list("name", flat=True)) == [
        "a",
        "b",
        "c",
    ]
    assert isinstance(store, PostgresStore if connection.vendor == "postgresql" else SQLiteStore)


@postgres_only
def test_rows_are_formatted_as_the_connection_itself_formats_them(db):
    # Prepared rows are formatted without the connection (the other thread may be using it);
    # they must come out byte for byte as psycopg formats them for this connection.
    import datetime as dt
    import io

    from psycopg.copy import Copy, FileWriter

    rows = [
        ("plain", "", None, True, False, 0, 117703762619858944, -3),
        ("tab\\there\nnewline\rreturn back\\slash", "Zoë 北京 🙂", None, None, None, 1, 2, 3),
        (dt.date(1815, 12, 10), timezone.now(), '{"a": [1, "x\\ty"]}', "'quoted'", "%s", 4, 5, 6),
    ]
    connection.ensure_connection()
    expected = io.BytesIO()
    with (
        connection.connection.cursor() as cursor,
        Copy(cursor, writer=FileWriter(expected)) as copy,
    ):
        for row in rows:
            copy.write_row(row)
    assert PostgresStore().prepare(TAGS, rows).data == expected.getvalue()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SET CONSTRAINTS is PostgreSQL's")
def test_references_are_checked_as_rows_arrive_inside_and_at_commit_after(nation):
    from tagshare.dbcopy import references_checked_now
    from tagshare.people.models import PersonEmail

    def dangling():  # an email of a profile that does not exist
        PersonEmail.objects.create(
            nation=nation, person_id=10**9, slot="email1", address="nobody@example.org"
        )

    with transaction.atomic():
        with (
            references_checked_now(PersonEmail),
            pytest.raises(IntegrityError),
            transaction.atomic(),
        ):
            dangling()
        # Deferred again: the same row is accepted until commit, as Django's keys are.
        saved = transaction.savepoint()
        dangling()
        transaction.savepoint_rollback(saved)


def test_a_slow_server_holds_back_the_caller_not_its_memory():
    # The queue of formatted COPYs is bounded: a caller that formats faster than the server
    # stores waits for room instead of holding every batch of a million rows.
    import threading
    import time

    from tagshare import dbcopy

    release = threading.Event()

    class SlowServer:  # stands in for the raw connection: each COPY waits for `release`
        def cursor(self):
            return self

        def copy(self, sql):
            return self

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def write(self, data):
            release.wait(10)

    sender = dbcopy._BackgroundCopy(SlowServer())
    submitted: list[int] = []

    def submit_many():
        for number in range(dbcopy.QUEUED + 3):
            sender.submit("COPY t FROM STDIN", b"")
            submitted.append(number)

    caller = threading.Thread(target=submit_many, daemon=True)
    caller.start()
    try:
        deadline = time.monotonic() + 10
        while len(submitted) < dbcopy.QUEUED + 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)  # room for more, were the queue unbounded
        assert len(submitted) == dbcopy.QUEUED + 1  # one being stored, QUEUED waiting
    finally:
        release.set()
    caller.join(10)
    sender.close(raise_error=True)
    assert len(submitted) == dbcopy.QUEUED + 3


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the page cache setting is SQLite's")
def test_a_bulk_write_has_a_bigger_page_cache_and_gives_it_back(nation):
    from tagshare.dbcopy import BULK_CACHE_KIB, bulk_page_cache

    _assert_set_for_a_while("cache_size", -BULK_CACHE_KIB, bulk_page_cache)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="checkpoints are SQLite's")
def test_a_batch_by_batch_path_defers_checkpoints_and_sets_the_default_back(nation):
    from tagshare.dbcopy import BULK_WAL_PAGES, deferred_checkpoints

    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        assert cursor.fetchone()[0] < BULK_WAL_PAGES  # SQLite's default: 1,000
    _assert_set_for_a_while("wal_autocheckpoint", BULK_WAL_PAGES, deferred_checkpoints)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="temp_store is SQLite's")
@pytest.mark.django_db(transaction=True)
def test_batch_tables_live_in_memory_outside_a_transaction_and_the_default_comes_back():
    from tagshare.dbcopy import TEMP_STORE_MEMORY, temp_tables_in_memory

    _assert_set_for_a_while("temp_store", TEMP_STORE_MEMORY, temp_tables_in_memory)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE scratch (x INTEGER)")  # the temp database opens
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("INSERT INTO scratch VALUES (1)")
            # Inside a transaction the setting is left alone: switching would fail here.
            with temp_tables_in_memory():
                cursor.execute("PRAGMA temp_store")
                assert cursor.fetchone()[0] != TEMP_STORE_MEMORY
                cursor.execute("SELECT x FROM scratch")
                assert cursor.fetchall() == [(1,)]
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE scratch")


def _assert_set_for_a_while(pragma, value, settings):
    def current():
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA {pragma}")
            return cursor.fetchone()[0]

    before = current()
    with settings():
        assert current() == value
    assert current() == before
    with pytest.raises(RuntimeError), settings():
        raise RuntimeError("a failed bulk write")
    assert current() == before


@pytest.mark.parametrize("count", [1, 999, 1000, 1001, 2600])
def test_rows_of_many_statements_and_shapes_all_arrive_in_order(nation, count):
    # SQLite packs rows into statements of up to 1,000 (fewer when a row binds many columns);
    # every row must arrive once, in the order given (outbox events are read in id order),
    # each column not in its row's shape as its default.
    store = store_for_connection()
    now = store.adapt_datetime(timezone.now())
    earlier = store.adapt_datetime(timezone.now() - timezone.timedelta(days=1))
    defaults = (nation.pk, "", now)
    shaped = [(nation.pk, f"s{i:05d}", earlier if i % 3 else now) for i in range(count)]
    shapes = [(0, 1, 2) if i % 3 else (0, 1) for i in range(count)]
    plain = [(nation.pk, f"p{i:05d}", now) for i in range(count)]
    with transaction.atomic():
        store.insert(TAGS, store.prepare(TAGS, shaped, shapes=shapes, defaults=defaults))
        store.insert(TAGS, store.prepare(TAGS, plain))
    stored = list(Tag.objects.filter(nation=nation).order_by("id"))
    day_old = timezone.now() - timezone.timedelta(hours=1)
    assert [(t.name, t.created_at < day_old) for t in stored[:count]] == [
        (f"s{i:05d}", bool(i % 3)) for i in range(count)
    ]
    assert [t.name for t in stored[count:]] == [name for _, name, _ in plain]


def test_text_with_quotes_and_percent_signs_is_stored_as_given(nation):
    store = store_for_connection()
    odd = ["it's", "100%", "%s", "%%", "?", "tab\there", "new\nline", "Zoë 北京 🙂", "'); --"]
    defaults = (nation.pk, "50% 'off'", store.adapt_datetime(timezone.now()))
    rows = [(nation.pk, name, defaults[2]) for name in odd] + [defaults]
    shapes = [(0, 1, 2)] * len(odd) + [(0, 2)]
    with transaction.atomic():
        store.insert(TAGS, store.prepare(TAGS, rows, shapes=shapes, defaults=defaults))
    stored = set(Tag.objects.filter(nation=nation).values_list("name", flat=True))
    assert stored == {*odd, "50% 'off'"}
