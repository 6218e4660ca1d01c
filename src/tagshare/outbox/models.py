"""The outbox (ARCHITECTURE rule 2): change events committed in the same transaction as the change.

Workers (the sync engine) claim pending rows, apply them and mark them processed. A row is never
lost with a crashed process: an unfinished claim expires and the row is claimed again.
"""

from __future__ import annotations

from django.db import models

from tagshare.jsontext import JSONTextField


class EventKind(models.TextChoices):
    PERSON_CREATED = "person.created"
    PERSON_UPDATED = "person.updated"
    PERSON_DELETED = "person.deleted"
    PERSON_MERGED = "person.merged"
    TAG_APPLIED = "tag.applied"
    TAG_REMOVED = "tag.removed"
    TAG_RENAMED = "tag.renamed"
    TAG_DELETED = "tag.deleted"


# Failures after which the drainer sets an event aside (outbox/drain.py).
MAX_ATTEMPTS = 6


class OutboxEvent(models.Model):
    # Not indexed: the drainer reads events in id order across nations, and nothing looks
    # them up by nation (an index would cost a write per event, a million per big import).
    nation_id = models.BigIntegerField()
    # Not a foreign key: an event about a deleted profile must outlive it.
    person_id = models.BigIntegerField(null=True, blank=True)
    kind = models.CharField(max_length=32, choices=EventKind.choices)
    payload = JSONTextField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    # A failing event is put off until `claimed_until` and set aside after a few attempts
    # (outbox/drain.py); its last error is kept for whoever looks into it.
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="", db_default="")
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["id"],
                name="outbox_pending_idx",
                condition=models.Q(processed_at__isnull=True),
            ),
            # `tagshare outbox failed`: the few set-aside events among millions processed.
            models.Index(
                fields=["id"],
                name="outbox_set_aside_idx",
                condition=models.Q(processed_at__isnull=False, attempts__gte=MAX_ATTEMPTS),
            ),
        ]
