"""`tagshare duplicates --nation SLUG`: profiles the matching cascade would find ambiguous."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from rich.table import Table

from tagshare.console.base import TagshareCommand
from tagshare.matching.selectors import possible_duplicates
from tagshare.nations.services import nation_by_slug


class Command(TagshareCommand):
    help = "List possible duplicate profiles, to merge before sharing a tag."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--nation", required=True, help="the nation's slug")

    def handle(self, *args: Any, **options: Any) -> None:
        nation = nation_by_slug(options["nation"])
        groups = possible_duplicates(nation)
        console = self.console()
        if not groups:
            console.print("No possible duplicates.")
            return
        table = Table("reason", "people")
        for group in groups:
            table.add_row(group.reason, ", ".join(map(str, group.person_ids)))
        console.print(table)
        console.print("Merge with: tagshare merge --nation SLUG KEEP OTHER")
