"""`tagshare outbox failed|retry`: the sync events a worker set aside, and putting them back."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from rich.markup import escape
from rich.table import Table

from tagshare.console.base import TagshareCommand, add_action
from tagshare.outbox.services import outbox_retry, outbox_set_aside

LISTED = 200


class Command(TagshareCommand):
    help = "List the outbox events a worker set aside after repeated failures, or retry them."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{failed,retry}")
        add_action(actions, "failed", "list the set-aside events, newest first, with their error")
        retry = add_action(actions, "retry", "put set-aside events back in the queue")
        retry.add_argument("ids", nargs="*", help="the events' ids (see `tagshare outbox failed`)")
        retry.add_argument("--all", action="store_true", help="every set-aside event")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "retry":
            self.retry(options["ids"], every=options["all"])
        else:
            self.list_failed()

    def retry(self, raw_ids: list[str], *, every: bool) -> None:
        if every == bool(raw_ids):
            raise CommandError("Give the ids of the events to retry, or --all (not both).")
        ids = None
        if raw_ids:
            # isascii: "²" is a digit to isdigit() but not a number to int().
            bad = [raw for raw in raw_ids if not (raw.isascii() and raw.isdigit())]
            if bad:
                raise CommandError(f"Event ids are numbers; not: {', '.join(bad)}.")
            ids = [int(raw) for raw in raw_ids]
            # An id past the 64-bit column is no event (and an OverflowError to SQLite).
            lookup = [i for i in ids if i < 2**63]
            known = set(outbox_set_aside().filter(pk__in=lookup).values_list("pk", flat=True))
            unknown = [str(i) for i in ids if i not in known]
            if unknown:
                raise CommandError(
                    f"No set-aside event with id {', '.join(unknown)} "
                    "(see `tagshare outbox failed`); nothing was retried."
                )
        count = outbox_retry(ids)
        self.stdout.write(
            f"Put {count} event{'s' if count != 1 else ''} back in the queue; "
            "a running worker (or `tagshare worker --until-idle`) applies them."
        )

    def list_failed(self) -> None:
        events = list(outbox_set_aside()[: LISTED + 1])
        console = self.console()
        if not events:
            console.print("No set-aside events: every sync event was applied.")
            return
        table = Table("id", "nation", "person", "kind", "attempts", "error")
        for event in events[:LISTED]:
            table.add_row(
                str(event.pk),
                str(event.nation_id),
                str(event.person_id or ""),
                event.kind,
                str(event.attempts),
                escape(event.last_error),  # an error text is not markup
            )
        console.print(table)
        if len(events) > LISTED:
            console.print(f"Only the newest {LISTED} are listed.")
