"""`/webhooks`: a nation's webhook endpoints and their deliveries (admins) — thin over webhooks."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import ConfigDict, Field

from tagshare.api.auth import caller
from tagshare.api.pagination import PageQuery, keyset_page
from tagshare.api.payload import Text
from tagshare.api.schemas import responses
from tagshare.webhooks import selectors, services
from tagshare.webhooks.models import (
    SUBSCRIBABLE,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
)

router = Router(tags=["webhooks"])

EventTypeName = Literal[SUBSCRIBABLE]  # type: ignore[valid-type]
DeliveryStatusName = Literal["pending", "delivered", "failed"]


class WebhookIn(Schema):
    model_config = ConfigDict(extra="forbid")

    url: Text = Field(
        max_length=services.URL_MAX, description="Where to POST events: an http(s) URL."
    )
    event_types: list[EventTypeName] = Field(
        default_factory=list,
        max_length=len(SUBSCRIBABLE),
        description="The events to send; empty or left out: all of them.",
    )


class WebhookOut(Schema):
    id: int
    url: str
    event_types: list[str] = Field(description="Subscribed events; empty means all of them.")
    active: bool
    created_by: str | None = Field(description="The email of the admin who added it.")
    created_at: dt.datetime


class WebhookCreatedOut(WebhookOut):
    secret: str = Field(
        description="Signs every delivery (the `Tagshare-Signature` header). Shown only now: "
        "store it with the receiver; to replace it, add a new webhook and remove this one."
    )


class WebhooksPage(Schema):
    results: list[WebhookOut]
    next: str | None


class DeliveryOut(Schema):
    id: int = Field(description="Also the `Tagshare-Delivery` header: the same at every retry.")
    event_type: str
    status: DeliveryStatusName
    attempts: int
    next_attempt_at: dt.datetime | None = Field(description="While pending: the next try.")
    last_status_code: int | None = Field(description="The HTTP status of the last attempt.")
    last_error: str = Field(description="Why the last attempt failed; empty when it did not.")
    created_at: dt.datetime
    delivered_at: dt.datetime | None
    payload: dict[str, Any] = Field(description="The event's `data`.")


class DeliveriesPage(Schema):
    results: list[DeliveryOut]
    next: str | None


class DeliveriesQuery(PageQuery):
    status: DeliveryStatusName | None = Field(None, description="Only deliveries in this status.")


def webhook_json(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": endpoint.pk,
        "url": endpoint.url,
        "event_types": list(endpoint.event_types or []),
        "active": endpoint.active,
        "created_by": endpoint.created_by.email if endpoint.created_by else None,
        "created_at": endpoint.created_at,
    }


def delivery_json(delivery: WebhookDelivery) -> dict[str, Any]:
    pending = delivery.status == DeliveryStatus.PENDING
    return {
        "id": delivery.pk,
        "event_type": delivery.event_type,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "next_attempt_at": delivery.next_attempt_at if pending else None,
        "last_status_code": delivery.last_status_code,
        "last_error": delivery.last_error,
        "created_at": delivery.created_at,
        "delivered_at": delivery.delivered_at,
        "payload": delivery.payload,
    }


@router.get("", response=responses({200: WebhooksPage}, 400, 403, 422), summary="Webhooks (admins)")
def webhooks_index(request: HttpRequest, query: Query[PageQuery]) -> dict[str, Any]:
    """This nation's endpoints, oldest first. Secrets are never listed."""
    c = caller(request)
    qs = selectors.webhooks_list(nation=c.nation, actor=c.actor).select_related("created_by")
    rows, next_page = keyset_page(request, qs, page=query)
    return {"results": [webhook_json(e) for e in rows], "next": next_page}


@router.post(
    "",
    response=responses({201: WebhookCreatedOut}, 400, 403, 422),
    summary="Add a webhook (admins)",
)
def webhooks_create(request: HttpRequest, payload: WebhookIn) -> Status[dict[str, Any]]:
    """Events of this nation are POSTed to `url` as JSON, signed with the returned `secret`,
    which is shown only in this answer (see docs/webhooks.md to verify a signature)."""
    c = caller(request)
    endpoint = services.webhook_create(
        nation=c.nation, actor=c.actor, url=payload.url, event_types=payload.event_types
    )
    return Status(201, {**webhook_json(endpoint), "secret": endpoint.secret})


@router.delete(
    "/{webhook_id}",
    response=responses({204: None}, 403, 404, 422),
    summary="Remove a webhook (admins)",
)
def webhooks_delete(request: HttpRequest, webhook_id: int) -> Status[None]:
    """Its pending deliveries are never sent."""
    c = caller(request)
    endpoint = services.access_webhook_by_id(c.nation, webhook_id)
    services.webhook_delete(nation=c.nation, actor=c.actor, endpoint=endpoint)
    return Status(204, None)


@router.get(
    "/{webhook_id}/deliveries",
    response=responses({200: DeliveriesPage}, 400, 403, 404, 422),
    summary="A webhook's deliveries (admins)",
)
def webhooks_deliveries(
    request: HttpRequest, webhook_id: int, query: Query[DeliveriesQuery]
) -> dict[str, Any]:
    """Newest first, with each one's attempts and last answer; follow `next` for older ones."""
    c = caller(request)
    endpoint = services.access_webhook_by_id(c.nation, webhook_id)
    qs = selectors.webhook_deliveries(nation=c.nation, actor=c.actor, endpoint=endpoint)
    if query.status:
        qs = qs.filter(status=query.status)
    rows, next_page = keyset_page(request, qs, page=query, newest_first=True)
    return {"results": [delivery_json(d) for d in rows], "next": next_page}


@router.post(
    "/{webhook_id}/test",
    response=responses({202: DeliveryOut}, 403, 404, 422),
    summary="Send a test ping (admins)",
)
def webhooks_test(request: HttpRequest, webhook_id: int) -> Status[dict[str, Any]]:
    """Queues a `ping` to this endpoint; the worker sends it within seconds. Follow it in
    `GET /webhooks/{id}/deliveries`."""
    c = caller(request)
    endpoint = services.access_webhook_by_id(c.nation, webhook_id)
    delivery = services.webhook_test(nation=c.nation, actor=c.actor, endpoint=endpoint)
    return Status(202, delivery_json(delivery))
