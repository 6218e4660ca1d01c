"""What accepting a share does (SPEC §5.3): match, link, tag, create, reconcile — set-based.

Phases, each resumable: a crash and a re-run give the same result as one clean run.
1. Match every tagged sender profile not yet linked (the cascade of SPEC §4) and write links.
2. Create the profiles not found, when the receiver accepted that (carrying the sender's versions).
3. Put the shared tag on every linked receiving profile.
4. Reconcile the synced fields of each matched pair, batch by batch (fill blanks both ways,
   addresses overwrite, then accept_all / blank_only / review); a batch's links turn `synced` in
   the transaction that writes its values, so a restart picks up where it stopped.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from tagshare.dbcopy import (
    bulk_page_cache,
    compressed_wal,
    deferred_checkpoints,
    temp_tables_in_memory,
)
from tagshare.gcpause import collector_paused
from tagshare.idlists import inline_ids, many_ids
from tagshare.matching import engine
from tagshare.matching.models import (
    MatchIncoming,
    MatchIncomingEmail,
    MatchResult,
    MatchRun,
    MatchStatus,
)
from tagshare.nations.actors import Actor
from tagshare.outbox import services as outbox_services
from tagshare.outbox.hlc import Version
from tagshare.outbox.models import OutboxEvent
from tagshare.people import catalog, values
from tagshare.people.bulk import VERSIONS, people_bulk_create
from tagshare.people.bulk_update import Write, people_bulk_update, people_for_update
from tagshare.people.models import Person
from tagshare.sharing.models import (
    LINKED_STATES,
    JobStatus,
    LinkState,
    ShareLink,
    ShareSyncJob,
    SyncOption,
    TagShare,
    link_reason,
)
from tagshare.sharing.reviews import Proposal, reviews_propose
from tagshare.sharing.set_reconcile import reconcile_set_based
from tagshare.sharing.webhook_events import linked_event, unlinked_event
from tagshare.tags.models import Tagging

BATCH = 2000
logger = logging.getLogger(__name__)
Progress = Callable[[str, int, int], None]
LINK = ShareLink._meta.db_table
TAGGING = Tagging._meta.db_table
OUTBOX = OutboxEvent._meta.db_table
INC = MatchIncoming._meta.db_table
INC_EMAIL = MatchIncomingEmail._meta.db_table
RES = MatchResult._meta.db_table
# Constants, so inlined: neither sqlite3 nor psycopg 3 expands a tuple parameter for IN.
LINKED_SQL = "(" + ", ".join(f"'{state}'" for state in LINKED_STATES) + ")"


def share_initial_sync(
    share: TagShare, *, progress: Progress | None = None, batch: int | None = None
) -> ShareSyncJob:
    batch = batch or BATCH
    job = ShareSyncJob.objects.create(
        share=share, status=JobStatus.RUNNING, started_at=timezone.now()
    )
    report = progress or (lambda phase, done, total: None)

    def phase(name: str, done: int = 0, total: int = 0) -> None:
        ShareSyncJob.objects.filter(pk=job.pk).update(phase=name, done=done, total=total)
        report(name, done, total)

    try:
        with compressed_wal():
            phase("matching")
            match_and_link(share)
            if share.sync_data and share.accepted_create_profiles:
                phase("creating profiles")
                create_missing(share, batch=batch)
            phase("tagging")
            tag_linked(share)
            if share.sync_data:
                phase("reconciling")
                reconcile_matched(share, batch=batch, progress=phase)
    except Exception as exc:
        ShareSyncJob.objects.filter(pk=job.pk).update(
            status=JobStatus.FAILED, detail=str(exc)[:2000], finished_at=timezone.now()
        )
        raise
    ShareSyncJob.objects.filter(pk=job.pk).update(
        status=JobStatus.DONE, phase="", finished_at=timezone.now()
    )
    job.refresh_from_db()
    return job


# --- 1. matching and links -------------------------------------------------------------------


def match_and_link(share: TagShare, *, person_ids: list[int] | None = None) -> int:
    """Match tagged sender profiles (all, or those given) that have no live link yet."""
    halves = _halves(share) if person_ids is None else None
    if halves is None:
        with transaction.atomic():
            run = _new_run(share)
            _stage(share, run, person_ids=person_ids)
            engine.run_cascade(run)
            return _link(share, [run])
    runs = _match_in_parts(share, halves)
    try:
        with transaction.atomic():
            # The one rule that needs every part: two sender profiles, one receiving profile.
            engine.mark_claimed_twice(runs)
            return _link(share, runs)
    except BaseException:
        # The parts' rows are committed; _link's discarding rolled back with it.
        for run in runs:
            engine.run_discard(run)
        raise


# PostgreSQL, outside a caller's transaction: a share with at least this many tagged profiles is
# matched in two parts side by side, one per core (the cascade's statements each run on one).
PARTS_FROM = 50_000


def _halves(share: TagShare) -> list[tuple[int | None, int | None]] | None:
    """Two ranges of sender profile ids, with half the tagged profiles each — or None: match
    in one run."""
    if _threads() < 2:
        return None
    tagged = Tagging.objects.filter(tag_id=share.tag_id)
    count = tagged.count()
    if count < PARTS_FROM:
        return None
    middle = tagged.order_by("person_id").values_list("person_id", flat=True)[count // 2]
    return [(None, middle), (middle, None)]


def _new_run(share: TagShare) -> MatchRun:
    return engine.run_create(
        nation=share.receiver, id_fields=engine.default_id_fields(share.opt_in_ids)
    )


def _stage(
    share: TagShare,
    run: MatchRun,
    *,
    person_ids: list[int] | None = None,
    id_range: tuple[int | None, int | None] = (None, None),
) -> None:
    # Already linked (a resumed run, a daily reconciliation): not staged, not matched again.
    engine.stage_people(
        run,
        nation_id=share.sender_id,
        tag_id=share.tag_id,
        person_ids=person_ids,
        unless=(
            f"EXISTS (SELECT 1 FROM {LINK} l WHERE l.sender_person_id = p.id "
            f"AND l.share_id = %(share)s AND l.state IN {LINKED_SQL})",
            {"share": share.pk},
        ),
        id_range=id_range,
    )


def _match_in_parts(share: TagShare, parts: list[tuple[int | None, int | None]]) -> list[MatchRun]:
    """Stage and match each part on a thread and connection of its own, committed as it goes
    (the staging tables are scratch; nothing a user sees changes until _link). Every rule but
    the last is decided per incoming profile, so the parts give the one run's results."""
    runs: list[MatchRun | None] = [None] * len(parts)
    failures: list[BaseException] = []

    def part(at: int) -> None:
        try:
            run = runs[at] = _new_run(share)
            _stage(share, run, id_range=parts[at])
            engine.run_cascade(run, claims=False, atomic=False)
        except BaseException as exc:  # handed to the caller below
            failures.append(exc)
        finally:
            connection.close()  # this thread's own connection

    workers = [threading.Thread(target=part, args=(at,), daemon=True) for at in range(len(parts))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    done = [run for run in runs if run is not None]
    if failures:
        for run in done:
            engine.run_discard(run)
        raise failures[0]
    return done


def _link(share: TagShare, runs: list[MatchRun]) -> int:
    """Write the runs' outcomes as links (replacing any the share had for those profiles),
    tell integrators, and discard the runs; in the caller's transaction."""
    params = {"share": share.pk}
    in_runs = inline_ids(run.pk for run in runs)
    with connection.cursor() as cursor:
        # A receiving profile linked to another sender profile of this share: the sender
        # has duplicates (SPEC §4).
        cursor.execute(
            f"UPDATE {RES} SET status = 'ambiguous', "
            "reason = 'already linked to another profile of the sending nation' "
            f"WHERE run_id IN ({in_runs}) AND status = 'matched' AND person_id IN ("
            f"SELECT receiver_person_id FROM {LINK} WHERE share_id = %(share)s "
            f"AND state IN {LINKED_SQL})",
            params,
        )
        cursor.execute(
            f"DELETE FROM {LINK} WHERE share_id = %(share)s AND sender_person_id IN "
            f"(SELECT ref FROM {INC} WHERE run_id IN ({in_runs}))",
            params,
        )
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        matched_state = LinkState.MATCHED if share.sync_data else LinkState.SYNCED
        cursor.execute(
            f"INSERT INTO {LINK} (share_id, sender_person_id, receiver_person_id, state, rule, "
            "reason, candidates, created_at, updated_at) "
            f"SELECT %(share)s, i.ref, r.person_id, CASE r.status WHEN 'matched' THEN %(matched)s "
            "ELSE r.status END, r.rule, r.reason, '[]', %(now)s, %(now)s "
            f"FROM {RES} r JOIN {INC} i ON i.run_id = r.run_id AND i.seq = r.seq "
            f"WHERE r.run_id IN ({in_runs})",
            {**params, "matched": matched_state, "now": now},
        )
        matched = cursor.rowcount
        # Only the ambiguous outcomes are read back: their candidates are not in SQL form.
        # (One statement per link, sent together: a big share has a thousand or more.)
        jsonb = "::jsonb" if connection.vendor == "postgresql" else ""
        cursor.executemany(
            f"UPDATE {LINK} SET candidates = %s{jsonb}, receiver_person_id = NULL "
            "WHERE share_id = %s AND sender_person_id = %s",
            [
                (json.dumps(list(outcome.candidates)), share.pk, outcome.ref)
                for run in runs
                for outcome in engine.outcomes(run, status=MatchStatus.AMBIGUOUS)
            ],
        )
    linked_event(
        share,
        ShareLink.objects.filter(
            share=share,
            sender_person_id__in=MatchIncoming.objects.filter(run__in=runs).values("ref"),
        ),
    )
    for run in runs:
        engine.run_discard(run)
    return matched


# --- 2. new profiles -------------------------------------------------------------------------


def new_profile_status(share: TagShare, row: dict[str, Any]) -> tuple[bool, bool]:
    """(is_supporter, is_prospect) of a profile a share creates (SPEC §5.3)."""
    if share.as_prospects:
        return False, True
    if "support_level" in share.synced_fields and row.get("support_level"):
        return row["support_level"] in (1, 2), False
    reachable = (
        (any(row.get(f) for f in catalog.EMAIL_FIELDS) and row.get("email_opt_in") is not False)
        or (row.get("mobile") and row.get("mobile_opt_in") is not False)
        or (row.get("phone") and not row.get("do_not_call"))
    )
    return bool(reachable and not row.get("do_not_contact")), False


def create_missing(share: TagShare, *, batch: int = BATCH) -> list[int]:
    """Create the not-found profiles from the sender's synced fields, with their versions;
    returns the sender profiles now linked to a new profile.

    Per batch of links: one read of the sender profiles, one set-based check of the emails and
    IDs the receiving nation already holds, and one `people_bulk_create` (COPY on PostgreSQL).
    """
    fields = share.synced_fields
    actor = Actor.share(share.pk)
    created: list[int] = []
    after = 0  # keyset: the index (share, state, id) is read from here, past the done links
    while True:
        with collector_paused(), transaction.atomic():
            links = list(
                ShareLink.objects.select_for_update()
                .filter(share=share, state=LinkState.NOT_FOUND, id__gt=after)
                .select_related("sender_person")
                .order_by("id")[:batch]
            )
            if not links:
                return created
            after = links[-1].pk
            rows: list[dict[str, Any]] = []
            for link in links:
                sender = link.sender_person
                row = {f: values.read(sender, f) for f in fields}
                row = {f: v for f, v in row.items() if not values.is_blank(v)}
                supporter, prospect = new_profile_status(share, row)
                row[VERSIONS] = {
                    f: v
                    for f in row
                    if (v := Version.from_json(sender.field_versions.get(f))) is not None
                }
                row["is_supporter"], row["is_prospect"] = supporter, prospect
                rows.append(row)
            _drop_held_identities(share, rows)
            new_ids: dict[int, int] = {}  # row number -> the profile created from it
            people_bulk_create(
                nation=share.receiver, actor=actor, rows=rows, on_created=new_ids.update
            )
            now = timezone.now()
            for number, link in enumerate(links, start=1):
                link.receiver_person_id = new_ids[number]
                link.state = LinkState.SYNCED
                link.rule = "created"
                link.updated_at = now
            ShareLink.objects.bulk_update(links, ["receiver_person", "state", "rule", "updated_at"])
            linked_event(share, [(k.sender_person_id, k.receiver_person_id, k.rule) for k in links])
            created.extend(link.sender_person_id for link in links)


def _drop_held_identities(share: TagShare, rows: list[dict[str, Any]]) -> None:
    """Leave out emails and IDs another receiving profile already holds (they would clash):
    one query for the emails and one per unique ID in play, whatever the batch size.
    Conservative for state/county-qualified IDs: held in any state, left out."""
    from tagshare.people.models import PersonEmail

    wanted = {
        values.normalise_email(row[slot])
        for row in rows
        for slot in catalog.EMAIL_FIELDS
        if slot in row
    }
    held = set(
        PersonEmail.objects.filter(nation=share.receiver, address__in=wanted).values_list(
            "address", flat=True
        )
    )
    for row in rows:
        for slot in catalog.EMAIL_FIELDS:
            if slot in row and values.normalise_email(row[slot]) in held:
                row.pop(slot)
    for name in catalog.UNIQUE_IDS:
        ids = {row[name] for row in rows if name in row}
        if not ids:
            continue
        taken = set(
            Person.objects.filter(nation=share.receiver, **{f"{name}__in": ids}).values_list(
                name, flat=True
            )
        )
        for row in rows:
            if name in row and row[name] in taken:
                row.pop(name)


# --- 3. the shared tag -----------------------------------------------------------------------


def tag_linked(share: TagShare, *, person_ids: list[int] | None = None) -> int:
    """Put the receiver's shared tag on every linked profile that lacks it (one outbox event
    each) — or only on those linked to the sender profiles given (a tag just applied)."""
    if share.receiver_tag_id is None:
        return 0
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    payload = json.dumps(
        {
            "tag_id": share.receiver_tag_id,
            "tag": share.shared_tag_name,
            "source": "share",
            "share_id": share.pk,
        }
    )
    params = {
        "share": share.pk,
        "tag": share.receiver_tag_id,
        "now": now,
        "payload": payload,
        "nation": share.receiver_id,
    }
    # The receiving profile must still exist: links have no database constraint, and one
    # deleted while the share was matching is ended by reconciliation, not tagged.
    missing = (
        f"FROM {LINK} l WHERE l.share_id = %(share)s AND l.state IN {LINKED_SQL} "
        "AND l.receiver_person_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "
        f"{TAGGING} t WHERE t.tag_id = %(tag)s AND t.person_id = l.receiver_person_id) "
        f"AND EXISTS (SELECT 1 FROM {Person._meta.db_table} p WHERE p.id = l.receiver_person_id)"
    )
    if person_ids is not None:
        missing += f" AND l.sender_person_id IN ({inline_ids(person_ids)})"
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql" and person_ids is None:
            # Links and taggings may have grown since autovacuum last looked: fresh statistics
            # keep the planner from probing them row by row. (A handful of ids needs none.)
            cursor.execute(f"ANALYZE {LINK}, {TAGGING}")
        cursor.execute(
            f"INSERT INTO {OUTBOX} (nation_id, person_id, kind, payload, created_at, attempts) "
            f"SELECT %(nation)s, l.receiver_person_id, 'tag.applied', %(payload)s, %(now)s, 0 {missing}",
            params,
        )
        # A profile still to be reconciled is rewritten by that step anyway, which stamps its
        # updated_at then (reconcile_links): stamping it here too would write every matched
        # row of a big share twice.
        later = f" AND l.state <> '{LinkState.MATCHED.value}'" if share.sync_data else ""
        cursor.execute(
            f"UPDATE {Person._meta.db_table} SET updated_at = %(now)s WHERE id IN "
            f"(SELECT l.receiver_person_id {missing}{later})",
            params,
        )
        cursor.execute(
            f"INSERT INTO {TAGGING} (tag_id, person_id, created_at) "
            f"SELECT %(tag)s, l.receiver_person_id, %(now)s {missing}",
            params,
        )
        tagged = cursor.rowcount
        transaction.on_commit(outbox_services._wake)
    return tagged


# --- 4. reconciling fields -------------------------------------------------------------------


def reconcile_matched(
    share: TagShare, *, batch: int = BATCH, progress: Progress | None = None
) -> int:
    """Reconcile every `matched` link, a batch per transaction; returns the links done.

    On PostgreSQL, outside a caller's transaction, THREADS batches run at once on their own
    connections: while one waits on the database another compares values in Python. Batches
    hold disjoint profiles — a profile has one link per share — so they lock no profile in
    common. A batch that loses a race for an email or ID (with a user's edit, or another batch)
    is rolled back and run again, and then sees the value held and notes it on the link.
    """
    ids = list(
        ShareLink.objects.filter(share=share, state=LinkState.MATCHED)
        .order_by("id")
        .values_list("id", flat=True)
    )
    chunks: queue.SimpleQueue[list[int]] = queue.SimpleQueue()
    for start in range(0, len(ids), batch):
        chunks.put(ids[start : start + batch])
    threads = _threads()
    done = 0
    counting = threading.Lock()

    def work() -> None:
        nonlocal done
        while True:
            try:
                chunk = chunks.get_nowait()
            except queue.Empty:
                return
            count = _reconcile_chunk(share, chunk)
            with counting:
                done += count
                if progress:
                    progress("reconciling", done, len(ids))

    if threads == 1:
        # SQLite: the batches look up and rewrite profiles and index rows all over a big
        # database; with the default 2 MiB page cache each batch read them from the OS again.
        with bulk_page_cache(), deferred_checkpoints(), temp_tables_in_memory():
            work()
        return done
    failures: list[BaseException] = []

    def thread_main() -> None:
        try:
            with compressed_wal():
                work()
        except BaseException as exc:  # handed to the caller below, which fails the job
            failures.append(exc)
            while not chunks.empty():  # the other threads stop after their current batch
                try:
                    chunks.get_nowait()
                except queue.Empty:
                    break
        finally:
            connection.close()  # this thread's own connection

    workers = [threading.Thread(target=thread_main, daemon=True) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if failures:
        for extra in failures[1:]:  # the first is raised (and recorded on the job)
            logger.error("a reconcile thread of share %s also failed", share.pk, exc_info=extra)
        raise failures[0]
    return done


THREADS = 2
RETRIES = 3
# Pairs that need no Python rule are reconciled in SQL (set_reconcile.py); the others, and all
# of them with this off, by reconcile_links. The property test runs both and compares.
SET_BASED = True


def _threads() -> int:
    """One on SQLite (one writer at a time) and inside a caller's transaction (other
    connections could not see its rows); THREADS on PostgreSQL otherwise."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return 1
    return THREADS


def _reconcile_chunk(share: TagShare, ids: list[int]) -> int:
    for attempt in range(RETRIES):
        try:
            with collector_paused(), transaction.atomic(), connection.cursor() as cursor:
                # The batch's links are claimed (locked) by turning them `synced` first: what
                # the batch does to each pair commits with it or not at all. One write per link
                # rather than a lock and then a write (PostgreSQL writes a row lock to the row).
                # The Python path writes again the few links it ends or notes. Ids only: the
                # SQL path needs no link objects, and building 2,000 of them a batch was a
                # tenth of reconciling a big share.
                cursor.execute(
                    f"UPDATE {LINK} SET state = %s, updated_at = %s WHERE id IN "
                    f"({inline_ids(ids)}) AND state = '{LinkState.MATCHED.value}' RETURNING id",
                    [
                        LinkState.SYNCED.value,
                        connection.ops.adapt_datetimefield_value(timezone.now()),
                    ],
                )
                todo = sorted(link_id for (link_id,) in cursor.fetchall())
                count = len(todo)
                if todo and SET_BASED:
                    todo = reconcile_set_based(share, todo)
                if todo:
                    links = list(
                        ShareLink.objects.filter(pk__in=many_ids(todo))
                        .order_by("id")
                        # What reconcile_links reads: not the candidates document or the times.
                        .only("id", "sender_person_id", "receiver_person_id", "state", "reason")
                    )
                    reconcile_links(share, links)
                return count
        except (IntegrityError, OperationalError):
            # A unique email or ID written by someone else between our read and our write,
            # or a deadlock on one: run the batch again on what is now committed.
            if attempt == RETRIES - 1 or connection.in_atomic_block:
                raise
    raise AssertionError("unreachable")


def reconcile_links(share: TagShare, links: list[ShareLink]) -> None:
    """Field by field for each pair (SPEC §5.3); the links become `synced` in the same transaction."""
    stored = values.StoredColumns(share.synced_fields)
    ids = [pid for link in links for pid in (link.sender_person_id, link.receiver_person_id) if pid]
    # Locked (in id order, like the drainer) so a local write committed meanwhile is not
    # overwritten with the versions read here.
    people = people_for_update(ids, fields=share.synced_fields)
    to_receiver: list[Write] = []
    to_sender: list[Write] = []
    proposals: list[Proposal] = []
    ended: list[tuple[int, int, int | None]] = []
    orphans: list[int] = []  # links whose sender profile is gone: they go, as on_delete does
    for link in links:
        sender = people.get(link.sender_person_id)
        receiver = people.get(link.receiver_person_id) if link.receiver_person_id else None
        if sender is None or receiver is None:
            # Deleted while this share was matching (links have no database constraint):
            # end the link, and keep no id of a profile that no longer exists.
            link.state = LinkState.ENDED
            ended.append((share.pk, link.sender_person_id, link.receiver_person_id))
            if sender is None:
                orphans.append(link.pk)
            if receiver is None:
                link.receiver_person_id = None
            continue
        r_write = Write(receiver, {}, {})
        s_write = Write(sender, {}, {})
        for name in stored.differing(sender, receiver):
            sv, rv = values.read(sender, name), values.read(receiver, name)
            if values.same(sv, rv):
                continue
            s_ver = Version.from_json(sender.field_versions.get(name))
            r_ver = Version.from_json(receiver.field_versions.get(name))
            if values.is_blank(rv) or (catalog.get(name).is_address and not values.is_blank(sv)):
                _put(r_write, name, sv, s_ver)
            elif values.is_blank(sv):
                _put(s_write, name, rv, r_ver)
            elif share.sync_option == SyncOption.ACCEPT_ALL:
                _put(r_write, name, sv, s_ver)
            elif share.sync_option == SyncOption.REVIEW:
                proposals.append(
                    Proposal(
                        share.pk,
                        share.receiver_id,
                        receiver.pk,
                        name,
                        values.to_json(rv),
                        values.to_json(sv),
                        s_ver or Version(0, share.sender_id),
                        r_ver,
                    )
                )
                proposals.append(
                    Proposal(
                        share.pk,
                        share.sender_id,
                        sender.pk,
                        name,
                        values.to_json(sv),
                        values.to_json(rv),
                        r_ver or Version(0, share.receiver_id),
                        s_ver,
                    )
                )
            # blank_only: both keep their own value until one side writes.
        if r_write.changes:
            to_receiver.append(r_write)
        if s_write.changes:
            to_sender.append(s_write)
        link.state = LinkState.SYNCED
    actor = Actor.share(share.pk)
    started = timezone.now()
    refused = people_bulk_update(
        nation=share.receiver, actor=actor, writes=to_receiver, kind="share"
    )
    # The shared tag came with the link (tag_linked left these profiles' updated_at to us):
    # those the writes above did not stamp are stamped now.
    Person.objects.filter(
        pk__in=many_ids(
            link.receiver_person_id for link in links if link.receiver_person_id in people
        ),
        updated_at__lt=started,
    ).update(updated_at=timezone.now())
    refused += people_bulk_update(nation=share.sender, actor=actor, writes=to_sender, kind="share")
    reviews_propose(proposals)
    notes: dict[int, list[str]] = {}
    for item in refused:
        notes.setdefault(item.person_id, []).append(f"{item.field} not synced: {item.message}")
    now = timezone.now()
    plain: list[int] = []  # synced with nothing to note: the most of any batch, one statement
    rows = []
    for link in links:
        note = notes.get(link.receiver_person_id or 0, []) + notes.get(link.sender_person_id, [])
        if note:
            link.reason = link_reason(note)
        if note or link.state != LinkState.SYNCED:
            rows.append(
                (
                    link.state,
                    link.reason,
                    link.receiver_person_id,
                    connection.ops.adapt_datetimefield_value(now),
                    link.pk,
                )
            )
        else:
            plain.append(link.pk)
    ShareLink.objects.filter(pk__in=many_ids(plain)).update(state=LinkState.SYNCED, updated_at=now)
    if rows:
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {LINK} SET state = %s, reason = %s, receiver_person_id = %s, "
                "updated_at = %s WHERE id = %s",
                rows,
            )
    ShareLink.objects.filter(pk__in=orphans).delete()
    unlinked_event(ended, reason="profile_deleted")


def _put(write: Write, name: str, value: Any, version: Version | None) -> None:
    write.changes[name] = value
    if version is not None:
        write.versions[name] = version
