"""Running the control panel's imports in the background (ARCHITECTURE rule 4).

The panel queues a job (`background=True`) and shows its page at once; the job runs elsewhere:
- with a broker (`CELERY_BROKER_URL`), as a Celery task (`imports.tasks.run_import`);
- on the embedded default, in a thread of the serving process that runs queued jobs one at a
  time, oldest first (two imports at once would only wait on each other's locks — on SQLite
  one writer at a time is all there is).

A job is claimed by moving it from queued to running in one conditional UPDATE, so a job is run
once however many runners look. An import is one transaction: a process that dies mid-run
leaves nothing imported, and the embedded runner, when it starts in a new process, queues such
interrupted jobs again (their file is kept) — one serving process runs the embedded runner.
The command line and the API run their jobs themselves (`background=False`); none of this
touches them.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from tagshare.imports.models import ImportJob, ImportStatus
from tagshare.imports.progress import progress_clear, progress_record
from tagshare.imports.services import import_run

logger = logging.getLogger(__name__)


def import_enqueue(job: ImportJob) -> None:
    """Have a queued background job run once the caller's transaction (if any) commits."""
    if not job.background or job.status != ImportStatus.QUEUED:
        raise ValueError("only a queued background job is handed to the runner")
    if settings.CELERY_BROKER_URL:
        from tagshare.imports.tasks import run_import

        job_id = job.pk
        transaction.on_commit(lambda: run_import.delay(job_id))
    else:
        transaction.on_commit(embedded_runner.wake)


def import_claim(job_id: int) -> ImportJob | None:
    """Move a queued background job to running; None if another runner took it (or it is gone)."""
    claimed = ImportJob.objects.filter(
        pk=job_id, background=True, status=ImportStatus.QUEUED
    ).update(status=ImportStatus.RUNNING, started_at=timezone.now())
    if not claimed:
        return None
    return ImportJob.objects.select_related("nation", "created_by").get(pk=job_id)


def run_claimed(job: ImportJob) -> ImportJob:
    """Run a claimed job, its progress recorded for the panel; the job row says how it ended."""

    def report(phase: str, done: int, total: int) -> None:
        progress_record(job.pk, phase, done, total)

    report("reading", 0, 0)
    try:
        return import_run(job, progress=report)
    except Exception:
        # import_run records its own failures; this is one it could not record (the database
        # gone). Said on the row if the row can be written, so the job does not stay "running".
        logger.exception("import %s could not be run", job.pk)
        ImportJob.objects.filter(pk=job.pk, status=ImportStatus.RUNNING).update(
            status=ImportStatus.FAILED,
            detail="Nothing was imported: an unexpected error (logged). Upload the file again.",
            finished_at=timezone.now(),
            phase="",
        )
        raise
    finally:
        progress_clear(job.pk)


class EmbeddedRunner:
    """One thread per process that runs queued background imports, oldest first."""

    IDLE_SECONDS = 5.0  # how long the thread waits for more work before it ends

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._resumed = False

    def wake(self) -> None:
        """Start the thread if it is not running, and have it look for queued jobs."""
        with self._lock:
            self._wake.set()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="tagshare-imports", daemon=True
                )
                self._thread.start()

    def _loop(self) -> None:
        failures = 0
        try:
            while True:
                self._wake.clear()
                try:
                    if not self._resumed:
                        resume_interrupted()
                        self._resumed = True
                    run_queued()
                    failures = 0
                except Exception:  # a locked or lost database: logged, and tried again
                    failures += 1
                    logger.exception("the import runner failed (attempt %s)", failures)
                    connection.close()
                    if failures < 5:
                        time.sleep(failures)
                        continue
                # Nothing queued (or it kept failing): the thread ends after a short wait; a
                # later wake starts a new one.
                if not self._wake.wait(self.IDLE_SECONDS):
                    with self._lock:
                        if not self._wake.is_set():
                            self._thread = None
                            return
        finally:
            connection.close()  # this thread's own connection

    def join(self, timeout: float | None = None) -> None:
        """Wait for the thread (if any) to finish its queue and end (tests, shutdown)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)


embedded_runner = EmbeddedRunner()


def run_queued() -> int:
    """Run every queued background job, oldest first; returns how many this call ran."""
    ran = 0
    while True:
        next_id = (
            ImportJob.objects.filter(background=True, status=ImportStatus.QUEUED)
            .order_by("id")
            .values_list("id", flat=True)
            .first()
        )
        if next_id is None:
            return ran
        job = import_claim(next_id)
        if job is not None:
            run_claimed(job)
            ran += 1


def resume_interrupted() -> int:
    """Queue again the background jobs a previous process left running (it died mid-import,
    so its transaction rolled back and nothing of the file is stored). Embedded runner only:
    with Celery another worker may be running them right now."""
    return ImportJob.objects.filter(background=True, status=ImportStatus.RUNNING).update(
        status=ImportStatus.QUEUED, phase=""
    )
