"""`tagshare webhooks list|add|remove --nation SLUG`: a nation's webhook endpoints, from a shell."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.db.models import Count
from rich.table import Table

from tagshare.console.base import TagshareCommand, add_action
from tagshare.nations.actors import Actor
from tagshare.nations.services import nation_by_slug
from tagshare.webhooks import selectors, services
from tagshare.webhooks.models import SUBSCRIBABLE, DeliveryStatus, WebhookDelivery


class Command(TagshareCommand):
    help = "List, add or remove a nation's webhooks."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{list,add,remove}")
        listing = add_action(actions, "list", "list the nation's webhooks")
        listing.add_argument("--nation", required=True, help="the nation's slug")
        add = add_action(actions, "add", "add a webhook and print its signing secret")
        add.add_argument("url", help="where to POST events (http or https)")
        add.add_argument("--nation", required=True, help="the nation's slug")
        add.add_argument(
            "--event",
            action="append",
            default=[],
            metavar="TYPE",
            help=f"an event to send (repeat for more; none: all): {', '.join(SUBSCRIBABLE)}",
        )
        remove = add_action(actions, "remove", "remove a webhook")
        remove.add_argument("id", help="the webhook's id (see `tagshare webhooks list`)")
        remove.add_argument("--nation", required=True, help="the nation's slug")

    def handle(self, *args: Any, **options: Any) -> None:
        nation = nation_by_slug(options["nation"])
        # Whoever runs the console runs the installation: they act as the system, like an admin.
        actor = Actor.system()
        if options["action"] == "add":
            endpoint = services.webhook_create(
                nation=nation, actor=actor, url=options["url"], event_types=options["event"]
            )
            self.stdout.write(f"Added webhook {endpoint.pk} for {nation.slug}: {endpoint.url}")
            self.stdout.write(f"Signing secret (shown only now): {endpoint.secret}")
        elif options["action"] == "remove":
            endpoint = services.access_webhook_by_id(nation, options["id"])
            removed = endpoint.pk
            services.webhook_delete(nation=nation, actor=actor, endpoint=endpoint)
            self.stdout.write(f"Removed webhook {removed}.")
        else:
            self.list_webhooks(nation, actor)

    def list_webhooks(self, nation: Any, actor: Actor) -> None:
        endpoints = list(selectors.webhooks_list(nation=nation, actor=actor))
        pending = dict(
            WebhookDelivery.objects.filter(endpoint__in=endpoints, status=DeliveryStatus.PENDING)
            .values("endpoint_id")
            .annotate(n=Count("id"))
            .values_list("endpoint_id", "n")
        )
        console = self.console()
        if not endpoints:
            console.print(f"No webhooks in {nation.slug}. Add one with `tagshare webhooks add`.")
            return
        table = Table("id", "url", "events", "active", "pending")
        for endpoint in endpoints:
            table.add_row(
                str(endpoint.pk),
                endpoint.url,
                ", ".join(endpoint.event_types) or "all",
                "yes" if endpoint.active else "no",
                str(pending.get(endpoint.pk, 0)),
            )
        console.print(table)
