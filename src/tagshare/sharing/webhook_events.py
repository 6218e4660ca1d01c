"""What shares tell integrators through webhooks: share decisions, and profiles linked or unlinked.

Called by the share's services and the sync engine inside their transactions (so a rolled-back
change sends nothing). Link events are set-based like the code that links: one streamed query
for the pairs, bulk inserts of deliveries that each list up to CHUNK pairs — never one HTTP call
per profile. Nations without a subscribed endpoint cost one query and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from tagshare.sharing.models import (
    LINKED_STATES,
    LinkState,
    ReviewItem,
    ReviewStatus,
    ShareLink,
    ShareStatus,
    Side,
    TagShare,
)
from tagshare.webhooks.models import EventType
from tagshare.webhooks.services import subscribed_nations, webhook_enqueue_many

CHUNK = 500
# A request goes to the nation asked; every decision after it goes to both nations.
_TO_RECEIVER_ONLY = {EventType.SHARE_REQUESTED.value}
SHARE_EVENTS = {
    EventType.SHARE_REQUESTED.value,
    EventType.SHARE_ACCEPTED.value,
    EventType.SHARE_REJECTED.value,
    EventType.SHARE_STOPPED.value,
}


def _share_json(share: TagShare, side: str) -> dict[str, Any]:
    return {
        "id": share.pk,
        "side": side,  # what the nation receiving this webhook is in the share
        "tag": share.shared_tag_name,
        "sender": share.sender.slug,
        "receiver": share.receiver.slug,
        "status": share.status,
        "sync_data": share.sync_data,
        "stopped_side": (share.stopped_side or None)
        if share.status == ShareStatus.STOPPED
        else None,
    }


def share_event(share: TagShare, event_type: str) -> None:
    """share.requested to the receiver; share.accepted / rejected / stopped to both nations."""
    sides = [(share.receiver_id, Side.RECEIVER.value)]
    if event_type not in _TO_RECEIVER_ONLY:
        sides.append((share.sender_id, Side.SENDER.value))
    webhook_enqueue_many(
        (nation_id, event_type, {"share": _share_json(share, side)}) for nation_id, side in sides
    )


Pair = tuple[int, int | None, str]  # sender person id, receiver person id, rule
FLUSH = 20  # deliveries per insert when a huge share streams its pairs


def links_event(
    share_id: int,
    sender_id: int,
    receiver_id: int,
    event_type: str,
    pairs: Iterable[Pair],
    *,
    reason: str = "",
    wanted: set[int] | None = None,
) -> None:
    """profile.linked / profile.unlinked for these pairs of one share, to both nations."""
    if wanted is None:
        wanted = subscribed_nations({sender_id, receiver_id}, event_type)
    sides = [
        (nation_id, side)
        for nation_id, side in ((sender_id, Side.SENDER.value), (receiver_id, Side.RECEIVER.value))
        if nation_id in wanted
    ]
    if not sides:
        return
    events: list[tuple[int, str, dict[str, Any]]] = []
    for chunk in _chunks(pairs):
        links = [
            {"sender_person_id": s, "receiver_person_id": r, **({"rule": rule} if rule else {})}
            for s, r, rule in chunk
        ]
        for nation_id, side in sides:
            data: dict[str, Any] = {"share_id": share_id, "side": side, "links": links}
            if reason:
                data["reason"] = reason
            events.append((nation_id, event_type, data))
        if len(events) >= FLUSH:
            webhook_enqueue_many(events)
            events = []
    webhook_enqueue_many(events)


def _chunks(pairs: Iterable[Pair]) -> Iterator[list[Pair]]:
    chunk: list[Pair] = []
    for pair in pairs:
        chunk.append(pair)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def linked_event(share: TagShare, links: QuerySet[ShareLink] | Sequence[Pair]) -> None:
    """profile.linked for links just made: given as pairs, or as a query (live ones are sent)."""
    wanted = subscribed_nations({share.sender_id, share.receiver_id}, EventType.PROFILE_LINKED)
    if not wanted:
        return  # nobody listens: not even the query for the pairs
    pairs: Iterable[Pair] = (
        links.filter(state__in=LINKED_STATES)
        .values_list("sender_person_id", "receiver_person_id", "rule")
        .iterator(chunk_size=2000)
        if isinstance(links, QuerySet)
        else links
    )
    links_event(
        share.pk,
        share.sender_id,
        share.receiver_id,
        EventType.PROFILE_LINKED.value,
        pairs,
        wanted=wanted,
    )


def end_links(links: QuerySet[ShareLink], *, reason: str, **also: Any) -> int:
    """End these links (setting `also` too) and send profile.unlinked for those that were live.

    The live ones are read under a row lock first, so two transactions ending the same link
    report it once; only links of nations with a listening endpoint are read at all, so a share
    of a million profiles that nobody listens to ends in one UPDATE, as before.
    """
    listening = subscribed_nations(None, EventType.PROFILE_UNLINKED)
    ended = []
    if listening:
        ended = list(
            links.filter(state__in=LINKED_STATES)
            .filter(Q(share__sender_id__in=listening) | Q(share__receiver_id__in=listening))
            .select_for_update(of=("self",))
            .values_list("share_id", "sender_person_id", "receiver_person_id")
        )
    _stale_pair_reviews(links)
    count = links.update(state=LinkState.ENDED, **also)
    unlinked_event(ended, reason=reason)
    return count


def _stale_pair_reviews(links: QuerySet[ShareLink]) -> None:
    """An ended link syncs nothing more for its pair (SPEC §7): the pair's pending review items
    could only copy a value across it, so they go stale, as every item of a stopped share does.
    Read before the links are ended: `links` may select them by their live state."""
    pending = ReviewItem.objects.filter(status=ReviewStatus.PENDING)
    if not pending.exists():  # the usual case, and one cheap query for a million-link stop
        return
    ending = links.filter(share_id=OuterRef("share_id"))
    pending.filter(
        Exists(ending.filter(sender_person_id=OuterRef("person_id")))
        | Exists(ending.filter(receiver_person_id=OuterRef("person_id")))
    ).update(status=ReviewStatus.STALE, decided_at=timezone.now())


def unlinked_event(rows: Iterable[tuple[int, int, int | None]], *, reason: str) -> None:
    """profile.unlinked for (share id, sender person id, receiver person id) rows of any shares."""
    by_share: dict[int, list[Pair]] = {}
    for share_id, sender_pid, receiver_pid in rows:
        by_share.setdefault(share_id, []).append((sender_pid, receiver_pid, ""))
    if not by_share:
        return
    for share_id, sender_id, receiver_id in TagShare.objects.filter(
        pk__in=list(by_share)
    ).values_list("pk", "sender_id", "receiver_id"):
        links_event(
            share_id,
            sender_id,
            receiver_id,
            EventType.PROFILE_UNLINKED.value,
            by_share[share_id],
            reason=reason,
        )
