"""A link's reason lists its notes (SPEC §5.4: why a pair was not synced, field by field)."""

from __future__ import annotations

from tagshare.sharing.models import ShareLink, link_reason

LIMIT = ShareLink._meta.get_field("reason").max_length


def _notes(count: int) -> list[str]:
    return [
        f"external_id not synced: External ID 'X-{i}' belongs to person {1000 + i}"
        for i in range(count)
    ]


def test_a_reason_with_room_lists_every_note():
    notes = _notes(2)
    assert link_reason(notes, LIMIT) == "; ".join(notes)


def test_a_reason_too_long_keeps_whole_notes_and_counts_the_rest():
    notes = _notes(9)
    reason = link_reason(notes, LIMIT)
    assert len(reason) <= LIMIT
    *shown, more = reason.split("; ")
    # Every note shown is whole (a cut one could name another profile: "person 10" of 1003).
    assert shown == notes[: len(shown)] and shown
    assert more == f"and {len(notes) - len(shown)} more"


def test_a_single_note_longer_than_the_reason_is_cut_and_says_so():
    note = "email2 not synced: " + "a" * 300 + "@x.org belongs to person 12"
    reason = link_reason([note], LIMIT)
    assert len(reason) == LIMIT and reason.endswith("…")
    assert reason[:-1] == note[: LIMIT - 1]
