"""`tagshare user create`: add a control-panel user to a nation."""

from __future__ import annotations

import getpass
import sys
from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser

from tagshare.console.base import TagshareCommand, add_action
from tagshare.nations import services


class Command(TagshareCommand):
    help = "Create control-panel users."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{create}")
        create = add_action(actions, "create", "add a user to a nation")
        create.add_argument("--nation", required=True, help="the nation's slug")
        create.add_argument("--email", required=True, help="the address they sign in with")
        create.add_argument("--role", required=True, help="admin or staff")
        create.add_argument(
            "--password",
            help="asked for on a terminal when left out; in a pipe the user gets no password",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        nation = services.nation_by_slug(options["nation"])
        password = options["password"]
        if password is None and sys.stdin.isatty():
            password = self.ask_password()
        if password is not None:
            check_password_strength(password)
        user = services.user_create(
            nation=nation, email=options["email"], role=options["role"], password=password
        )
        self.stdout.write(f"Created {user.role} {user.email} in {nation.slug}.")
        if not password:
            self.stdout.write(
                f"{user.email} has no password yet, so cannot sign in; set one with "
                f"`tagshare changepassword {user.username}`."
            )

    def ask_password(self) -> str:
        first = getpass.getpass("Password: ")
        if not first:
            raise CommandError("The password is empty; nothing was created.")
        if getpass.getpass("Password (again): ") != first:
            raise CommandError("The passwords do not match; nothing was created.")
        return first


def check_password_strength(password: str) -> None:
    try:
        password_validation.validate_password(password)
    except ValidationError as exc:
        raise CommandError(" ".join(exc.messages)) from exc
