"""How far a running import has got, for the control panel to poll.

Not on the job row: an import runs in one transaction (nothing is half-imported), so a row
written during it would only be seen when it ends — and on SQLite nothing else may write while
it runs. The figures go to Django's cache instead: the process's own memory on the embedded
default (the runner is a thread of the serving process), Redis when Celery workers run the
imports (settings.CACHES). The job row stays the record: status, counts, errors.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.cache import cache

TTL = 24 * 3600  # an entry outlives any import, and then goes by itself


def _key(job_id: int) -> str:
    return f"tagshare:import-progress:{job_id}"


def progress_record(job_id: int, phase: str, done: int, total: int) -> None:
    cache.set(_key(job_id), {"phase": phase, "done": done, "total": total, "at": time.time()}, TTL)


def progress_read(job_id: int) -> dict[str, Any] | None:
    """{"phase", "done", "total" (0: not known yet), "at"} or None when nothing was recorded."""
    value = cache.get(_key(job_id))
    return value if isinstance(value, dict) else None


def progress_clear(job_id: int) -> None:
    cache.delete(_key(job_id))
