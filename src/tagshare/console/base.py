"""What every Tagshare command shares: one-line errors, rich output, the migrations check."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser, SystemCheckError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from tagshare.errors import DomainError

# Wide enough that a table piped into grep keeps each row on one line.
PIPE_WIDTH = 200


class TagshareCommand(BaseCommand):
    """A management command whose failures are one line on stderr and a non-zero exit.

    Services raise DomainError with a message a person can act on; that message is all the user
    sees (`--traceback` still shows the whole story).
    """

    output: TextIO = sys.stdout

    def execute(self, *args: Any, **options: Any) -> Any:
        self.output = options.get("stdout") or sys.stdout
        from_command_line = getattr(self, "_called_from_command_line", False)
        try:
            try:
                return super().execute(*args, **options)
            except DomainError as exc:
                raise CommandError(exc.detail) from exc
            except DatabaseError as exc:
                raise CommandError(describe_database_error(exc)) from exc
        except CommandError as exc:
            if (
                not from_command_line
                or options.get("traceback")
                or isinstance(exc, SystemCheckError)
            ):
                raise
            self.stderr.write(f"Error: {exc}")
            sys.exit(exc.returncode)
        except KeyboardInterrupt:
            if not from_command_line or options.get("traceback"):
                raise
            self.stderr.write("Interrupted.")
            sys.exit(130)

    def console(self) -> Console:
        terminal = self.output.isatty()
        return Console(file=self.output, highlight=False, width=None if terminal else PIPE_WIDTH)


def add_action(actions: Any, name: str, help: str) -> CommandParser:
    """Add `tagshare <command> <name>`, which also takes Django's options after the action.

    argparse only sees options of the parser they follow, so without these copies
    `python -m django nation create x --settings=tagshare.settings` would be refused. They default
    to SUPPRESS so that they never overwrite a value given before the action.
    """
    sub: CommandParser = actions.add_parser(name, help=help, description=help)
    hidden: dict[str, Any] = {"default": argparse.SUPPRESS, "help": argparse.SUPPRESS}
    sub.add_argument("-v", "--verbosity", type=int, choices=[0, 1, 2, 3], **hidden)
    sub.add_argument("--settings", **hidden)
    sub.add_argument("--pythonpath", **hidden)
    for flag in ("--traceback", "--no-color", "--force-color", "--skip-checks"):
        sub.add_argument(flag, action="store_true", **hidden)
    return sub


def describe_database_error(exc: DatabaseError) -> str:
    lines = str(exc).strip().splitlines()
    first = lines[0] if lines else exc.__class__.__name__
    if "no such table" in first or "does not exist" in first:
        return f"The database is not ready ({first}). Run `tagshare migrate` first."
    return f"Database error: {first}"


def unapplied_migrations(database: str = DEFAULT_DB_ALIAS) -> list[str]:
    executor = MigrationExecutor(connections[database])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _ in plan]


@contextmanager
def progress_bar(console: Console, *, total: int, description: str) -> Iterator[Callable[[], None]]:
    """Yield a function that advances a bar by one; on a pipe there is no bar at all."""
    if not console.is_terminal or total <= 0:
        yield lambda: None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(description, total=total)
        yield lambda: progress.advance(task)
