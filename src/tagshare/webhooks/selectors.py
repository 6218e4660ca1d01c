"""Webhook reads, for admins of the endpoint's nation only (the checks live here, not in views)."""

from __future__ import annotations

from django.db.models import QuerySet

from tagshare.errors import NotFound
from tagshare.nations.actors import Actor, require_admin
from tagshare.nations.models import Nation
from tagshare.webhooks.models import WebhookDelivery, WebhookEndpoint


def webhooks_list(*, nation: Nation, actor: Actor) -> QuerySet[WebhookEndpoint]:
    require_admin(actor, nation, "see webhooks")
    return WebhookEndpoint.objects.filter(nation=nation).order_by("id")


def webhook_deliveries(
    *, nation: Nation, actor: Actor, endpoint: WebhookEndpoint
) -> QuerySet[WebhookDelivery]:
    if endpoint.nation_id != nation.pk:
        raise NotFound(f"Webhook {endpoint.pk} not found.")
    require_admin(actor, nation, "see webhook deliveries")
    return WebhookDelivery.objects.filter(endpoint=endpoint)
