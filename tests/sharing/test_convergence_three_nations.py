"""Three linked nations converge whatever the edits and however events arrive (SPEC §2.3, §6, §6.2).

Nations A, B and C each hold one profile of the same person. Either A shares a tag with B and B
one of its own with C (values travel A→B→C through B), or A shares its tag with both (B and C
meet through A). Each share takes any sync option. Users in every nation edit a few synced
fields while outbox events arrive late, in any order and grouping, some of them twice. Once
everything has arrived (and, under `review`, every proposal has been applied), the three
profiles must agree on every synced field, on the value of the newest write, with every value
they lost still in their history, and delivering every event once more must change nothing.

The test drives only public pieces: `person_update` for writes, the outbox rows and the
handlers registered for their kinds for delivery, `reviews_apply` for decisions.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tagshare.nations.actors import Actor
from tagshare.nations.models import Nation, User
from tagshare.outbox import drain
from tagshare.outbox.drain import drain_until_idle
from tagshare.outbox.hlc import Version
from tagshare.outbox.models import OutboxEvent
from tagshare.people import values
from tagshare.people.models import Person, PersonChange
from tagshare.people.services import person_create, person_update
from tagshare.sharing import services as shares
from tagshare.sharing.models import LINKED_STATES, ReviewItem, ReviewStatus, ShareLink, TagShare
from tagshare.sharing.reviews import reviews_apply
from tagshare.tags.services import tag_apply

# A few always-synced fields of each kind that behaves differently: plain text, an address slot
# (written under every option, never reviewed), an email (identity rules) and a phone.
CHOICES: dict[str, list[Any]] = {
    "occupation": ["", "Nurse", "Doctor"],
    "employer": ["", "Clinic", "School"],
    "home_address": [
        "",
        {"city": "Boston"},
        {"address1": "1 Main St", "city": "Cambridge", "zip": "02139"},
    ],
    "email2": ["", "b@x.org", "c@x.org"],
    "mobile": ["", "617-555-0100", "+1 617 555 0199"],
}
OPTIONS = ["accept_all", "blank_only", "review"]
SLUGS = ("nation-a", "nation-b", "nation-c")
SETTLE_ROUNDS = 60  # far more than three profiles need; running out means sync never goes quiet


@dataclass(frozen=True)
class Edit:
    nation: int  # 0, 1, 2 = A, B, C
    field: str
    value: Any


@dataclass(frozen=True)
class Deliver:
    """Some of the pending events arrive; `seed` picks which, in what order and grouping, and
    which events arrive a second time. (Seeds rather than drawn orders: a counterexample prints
    whole, and shrinks without its later deliveries falling apart.)"""

    seed: int


@dataclass(frozen=True)
class Decide:
    """The nation's admin applies every pending review item of its own (SPEC §6.2)."""

    nation: int


def _plan(name: str, palette: list[Any]) -> st.SearchStrategy[list[Edit | Deliver | Decide]]:
    edit = st.builds(Edit, st.integers(0, 2), st.just(name), st.sampled_from(["", *palette]))
    others = [st.builds(Deliver, st.integers(0, 255)), st.builds(Decide, st.integers(0, 2))]
    step = st.sampled_from([edit] * 4 + others).flatmap(lambda kind: kind)  # two thirds edits
    return st.lists(step, min_size=3, max_size=20)


# One field per example, written with blank and one or two values: the same value written in
# two nations, and writes racing each other, are then common rather than rare (the
# counterexamples below turn up about once in 50–100 examples this way, once in several hundred
# with every field mixed into one example).
plans = st.sampled_from(sorted(CHOICES)).flatmap(
    lambda name: st.lists(
        st.sampled_from(CHOICES[name][1:]), min_size=1, max_size=2, unique_by=repr
    ).flatmap(lambda palette: _plan(name, palette))
)


@dataclass
class Coalition:
    nations: list[Nation]
    admins: list[User]


@pytest.fixture
def coalition(make_nation, make_user) -> Coalition:
    nations = [make_nation(slug, plan="organization") for slug in SLUGS]
    return Coalition(nations, [make_user(n, "admin") for n in nations])


# --- building the three linked profiles --------------------------------------------------------


def _link(
    coalition: Coalition, star: bool, options: Sequence[str]
) -> tuple[list[Person], list[TagShare]]:
    """One profile per nation, matched by email; A→B and B→C (chain) or A→B and A→C (star)."""
    a, b, c = coalition.nations
    admin_a, admin_b, admin_c = (Actor.for_user(u) for u in coalition.admins)
    people = [
        person_create(nation=n, actor=Actor.system(), values_in={"email1": "a@x.org"})
        for n in coalition.nations
    ]
    tag_apply(nation=a, actor=Actor.system(), person=people[0], name="climate")
    if star:
        first, second = shares.share_create(
            nation=a, actor=admin_a, tag_name="climate", nations="nation-b,nation-c", sync_data=True
        )
    else:
        tag_apply(nation=b, actor=Actor.system(), person=people[1], name="friends")
        [first] = shares.share_create(
            nation=a, actor=admin_a, tag_name="climate", nations="nation-b", sync_data=True
        )
        [second] = shares.share_create(
            nation=b, actor=admin_b, tag_name="friends", nations="nation-c", sync_data=True
        )
    shares.share_accept(nation=b, actor=admin_b, share=first, sync_option=options[0])
    shares.share_accept(nation=c, actor=admin_c, share=second, sync_option=options[1])
    drain_until_idle()  # the setup's own events; the random deliveries start after this
    linked = ShareLink.objects.filter(state__in=LINKED_STATES, receiver_person__isnull=False)
    assert linked.count() == 2, "the three profiles must be linked for the test to mean anything"
    return people, [TagShare.objects.get(pk=first.pk), TagShare.objects.get(pk=second.pk)]


# --- delivering events the way a real outbox may: late, reordered, grouped, twice ----------------


def _deliver_in_groups(rng: random.Random, sequence: list[OutboxEvent]) -> None:
    """Hand `sequence` over in consecutive groups of random sizes, each like one claimed batch."""
    cuts = [i for i in range(1, len(sequence)) if rng.random() < 0.5]
    for start, end in zip([0, *cuts], [*cuts, len(sequence)], strict=True):
        drain.deliver(sequence[start:end])


def _deliver(
    rng: random.Random, events: list[OutboxEvent], *, everything: bool, after: int
) -> list[OutboxEvent]:
    """Deliver the first few of `events` in a random order (all of them if `everything`), with
    up to three events (new ones, or processed ones with ids above `after`) delivered a second
    time at random points. Returns the events delivered for the first time."""
    order = list(events)
    rng.shuffle(order)
    chosen = order if everything else order[: rng.randint(0, len(order))]
    seen = [
        *OutboxEvent.objects.filter(processed_at__isnull=False, pk__gt=after).order_by("id"),
        *chosen,
    ]
    sequence = list(chosen)
    for _ in range(rng.randint(0, 3) if seen else 0):
        sequence.insert(rng.randint(0, len(sequence)), rng.choice(seen))
    _deliver_in_groups(rng, sequence)
    return chosen


def _pending_events() -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(processed_at__isnull=True).order_by("id"))


def _mark_processed(events: Sequence[OutboxEvent]) -> None:
    OutboxEvent.objects.filter(pk__in=[e.pk for e in events]).update(processed_at=timezone.now())


def _decide(coalition: Coalition, index: int) -> None:
    nation = coalition.nations[index]
    person_ids = list(
        ReviewItem.objects.filter(nation=nation, status=ReviewStatus.PENDING)
        .values_list("person_id", flat=True)
        .distinct()
    )
    if person_ids:
        reviews_apply(
            nation=nation, actor=Actor.for_user(coalition.admins[index]), person_ids=person_ids
        )


def _settle(rng: random.Random, coalition: Coalition, after: int) -> None:
    """Deliver until nothing is pending, apply every review item, and again until quiet."""
    for _ in range(SETTLE_ROUNDS):
        pending = _pending_events()
        if pending:
            _mark_processed(_deliver(rng, pending, everything=True, after=after))
            continue
        if not ReviewItem.objects.filter(status=ReviewStatus.PENDING).exists():
            return
        for index in range(3):
            _decide(coalition, index)
    pytest.fail(f"sync did not go quiet within {SETTLE_ROUNDS} rounds (values ping-pong)")


# --- what must hold afterwards -----------------------------------------------------------------


@dataclass(frozen=True)
class Written:
    nation: int
    field: str
    value: Any  # as stored (cleaned), in its JSON form
    version: Version


def _write(coalition: Coalition, person: Person, edit: Edit) -> Written | None:
    change = person_update(
        nation=coalition.nations[edit.nation],
        actor=Actor.for_user(coalition.admins[edit.nation]),
        person=Person.objects.get(pk=person.pk),
        changes={edit.field: edit.value},
    )
    if change is None:
        return None  # the profile already held that value: no write, no version
    entry = change.entries()[edit.field]
    return Written(edit.nation, edit.field, entry["new"], Version(*entry["version"]))


def _history(person: Person) -> list[tuple[str, str, Any, Any]]:
    """(kind, field, old, new) of every recorded change of the profile, oldest first."""
    return [
        (change.kind, name, entry["old"], entry["new"])
        for change in PersonChange.objects.filter(person_id=person.pk).order_by("id")
        for name, entry in change.entries().items()
    ]


def _assert_history_is_unbroken(person: Person) -> None:
    """Each recorded change starts from the value the previous one left, and the last one left
    the value the profile holds: no value was ever replaced without its old value recorded."""
    held: dict[str, Any] = {}
    for kind, name, old, new in _history(person):
        assert values.same(held.get(name, ""), old), (
            person.nation.slug,
            kind,
            name,
            held.get(name),
            old,
        )
        held[name] = new
    for name, value in held.items():
        assert values.same(values.to_json(values.read(person, name)), value), (
            person.nation.slug,
            name,
        )


def _snapshot() -> tuple[list[dict[str, Any]], int, int, int]:
    return (
        list(Person.objects.order_by("id").values()),
        PersonChange.objects.count(),
        OutboxEvent.objects.count(),
        ReviewItem.objects.filter(status=ReviewStatus.PENDING).count(),
    )


def _check_converged(
    people: list[Person], linked_shares: list[TagShare], written: list[Written]
) -> None:
    a, b, c = (Person.objects.get(pk=p.pk) for p in people)
    synced = set(linked_shares[0].synced_fields) | set(linked_shares[1].synced_fields)
    for name in sorted(synced):
        held = [values.to_json(values.read(p, name)) for p in (a, b, c)]
        assert values.same(held[0], held[1]) and values.same(held[1], held[2]), (name, held)

    # The newest write of each field is what all three hold (SPEC §6: most recent wins).
    for name in {w.field for w in written}:
        newest = max((w for w in written if w.field == name), key=lambda w: w.version)
        for p in (a, b, c):
            assert values.same(values.to_json(values.read(p, name)), newest.value), (
                p.nation.slug,
                name,
                newest,
            )

    # Every losing value stays in history (SPEC §2.3): the chain of old → new is unbroken, and
    # each value a user wrote and later lost is recorded as replaced on that user's profile.
    for p in (a, b, c):
        _assert_history_is_unbroken(p)
    for w in written:
        own = (a, b, c)[w.nation]
        if not values.same(values.to_json(values.read(own, w.field)), w.value):
            assert any(
                name == w.field and values.same(old, w.value) for _, name, old, _ in _history(own)
            ), w


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    star=st.booleans(),
    options=st.tuples(st.sampled_from(OPTIONS), st.sampled_from(OPTIONS)),
    plan=plans,
    seed=st.integers(0, 255),
)
def test_three_linked_nations_converge_on_the_newest_write(coalition, star, options, plan, seed):
    rng = random.Random(seed)  # the final deliveries and the replay
    with transaction.atomic():  # each example starts from the same three empty nations
        people, linked_shares = _link(coalition, star, options)
        setup_done = OutboxEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
        written: list[Written] = []
        for step in plan:
            if isinstance(step, Edit):
                if (w := _write(coalition, people[step.nation], step)) is not None:
                    written.append(w)
            elif isinstance(step, Deliver):
                delivered = _deliver(
                    random.Random(step.seed), _pending_events(), everything=False, after=setup_done
                )
                _mark_processed(delivered)
            else:
                _decide(coalition, step.nation)
        _settle(rng, coalition, after=setup_done)
        _check_converged(people, linked_shares, written)

        # Every event delivered once more, in any order and grouping, changes nothing: no new
        # values, versions, history, events or review items (SPEC §2.3).
        before = _snapshot()
        everything = list(OutboxEvent.objects.order_by("id"))
        rng.shuffle(everything)
        _deliver_in_groups(rng, everything)
        assert _snapshot() == before
        transaction.set_rollback(True)


# --- counterexamples found by the property above, kept as plain regression tests ---------------
# One cause: when a linked profile already holds the value a newer write carries, sync skips it
# and the profile keeps its older version (or none), so a write older than the skipped one can
# still win there later. They pass once sync adopts the newer version of an equal value.


def _chain_accepting_all(coalition: Coalition) -> list[Person]:
    people, _ = _link(coalition, star=False, options=["accept_all", "accept_all"])
    return people


def _held(people: list[Person], name: str) -> list[Any]:
    return [values.read(Person.objects.get(pk=p.pk), name) for p in people]


def test_a_cleared_field_is_not_refilled_by_an_older_value_from_the_far_nation(coalition):
    # A (one end of the chain) fills a field, C (the other end) writes the same value, then A
    # clears it — all before the worker runs. A's clear is the newest write, so all three must
    # end blank. B was blank already, so A's clear looks like "nothing to change" to B and B
    # keeps no version; C's older "Clinic" then finds B blank and fills it, and B passes it on.
    a, b, c = _chain_accepting_all(coalition)
    _write(coalition, a, Edit(0, "employer", "Clinic"))
    _write(coalition, c, Edit(2, "employer", "Clinic"))
    _write(coalition, a, Edit(0, "employer", ""))
    drain_until_idle()
    assert _held([a, b, c], "employer") == ["", "", ""]


def test_an_equal_value_arriving_first_does_not_let_an_older_one_win(coalition):
    # B (the middle) writes "Nurse"; C writes "Doctor"; then A writes "Nurse". A's write is the
    # newest. It reaches B before C's older "Doctor" does; B already holds "Nurse", keeps its
    # own older version, and so takes "Doctor" when it arrives: B and C end on the older value.
    a, b, c = _chain_accepting_all(coalition)
    _write(coalition, b, Edit(1, "occupation", "Nurse"))
    from_b = _pending_events()
    _mark_processed(from_b)  # B's own event is late
    _write(coalition, c, Edit(2, "occupation", "Doctor"))
    from_c = _pending_events()
    _mark_processed(from_c)
    _write(coalition, a, Edit(0, "occupation", "Nurse"))
    from_a = _pending_events()
    _mark_processed(from_a)
    for events in (from_a, from_c, from_b):
        drain.deliver(events)
    drain_until_idle()
    assert _held([a, b, c], "occupation") == ["Nurse", "Nurse", "Nurse"]


def test_an_applied_review_does_not_bring_back_an_older_value(coalition):
    # A shares with B (accept_all) and with C (review). C writes "Nurse", A "Doctor", B "Nurse":
    # B's write is the newest. C is asked to review A's "Doctor"; A then takes B's "Nurse" and
    # passes it to C, who holds "Nurse" already — so C keeps its own older version and the
    # "Doctor" proposal is not dropped as stale. Applying it puts the older value back in C.
    people, _ = _link(coalition, star=True, options=["accept_all", "review"])
    a, b, c = people
    _write(coalition, c, Edit(2, "occupation", "Nurse"))
    _write(coalition, a, Edit(0, "occupation", "Doctor"))
    _write(coalition, b, Edit(1, "occupation", "Nurse"))
    drain_until_idle()
    _decide(coalition, 2)
    drain_until_idle()
    assert _held([a, b, c], "occupation") == ["Nurse", "Nurse", "Nurse"]
