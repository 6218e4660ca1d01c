"""`tagshare merge --nation SLUG KEEP OTHER`: fold profile OTHER into KEEP (resolves duplicates)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from tagshare.console.base import TagshareCommand
from tagshare.nations.actors import Actor
from tagshare.nations.services import nation_by_slug
from tagshare.people.merge import person_merge
from tagshare.people.selectors import access_person_by_id


class Command(TagshareCommand):
    help = "Merge two profiles of a nation: the first is kept, the second folded into it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--nation", required=True, help="the nation's slug")
        parser.add_argument("keep", help="id of the profile to keep")
        parser.add_argument("other", help="id of the profile folded into it and removed")

    def handle(self, *args: Any, **options: Any) -> None:
        nation = nation_by_slug(options["nation"])
        keep = access_person_by_id(nation, options["keep"])
        other = access_person_by_id(nation, options["other"])
        person_merge(nation=nation, actor=Actor.system(), keep=keep, other=other)
        self.console().print(f"Merged person {options['other']} into {keep.pk} ({keep}).")
