"""`tagshare import FILE --nation SLUG [--overwrite] [--tag T]…`: import people from a CSV file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from tagshare.console.base import TagshareCommand
from tagshare.imports.models import ImportStatus
from tagshare.imports.services import import_create, import_run
from tagshare.nations.actors import Actor
from tagshare.nations.services import nation_by_slug

SHOWN = 20


class Command(TagshareCommand):
    help = "Import people from a CSV file (columns: GET /api/v1/fields; see the README)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="a UTF-8 CSV file with a header row")
        parser.add_argument("--nation", required=True, help="the nation's slug")
        parser.add_argument(
            "--overwrite",
            action="store_true",
            help="matched profiles take the file's non-blank values (default: fill blanks only)",
        )
        parser.add_argument("--tag", action="append", default=[], help="tag every row (repeatable)")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        nation = nation_by_slug(options["nation"])
        actor = Actor.importer()
        job = import_create(
            nation=nation,
            actor=actor,
            source=path,
            filename=path.name,
            overwrite=options["overwrite"],
            tags=options["tag"],
        )
        console = self.console()
        if console.is_terminal:
            columns = (TextColumn("{task.description:<11}"), BarColumn(), MofNCompleteColumn())
            with Progress(*columns, console=console, transient=True) as bar:
                task = bar.add_task("reading", total=None)

                def report(phase: str, done: int, total: int) -> None:
                    bar.update(task, description=phase, completed=done, total=total or None)

                job = import_run(job, actor=actor, progress=report)
        else:
            job = import_run(job, actor=actor)
        if job.status != ImportStatus.DONE:
            raise CommandError(f"Import {job.pk} {job.status}: {job.detail}")
        console.print(
            f"Import {job.pk} done: {job.total_rows} rows — {job.created_count} created, "
            f"{job.updated_count} updated, {job.unchanged_count} unchanged, "
            f"{job.ambiguous_count} ambiguous, {job.rejected_count} rejected."
        )
        for error in job.errors[:SHOWN]:
            where = f" ({error['field']})" if error["field"] else ""
            console.print(f"  row {error['row']}{where}: {error['message']}", markup=False)
        for item in job.ambiguous[:SHOWN]:
            people = ", ".join(str(c) for c in item["candidates"])
            console.print(
                f"  row {item['row']}: ambiguous — {item['reason']} (people {people})", markup=False
            )
        hidden = max(0, len(job.errors) - SHOWN) + max(0, len(job.ambiguous) - SHOWN)
        if hidden:
            console.print(f"  … and {hidden} more: GET /api/v1/imports/{job.pk} lists them all.")
