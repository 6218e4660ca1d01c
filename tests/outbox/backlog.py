"""A sync backlog for worker tests: linked pairs, edits queued with no worker running, and the
check that the drained result is the one a clean drain gives.

Every edit is made before any worker runs and handlers read the profiles' current values, so a
clean drain leaves each linked pair holding, on both sides, the newest write of each synced
field (SPEC §6: "most recent = most accurate"), and writes each of those newest values exactly
once, with its version, into the side that did not have it. A worker killed mid-batch, or
several draining side by side, must end in that same state: nothing lost, nothing written twice.
"""

from __future__ import annotations

import io
import random
from collections import Counter
from dataclasses import dataclass, field

from django.core.management import call_command
from django.db.models import Max

from tagshare.nations.actors import Actor
from tagshare.nations.models import Nation
from tagshare.nations.services import nation_create, user_create
from tagshare.outbox.models import OutboxEvent
from tagshare.people.bulk import people_bulk_create
from tagshare.people.bulk_update import Write, people_bulk_update
from tagshare.people.models import Person, PersonChange, Source
from tagshare.sharing import services as sharing
from tagshare.sharing.models import LINKED_STATES, ReviewItem, ShareLink
from tagshare.tags.bulk import tags_bulk_apply

SYNCED = ("occupation", "employer", "middle_name")  # always synced by a data share
NOT_SYNCED = "party"  # optional, and this share does not choose it
EDITS_PER_ROUND = 500  # one bulk write per nation per round; a profile at most once per round

Version = tuple[int, int]
HistoryKey = tuple[int, str, Version]  # (profile, field, version)


@dataclass(frozen=True)
class Newest:
    """The newest write of one field of one linked pair, as it stood before draining."""

    holder: int  # the profile that has it
    other: int  # the profile of the pair the sync must copy it into
    value: str
    version: Version


@dataclass
class Backlog:
    share_id: int
    pairs: list[tuple[int, int]]  # (sender profile id, receiver profile id)
    first_change_id: int  # history rows from here on are the edits' and the drain's
    first_event_id: int  # outbox events from here on too
    edits: int = 0
    # (pair index, field) -> its newest write, for each field edited on either side
    newest: dict[tuple[int, str], Newest] = field(default_factory=dict)
    unsynced: dict[int, str] = field(default_factory=dict)  # receiver id -> its NOT_SYNCED value

    def expected_sync_writes(self) -> Counter[HistoryKey]:
        return Counter(
            (newest.other, name, newest.version) for (_, name), newest in self.newest.items()
        )


def pending_events() -> int:
    return OutboxEvent.objects.filter(processed_at__isnull=True).count()


def queue_backlog(*, pairs: int, edits: int, seed: int) -> Backlog:
    """Two nations with an accepted data share (accept_all) linking `pairs` profiles, then
    `edits` profile writes on both sides, left pending in the outbox."""
    sender = nation_create(slug="north", name="North", plan="organization")
    receiver = nation_create(slug="river", name="River", plan="enterprise")
    sender_admin = user_create(nation=sender, email="a@north.example", role="admin")
    receiver_admin = user_create(nation=receiver, email="a@river.example", role="admin")
    rows = [
        {"email1": f"p{i}@example.org", "first_name": f"P{i}", "last_name": "Fault"}
        for i in range(pairs)
    ]
    people_bulk_create(nation=sender, actor=Actor.system(), rows=rows)
    people_bulk_create(nation=receiver, actor=Actor.system(), rows=rows)
    tags_bulk_apply(
        nation=sender,
        actor=Actor.system(),
        pairs=[
            (pid, "climate")
            for pid in Person.objects.filter(nation=sender).values_list("pk", flat=True)
        ],
    )
    [share] = sharing.share_create(
        nation=sender,
        actor=Actor.for_user(sender_admin),
        tag_name="climate",
        nations="river",
        sync_data=True,
    )
    sharing.share_accept(
        nation=receiver, actor=Actor.for_user(receiver_admin), share=share, sync_option="accept_all"
    )
    call_command("worker", "--until-idle", stdout=io.StringIO())  # the setup's own events
    assert pending_events() == 0
    linked = list(
        ShareLink.objects.filter(share=share, state__in=LINKED_STATES)
        .exclude(receiver_person__isnull=True)
        .order_by("id")
        .values_list("sender_person_id", "receiver_person_id")
    )
    assert len(linked) == pairs, "every profile should be linked to its twin (same email)"
    backlog = Backlog(
        share_id=share.pk,
        pairs=[(s, r) for s, r in linked if r is not None],
        first_change_id=(PersonChange.objects.aggregate(last=Max("id"))["last"] or 0) + 1,
        first_event_id=(OutboxEvent.objects.aggregate(last=Max("id"))["last"] or 0) + 1,
    )
    _edit(backlog, sender, receiver, edits, random.Random(seed))
    _record_newest(backlog)
    return backlog


def _edit(
    backlog: Backlog, sender: Nation, receiver: Nation, edits: int, rng: random.Random
) -> None:
    number = 0
    while number < edits:
        chosen = rng.sample(
            range(len(backlog.pairs)), min(EDITS_PER_ROUND, len(backlog.pairs), edits - number)
        )
        writes: dict[int, list[Write]] = {sender.pk: [], receiver.pk: []}
        people = Person.objects.in_bulk([pid for index in chosen for pid in backlog.pairs[index]])
        for index in chosen:
            side = rng.randrange(2)
            person = people[backlog.pairs[index][side]]
            names = rng.sample(SYNCED, rng.randint(1, 2))
            if side == 0 and rng.random() < 0.2:
                names.append(NOT_SYNCED)
            writes[person.nation_id].append(
                Write(person=person, changes={name: f"{name}-{number}" for name in names})
            )
            number += 1
        for nation in (sender, receiver):
            refused = people_bulk_update(
                nation=nation, actor=Actor.system(), writes=writes[nation.pk]
            )
            assert not refused, refused
    backlog.edits = number


def _record_newest(backlog: Backlog) -> None:
    """What a clean drain must end with, read from the profiles before any worker runs."""
    people = Person.objects.in_bulk([pid for pair in backlog.pairs for pid in pair])
    for index, (sender_id, receiver_id) in enumerate(backlog.pairs):
        sender, receiver = people[sender_id], people[receiver_id]
        backlog.unsynced[receiver_id] = getattr(receiver, NOT_SYNCED)
        for name in SYNCED:
            versions = [_version(p, name) for p in (sender, receiver)]
            if versions[0] == versions[1]:
                continue  # never edited: nothing to sync
            holder, other = (sender, receiver) if versions[0] > versions[1] else (receiver, sender)
            backlog.newest[(index, name)] = Newest(
                holder.pk, other.pk, getattr(holder, name), max(versions)
            )


def _version(person: Person, name: str) -> Version:
    stored = person.field_versions.get(name)
    return (int(stored[0]), int(stored[1])) if stored else (0, 0)


def assert_drained_like_a_clean_run(backlog: Backlog) -> None:
    """Nothing pending, every pair converged on its newest writes, each sync write made once."""
    assert pending_events() == 0, f"{pending_events()} events were left in the outbox"
    people = Person.objects.in_bulk([pid for pair in backlog.pairs for pid in pair])
    wrong = []
    for (index, name), newest in sorted(backlog.newest.items()):
        for person in (people[pid] for pid in backlog.pairs[index]):
            held = (getattr(person, name), _version(person, name))
            if held != (newest.value, newest.version):
                wrong.append(f"pair {index}, profile {person.pk}, {name}: {held}, not {newest}")
    for receiver_id, value in backlog.unsynced.items():
        if getattr(people[receiver_id], NOT_SYNCED) != value:
            wrong.append(f"profile {receiver_id}: {NOT_SYNCED} is not synced by the share")
    assert not wrong, f"{len(wrong)} fields differ from a clean drain, e.g. {wrong[:5]}"

    recorded: Counter[HistoryKey] = Counter()
    synced: Counter[HistoryKey] = Counter()
    for change in PersonChange.objects.filter(id__gte=backlog.first_change_id):
        for name, entry in change.entries().items():
            key = (change.person_id, name, (int(entry["version"][0]), int(entry["version"][1])))
            recorded[key] += 1
            if change.source == Source.SHARE:
                synced[key] += 1
    twice = {key: count for key, count in recorded.items() if count > 1}
    assert not twice, f"a write was recorded again when replayed: {list(twice.items())[:5]}"
    expected = backlog.expected_sync_writes()
    missing, extra = expected - synced, synced - expected
    assert not missing and not extra, (
        f"sync history differs from a clean drain: {sum(missing.values())} writes missing "
        f"(e.g. {list(missing)[:3]}), {sum(extra.values())} unexpected (e.g. {list(extra)[:3]})"
    )
    assert not ReviewItem.objects.exists(), "accept_all never queues review items"
    linked = ShareLink.objects.filter(share_id=backlog.share_id, state__in=LINKED_STATES).count()
    assert linked == len(backlog.pairs), "a link ended while draining"
