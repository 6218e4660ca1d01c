"""CSV import (SPEC §8): validate, match set-based, then create and update in one transaction.

Either the file is rejected whole with its report, or every valid row is imported and the
rejected and ambiguous rows are listed on the job. Never half a row, never a silent drop.
"""

from __future__ import annotations

import heapq
import logging
import pickle
import shutil
import time
import uuid
from collections.abc import Callable, Generator, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from tagshare import gcpause
from tagshare.errors import DomainError, NotFound, ValidationFailed
from tagshare.imports import cleaning, reader
from tagshare.imports.models import ImportJob, ImportStatus
from tagshare.matching import engine
from tagshare.matching.models import MatchResult, MatchStatus
from tagshare.nations.actors import Actor, check_acts_in
from tagshare.nations.models import Nation
from tagshare.people import catalog, values
from tagshare.people.bulk import MATCH_KEYS, people_bulk_create
from tagshare.people.bulk_update import people_in_nation
from tagshare.people.models import Person
from tagshare.people.services import person_update
from tagshare.tags.bulk import tags_bulk_apply
from tagshare.tags.services import clean_tag_name

logger = logging.getLogger(__name__)
MAX_LISTED = 1000
APPLY_BATCH = 2000
TAG_BATCH = 50_000  # (person, tag) pairs held before they are written
Progress = Callable[[str, int, int], None]  # (phase, done, total)


def import_create(
    *,
    nation: Nation,
    actor: Actor,
    source: Path,
    filename: str = "",
    overwrite: bool = False,
    tags: list[str] | None = None,
    background: bool = False,
) -> ImportJob:
    """Keep a copy of the file and queue a job for it: run by the caller (`import_run`), or with
    `background` by the runner once handed to it (`runner.import_enqueue`)."""
    check_acts_in(actor, nation)
    tag_names = []
    for tag in tags or []:
        name = clean_tag_name(tag)
        if ":" in name:
            raise ValidationFailed(
                f"Tag {name!r}: names with ':' belong to tags shared by other nations; an import "
                "cannot add them."
            )
        tag_names.append(name)
    folder = Path(settings.DATA_DIR) / "imports" / nation.slug
    folder.mkdir(parents=True, exist_ok=True)
    kept = folder / f"{uuid.uuid4().hex}.csv"
    shutil.copyfile(source, kept)
    return ImportJob.objects.create(
        nation=nation,
        created_by=actor.user,
        filename=filename or source.name,
        path=str(kept),
        overwrite=overwrite,
        tags=tag_names,
        background=background,
    )


def access_import_by_id(nation: Nation, job_id: int | str) -> ImportJob:
    try:
        pk = int(job_id)
    except (TypeError, ValueError):
        raise NotFound(f"Import {job_id!r} not found.") from None
    job = ImportJob.objects.filter(nation=nation, pk=pk).first()
    if job is None:
        raise NotFound(f"Import {pk} not found.")
    return job


@dataclass
class _Tally:
    problems: list[dict[str, Any]] = field(default_factory=list)
    rejected: set[int] = field(default_factory=set)
    total: int = 0

    def reject(self, number: int, field_name: str, message: str) -> None:
        self.rejected.add(number)
        if len(self.problems) < MAX_LISTED:
            self.problems.append({"row": number, "field": field_name, "message": message})


def import_run(
    job: ImportJob, *, actor: Actor | None = None, progress: Progress | None = None
) -> ImportJob:
    """Run a queued import to its end. Safe to call again on a finished job (it does nothing)."""
    if job.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING):
        return job
    actor = actor or (Actor.importer(job.created_by) if job.created_by else Actor.importer())
    told = progress or (lambda phase, done, total: None)

    def report(phase: str, done: int, total: int) -> None:
        gcpause.sweep_if_grown()  # see collector_paused below
        told(phase, done, total)

    _save(job, status=ImportStatus.RUNNING, started_at=timezone.now(), phase="reading")
    path = Path(job.path)
    try:
        reader.check_encoding(path)
        mapping = reader.read_header(path)
    except reader.FileRejected as exc:
        return _save(
            job,
            status=ImportStatus.REJECTED,
            detail=exc.detail,
            finished_at=timezone.now(),
            phase="",
        )
    except OSError as exc:
        return _save(
            job,
            status=ImportStatus.FAILED,
            detail=f"The uploaded file cannot be read: {exc}.",
            finished_at=timezone.now(),
            phase="",
        )
    id_fields = engine.default_id_fields(
        name for name in mapping.values() if name in catalog.OPT_IN_IDS
    )
    tally = _Tally()
    spool = _Spool(path.with_suffix(".rows"))
    try:
        with gcpause.collector_paused(), transaction.atomic():
            region = job.nation.default_region
            ambiguous: list[dict[str, Any]] = []
            ambiguous_count = 0
            if not Person.objects.filter(nation=job.nation).exists():
                # Nobody to match: the cascade would find every row new (it only ever matches
                # stored profiles), so valid rows go straight to creation as they are cleaned,
                # with no staging, matching or spool. The first import of a nation's list.
                # (`closing`: now, not when the paused collector gets to it, a failed write
                # must stop the child process reading the file at once.)
                with closing(
                    _valid_rows(path, mapping, tally, report, None, region, "importing")
                ) as rows:
                    created = _create(job, actor, rows, [], vouched=True)
                counts = {"created_count": created, "updated_count": 0, "unchanged_count": 0}
                report("importing", created, created)
            else:
                run = engine.run_create(nation=job.nation, id_fields=id_fields)
                with closing(
                    _valid_rows(path, mapping, tally, report, spool, region, "validating")
                ) as rows:
                    valid = engine.stage_values(run, ((n, r) for n, r, _ in rows))
                report("matching", 0, valid)
                engine.run_cascade(run)
                ambiguous, ambiguous_count = _read_ambiguous(run)
                counts = _apply(job, actor, spool, tally, run, valid, report)
                engine.run_discard(run)
            job.ambiguous = ambiguous
    except Exception as exc:  # anything else is a bug: the job must still say it ended
        if isinstance(exc, DomainError):
            detail = exc.detail
        elif isinstance(exc, cleaning.CleaningFailed):
            logger.error("import %s: %s", job.pk, exc)
            detail = (
                f"the process reading the file stopped ({exc.reason}). Try again; if it "
                "happens again, the server's log has the details"
            )
        else:
            logger.exception("import %s failed", job.pk)
            detail = "an unexpected error (logged)"
        return _save(
            job,
            status=ImportStatus.FAILED,
            detail=f"Nothing was imported: {detail}",
            finished_at=timezone.now(),
            phase="",
        )
    finally:
        spool.discard()
    return _save(
        job,
        status=ImportStatus.DONE,
        phase="",
        finished_at=timezone.now(),
        total_rows=tally.total,
        rejected_count=len(tally.rejected),
        errors=tally.problems,
        ambiguous_count=ambiguous_count,
        **counts,
    )


SAVE_ATTEMPTS = 8


def _save(job: ImportJob, **changes: Any) -> ImportJob:
    """Write the job row, trying again while the table is briefly locked: the row is what the
    user watches, and a failed write here would leave it saying "running" for ever — or, after
    the import committed, hide that it did. (SQLite answers "locked" at once, without waiting,
    when another connection of a shared cache is reading the row, as the job's page does.)"""
    for key, value in changes.items():
        setattr(job, key, value)
    for attempt in range(SAVE_ATTEMPTS):
        try:
            job.save()
            return job
        except OperationalError:
            if attempt == SAVE_ATTEMPTS - 1 or connection.in_atomic_block:
                raise
            time.sleep(0.05 * 2**attempt)  # 0.05 … 3.2 s, 6.35 s in all
    return job


class _Spool:
    """Valid rows, cleaned once, kept on disk for the later sweeps: memory stays flat.

    Rows are pickled a thousand at a time: one pickle call per row cost more than the rows.
    A chunk cleaned in the child process is kept as the bytes it came in: every row of it is
    valid (problems, repeats among them, come apart from the rows).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._out: Any = None

    def add_chunk(self, chunk: cleaning.Chunk) -> None:
        if self._out is None:
            self._out = self.path.open("wb")
        if chunk.spooled is not None:
            self._out.write(chunk.spooled)
        elif chunk.rows:
            pickle.dump(chunk.rows, self._out, pickle.HIGHEST_PROTOCOL)

    def rows(self) -> Iterator[reader.Row]:
        if self._out is not None:
            self._out.close()
        if not self.path.exists():
            return
        with self.path.open("rb") as handle:
            while True:
                try:
                    chunk = pickle.load(handle)
                except EOFError:
                    return
                for number, values_, tags in chunk:
                    yield reader.Row(number, values_, tags)

    def discard(self) -> None:
        if self._out is not None:
            self._out.close()
        self.path.unlink(missing_ok=True)


def _valid_rows(
    path: Path,
    mapping: dict[int, str],
    tally: _Tally,
    report: Progress,
    spool: _Spool | None,
    region: str,
    phase: str,
) -> Generator[tuple[int, dict[str, Any], list[str]], None, None]:
    """(row number, values, tags) of the rows that pass validation and are not repeats of an
    earlier row's email or unique ID (`cleaning` turns those into problems); the spool (if
    any) keeps them for later sweeps.

    Each row carries its match keys (MATCH_KEYS), computed once when it is cleaned: staging
    reads them, and so does the bulk path when the row becomes a new person. A big file is
    cleaned in a second process (`cleaning`) while this one stages what is already cleaned.
    """
    in_child = path.stat().st_size >= settings.IMPORT_CLEANING_PROCESS_BYTES
    with closing(cleaning.cleaned_chunks(path, mapping, region, in_child=in_child)) as chunks:
        for chunk in chunks:
            for item in _in_file_order(chunk):
                tally.total += 1
                if tally.total % 10_000 == 0:
                    report(phase, tally.total, 0)
                number, row = item[0], item[1]
                if not isinstance(row, dict):  # a problem: (number, field, message)
                    tally.reject(number, row, item[2])
                    continue
                yield number, row, item[2]
            if spool is not None:
                spool.add_chunk(chunk)


def _in_file_order(chunk: cleaning.Chunk) -> Iterator[tuple[Any, ...]]:
    """A chunk's valid rows and problems merged back into the file's row order."""
    return heapq.merge(chunk.rows, chunk.problems, key=itemgetter(0))


def _read_ambiguous(run: Any) -> tuple[list[dict[str, Any]], int]:
    """The ambiguous rows to list on the job (at most MAX_LISTED), and how many there are."""
    listed: list[dict[str, Any]] = []
    count = 0
    for outcome in engine.outcomes(run, status=MatchStatus.AMBIGUOUS):
        count += 1
        if len(listed) < MAX_LISTED:
            listed.append(
                {
                    "row": outcome.ref,
                    "reason": outcome.reason,
                    "candidates": list(outcome.candidates),
                }
            )
    return listed, count


def _apply(
    job: ImportJob,
    actor: Actor,
    spool: _Spool,
    tally: _Tally,
    run: Any,
    total: int,
    report: Progress,
) -> dict[str, int]:
    nation = job.nation
    counts = {"created_count": 0, "updated_count": 0, "unchanged_count": 0}
    tag_pairs: list[tuple[int, str]] = []
    matched: list[tuple[reader.Row, int]] = []
    done = 0

    def flush_matched() -> None:
        people = people_in_nation(nation, [pid for _, pid in matched])
        for row, person_id in matched:
            person = people[person_id]
            changes = changes_for_match(person, row.values, overwrite=job.overwrite)
            if isinstance(changes, str):
                tally.reject(row.number, "email1", changes)
                continue
            try:
                written = changes and person_update(
                    nation=nation, actor=actor, person=person, changes=changes
                )
            except DomainError as exc:  # its savepoint rolled back: the row is skipped whole
                tally.reject(row.number, next(iter(exc.errors), ""), exc.detail)
                continue
            counts["updated_count" if written else "unchanged_count"] += 1
            tag_pairs.extend((person_id, t) for t in [*row.tags, *job.tags])
        matched.clear()

    # The first sweep reads every outcome from the database; it notes which rows were not
    # found (a byte per staged row), so the second sweep reads nothing but the spool while
    # people_bulk_create writes in the background on this connection.
    not_found = bytearray()

    def rows_with(wanted: str) -> Iterator[tuple[reader.Row, int | None]]:
        """Spooled rows whose outcome is `wanted`, with the matched profile's id.

        The spool holds the staged rows in staging order, so the run's results read in `seq`
        order line up with it: both stream, and no map of a million outcomes is held.
        """
        nonlocal done
        outcomes: Iterator[tuple[str, int | None]]
        if wanted == MatchStatus.MATCHED:
            outcomes = (
                MatchResult.objects.filter(run=run)
                .order_by("seq")
                .values_list("status", "person_id")
                .iterator(chunk_size=APPLY_BATCH)
            )
        else:
            # Never the database here: this sweep feeds people_bulk_create, whose writes may
            # be on the connection in the background (dbcopy `in_background`).
            if len(not_found) != total:
                raise AssertionError("the matched sweep must run first, to its end")
            outcomes = ((MatchStatus.NOT_FOUND if flag else "", None) for flag in not_found)
        for item, (status, person_id) in zip(spool.rows(), outcomes, strict=True):
            if wanted == MatchStatus.MATCHED:
                not_found.append(status == MatchStatus.NOT_FOUND)
            if status != wanted or item.number in tally.rejected:
                continue
            done += 1
            if done % APPLY_BATCH == 0:
                report("importing", done, total)
            yield item, person_id

    # Two streaming sweeps over the file keep memory flat: matched rows, then new people.
    for item, person_id in rows_with(MatchStatus.MATCHED):
        matched.append((item, person_id or 0))
        if len(matched) >= APPLY_BATCH:
            flush_matched()
            _flush_tags(nation, actor, tag_pairs, TAG_BATCH)
    flush_matched()

    new_rows = (
        (item.number, item.values, item.tags) for item, _ in rows_with(MatchStatus.NOT_FOUND)
    )
    counts["created_count"] = _create(job, actor, new_rows, tag_pairs)
    report("importing", total, total)
    return counts


def _create(
    job: ImportJob,
    actor: Actor,
    rows: Iterator[tuple[int, dict[str, Any], list[str]]],
    tag_pairs: list[tuple[int, str]],
    *,
    vouched: bool = False,
) -> int:
    """A new profile per (row number, values, tags), tagged with its own and the job's tags;
    `tag_pairs` holds the (person, tag) pairs still to be written when this starts. `vouched`:
    the nation was empty, and the rows are no repeats of each other (`_valid_rows`)."""
    nation = job.nation
    new_tags: dict[int, list[str]] = {}  # row number -> tags

    def new_people() -> Iterator[tuple[int, dict[str, Any]]]:
        for number, row, tags in rows:
            if tags or job.tags:
                new_tags[number] = [*tags, *job.tags]
            yield number, row

    def on_created(pairs: list[tuple[int, int]]) -> None:
        for number, person_id in pairs:
            tag_pairs.extend((person_id, t) for t in new_tags.pop(number, []))
        _flush_tags(nation, actor, tag_pairs, TAG_BATCH)

    # Numbered by their line of the file: a clash found while creating (someone else stored
    # the email meanwhile) names the row the user can find.
    created = people_bulk_create(
        nation=nation,
        actor=actor,
        rows=new_people(),
        numbered=True,
        on_created=on_created,
        precleaned=True,
        vouched=vouched,
    )
    _flush_tags(nation, actor, tag_pairs, 0)
    return created


def _flush_tags(nation: Nation, actor: Actor, pairs: list[tuple[int, str]], at_least: int) -> None:
    """Write the (person, tag) pairs held once there are `at_least` of them."""
    if pairs and len(pairs) >= at_least:
        tags_bulk_apply(nation=nation, actor=actor, pairs=pairs)
        pairs.clear()


def changes_for_match(
    person: Person, row: dict[str, Any], *, overwrite: bool
) -> dict[str, Any] | str:
    """What a matched row changes: file values win with `overwrite`, else only blanks are filled.

    Addresses in the file always overwrite; emails are added to free slots, never dropped.
    Returns a message instead when the row cannot be applied whole.
    """
    changes: dict[str, Any] = {}
    have = {
        values.normalise_email(getattr(person, n))
        for n in catalog.EMAIL_FIELDS
        if getattr(person, n)
    }
    incoming = [row[n] for n in catalog.EMAIL_FIELDS if row.get(n)]
    new_emails = [e for e in incoming if values.normalise_email(e) not in have]
    free = [n for n in catalog.EMAIL_FIELDS if not getattr(person, n)]
    if len(new_emails) > len(free):
        return (
            f"would give person {person.pk} more than {catalog.MAX_EMAILS} emails "
            f"({', '.join(new_emails)} are new); remove one from the profile or the file"
        )
    changes.update(zip(free, new_emails, strict=False))
    for name, value in row.items():
        if name in catalog.EMAIL_FIELDS or name == MATCH_KEYS:
            continue
        current = values.read(person, name)
        spec = catalog.get(name)
        wins = spec.is_address or overwrite or values.is_blank(current)
        if wins and not values.same(current, value):
            changes[name] = value
    return changes
