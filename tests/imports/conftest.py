"""Helpers for import tests: write a CSV file and run it through the import service."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tagshare.imports.models import ImportJob
from tagshare.imports.services import import_create, import_run
from tagshare.nations.actors import Actor


@pytest.fixture
def run_import(tmp_path: Path) -> Callable[..., ImportJob]:
    counter = iter(range(10**6))

    def run(
        nation, text: str | bytes, *, overwrite: bool = False, tags=None, actor=None
    ) -> ImportJob:
        path = tmp_path / f"upload-{next(counter)}.csv"
        if isinstance(text, str):
            path.write_text(text, encoding="utf-8")
        else:
            path.write_bytes(text)
        actor = actor or Actor.importer()
        job = import_create(nation=nation, actor=actor, source=path, overwrite=overwrite, tags=tags)
        return import_run(job, actor=actor)

    return run
