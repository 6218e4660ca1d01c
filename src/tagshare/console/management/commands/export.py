"""`tagshare export FILE --nation SLUG [--tag T]`: write people as CSV that imports back unchanged."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from tagshare.console.base import TagshareCommand
from tagshare.imports.export import export_people
from tagshare.nations.services import nation_by_slug


class Command(TagshareCommand):
    help = "Export people as CSV (the import columns plus id and tags)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="where to write the CSV; '-' for standard output")
        parser.add_argument("--nation", required=True, help="the nation's slug")
        parser.add_argument("--tag", default=None, help="only people with this tag")

    def handle(self, *args: Any, **options: Any) -> None:
        nation = nation_by_slug(options["nation"])
        if options["file"] == "-":
            count = export_people(nation, sys.stdout, tag=options["tag"])
            return
        path = Path(options["file"])
        # Write beside the target, then rename: a failed export never leaves half a file.
        partial = path.with_name(path.name + ".partial")
        try:
            with partial.open("w", encoding="utf-8", newline="") as out:
                count = export_people(nation, out, tag=options["tag"])
            partial.replace(path)
        except OSError as exc:
            raise CommandError(
                f"Cannot write {path}: {exc.strerror or exc}. Give a file path in a folder that "
                "exists and that you may write to (or '-' for standard output)."
            ) from exc
        finally:
            # Whatever stopped it (no such folder, a folder in the way, a full disk, an unknown
            # tag), no half file stays behind; a folder named like it is not ours to remove.
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)
        self.console().print(f"Exported {count} people to {path}.")
