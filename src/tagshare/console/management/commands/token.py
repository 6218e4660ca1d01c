"""`tagshare token create`: print a new API token for a user — alone, so scripts can capture it."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from tagshare.console.base import TagshareCommand, add_action
from tagshare.nations import services


class Command(TagshareCommand):
    help = "Create API tokens."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{create}")
        create = add_action(actions, "create", "print a new bearer token for a user")
        create.add_argument("--nation", required=True, help="the nation's slug")
        create.add_argument("--email", required=True, help="the user the token acts as")
        create.add_argument("--name", default="", help="a label to tell tokens apart")

    def handle(self, *args: Any, **options: Any) -> None:
        nation = services.nation_by_slug(options["nation"])
        user = services.user_by_email(nation=nation, email=options["email"])
        raw = services.token_create(user=user, name=options["name"])
        self.stdout.write(raw)
        if self.output.isatty():
            # Only a person at a terminal needs telling; `TOKEN=$(…)` must capture the token alone.
            self.stderr.write(
                "Keep it now: only a digest is stored, so it cannot be shown again.", style_func=str
            )
