"""Webhooks: a nation's endpoints, and each event's delivery to one of them with its retries."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tagshare.nations.models import Nation


class EventType(models.TextChoices):
    SHARE_REQUESTED = "share.requested"
    SHARE_ACCEPTED = "share.accepted"
    SHARE_REJECTED = "share.rejected"
    SHARE_STOPPED = "share.stopped"
    PROFILE_LINKED = "profile.linked"
    PROFILE_UNLINKED = "profile.unlinked"
    FIELD_SYNCED = "field.synced"
    # Sent only by "test this endpoint"; never subscribed to, never filtered out.
    PING = "ping"


SUBSCRIBABLE = tuple(t.value for t in EventType if t is not EventType.PING)


class WebhookEndpoint(models.Model):
    nation = models.ForeignKey(Nation, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=2000)
    # Kept in the clear, unlike API tokens (digest only): an HMAC signature needs the secret
    # itself at every delivery, and a digest cannot sign. It is shown to the admin once, at
    # creation, and never returned by any read afterwards.
    secret = models.CharField(max_length=100)
    # Empty: every event type.
    event_types = models.JSONField(default=list, blank=True)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.nation_id}: {self.url}"

    def wants(self, event_type: str) -> bool:
        return (
            event_type == EventType.PING or not self.event_types or event_type in self.event_types
        )


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # gave up after the last attempt


class WebhookDelivery(models.Model):
    """One event for one endpoint. Its id is the `Tagshare-Delivery` header: retries keep it."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_type = models.CharField(max_length=40, choices=EventType.choices)
    payload = models.JSONField(default=dict)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    # When it is next due; a worker that claims it moves this forward by a lease, so a worker
    # that dies mid-send leaves it to be claimed again once the lease runs out.
    next_attempt_at = models.DateTimeField()
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_delivery_due_idx",
                condition=models.Q(status="pending"),
            ),
            models.Index(fields=["endpoint", "id"], name="webhook_delivery_endpoint_idx"),
        ]
