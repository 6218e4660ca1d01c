"""Celery tasks for imports: thin wrappers that re-read state and call one service."""

from __future__ import annotations

from celery import shared_task

from tagshare.imports.runner import import_claim, run_claimed


# Not acknowledged late: a redelivered task would find its job already claimed (running) and
# do nothing, so a late ack would buy nothing but a second look.
@shared_task(name="tagshare.imports.tasks.run_import", ignore_result=True, acks_late=False)
def run_import(job_id: int) -> None:
    job = import_claim(job_id)
    if job is not None:
        run_claimed(job)
