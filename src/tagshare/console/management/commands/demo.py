"""`tagshare demo`: migrate, set up demo nations with users and people, print how to sign in, serve."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import CommandError, CommandParser
from rich.table import Table

from tagshare.console import demo
from tagshare.console.base import TagshareCommand, progress_bar, unapplied_migrations
from tagshare.console.management.commands.serve import (
    ALL_INTERFACES,
    add_server_arguments,
    open_server,
    run_server,
    url_for,
)


class Command(TagshareCommand):
    help = "Set up demo nations, users and people (safe to run again), then serve."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--people", type=int, default=300, help="synthetic people per nation (300)"
        )
        parser.add_argument("--no-serve", action="store_true", help="set up, then exit")
        add_server_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["people"] < 0:
            raise CommandError("--people cannot be negative.")
        console = self.console()
        if unapplied_migrations():
            console.print("Migrating the database…")
            call_command("migrate", interactive=False, verbosity=0, stdout=self.output)

        plans = [(spec, demo.missing_rows(spec, options["people"])) for spec in demo.DEMO_NATIONS]
        results = []
        total = sum(len(rows) for _, rows in plans)
        with progress_bar(console, total=total, description="Creating demo people") as advance:
            for spec, rows in plans:
                results.append(demo.build_nation(spec, rows, advance))

        created = sum(result.people_created for result in results)
        console.print(f"Demo data ready: {created} people created in {len(results)} nations.")
        for line in demo.ensure_coalition({r.nation.slug: r.nation for r in results}):
            console.print(line)
        server, urls = None, [url_for(options["host"], options["port"])]
        if not options["no_serve"]:
            server, urls = open_server(
                host=options["host"], port=options["port"], threads=options["threads"]
            )
        table = Table("sign in at", "nation", "email", "password", "role", title="Demo sign-in")
        for result in results:
            for user in result.users:
                table.add_row(
                    urls[0] + "login/",
                    result.nation.slug,
                    user.email,
                    demo.DEMO_PASSWORD,
                    user.role,
                )
        console.print(table)
        if server is None:
            console.print("Start the server with `tagshare serve`.")
            return
        run_server(
            server,
            urls,
            console=console,
            all_interfaces=options["host"] in ALL_INTERFACES,
            embedded_worker=not options["no_worker"],
        )
