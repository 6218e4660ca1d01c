"""`tagshare nation create|list`: add a nation, or list them."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.db.models import Count
from rich.table import Table

from tagshare.console.base import TagshareCommand, add_action
from tagshare.nations import services
from tagshare.nations.models import Nation, Plan
from tagshare.people.models import Person


class Command(TagshareCommand):
    help = "Create or list nations."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{create,list}")
        create = add_action(actions, "create", "add a nation")
        create.add_argument(
            "slug", help="short name used to sign in and in shared tags, e.g. northside"
        )
        create.add_argument("--name", required=True, help="display name")
        create.add_argument("--plan", required=True, help=f"one of: {', '.join(Plan.values)}")
        create.add_argument("--region", default="US", help="country code for phone numbers (US)")
        add_action(actions, "list", "list nations")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "create":
            nation = services.nation_create(
                slug=options["slug"],
                name=options["name"],
                plan=options["plan"],
                default_region=options["region"],
            )
            self.stdout.write(f"Created nation {nation.slug} ({nation.name}, plan {nation.plan}).")
        else:
            self.list_nations()

    def list_nations(self) -> None:
        nations = Nation.objects.annotate(user_count=Count("users")).order_by("slug")
        people = dict(
            Person.objects.values_list("nation_id")
            .annotate(n=Count("id"))
            .values_list("nation_id", "n")
        )
        table = Table("slug", "name", "plan", "region", "users", "people")
        for nation in nations:
            table.add_row(
                nation.slug,
                nation.name,
                nation.plan,
                nation.default_region,
                str(nation.user_count),
                str(people.get(nation.pk, 0)),
            )
        console = self.console()
        if table.row_count:
            console.print(table)
        else:
            console.print("No nations yet. Add one with `tagshare nation create`.")
