"""`tagshare export FILE --nation SLUG [--tag T]`: write people as CSV that imports back unchanged."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

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
        with partial.open("w", encoding="utf-8", newline="") as out:
            count = export_people(nation, out, tag=options["tag"])
        partial.replace(path)
        self.console().print(f"Exported {count} people to {path}.")
