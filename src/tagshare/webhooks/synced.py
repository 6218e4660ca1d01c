"""`field.synced`: told from the outbox, not from the sync code, whatever path wrote the fields.

Every profile write commits a `person.updated` (or `person.created`) outbox event whose payload
names the written fields and the actor's source; a share's writes say `"source": "share"` and
the share's id. The drain hands each batch here inside its transaction, so the deliveries
commit with the batch: a batch that fails and is drained again enqueues them once. One delivery
per nation and batch lists every synced profile, rather than one HTTP call per profile.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tagshare.outbox.models import EventKind, OutboxEvent
from tagshare.webhooks.models import EventType
from tagshare.webhooks.services import subscribed_nations, webhook_enqueue_many

SHARE_SOURCE = "share"
CHUNK = 500


def on_person_written(events: Sequence[OutboxEvent]) -> None:
    synced = [
        e
        for e in events
        if e.person_id is not None
        and e.payload.get("source") == SHARE_SOURCE
        and e.payload.get("fields")
    ]
    if not synced:
        return
    wanted = subscribed_nations({e.nation_id for e in synced}, EventType.FIELD_SYNCED)
    by_nation: dict[int, list[dict[str, Any]]] = {}
    for event in synced:
        if event.nation_id in wanted:
            by_nation.setdefault(event.nation_id, []).append(
                {
                    "person_id": event.person_id,
                    "fields": list(event.payload["fields"]),
                    "share_id": event.payload.get("share_id"),
                    "change_id": event.payload.get("change_id"),
                    "created": event.kind == EventKind.PERSON_CREATED,
                }
            )
    webhook_enqueue_many(
        (nation_id, EventType.FIELD_SYNCED.value, {"changes": items[i : i + CHUNK]})
        for nation_id, items in by_nation.items()
        for i in range(0, len(items), CHUNK)
    )


def register_handlers() -> None:
    from tagshare.outbox import drain

    for kind in (EventKind.PERSON_CREATED, EventKind.PERSON_UPDATED):
        drain.register(kind, on_person_written)
