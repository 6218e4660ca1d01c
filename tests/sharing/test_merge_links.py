"""Merging profiles folds their share links into the kept profile (SPEC §8), on either side."""

from __future__ import annotations

from tagshare.nations.actors import Actor
from tagshare.outbox.drain import drain_until_idle
from tagshare.people.merge import person_merge
from tagshare.people.selectors import person_tags
from tagshare.sharing.models import LinkState, ShareLink
from tests.sharing.helpers import fresh as _get
from tests.sharing.helpers import local_write as _write


def _share_then_merge(share_and_accept, nation, *, keep, other):
    """Share with accept_all, let the initial sync settle, then merge `other` into `keep`."""
    share = share_and_accept(sync_option="accept_all")
    drain_until_idle()
    person_merge(nation=nation, actor=Actor.system(), keep=_get(keep), other=_get(other))
    return share


def test_a_receiving_profile_merged_away_hands_its_link_to_the_kept_one(
    receiver, tagged, make_person, share_and_accept
):
    gone = make_person(receiver, email1="a@x.org")
    kept = make_person(receiver, email1="ann@work.org", first_name="Ann")
    there = tagged(email1="a@x.org")
    share = _share_then_merge(share_and_accept, receiver, keep=kept, other=gone)
    link = ShareLink.objects.get(share=share)
    assert (link.receiver_person_id, link.state) == (kept.pk, LinkState.SYNCED)
    assert person_tags(_get(kept)) == ["north:climate"]
    _write(there, occupation="Welder")  # the sender's next edit reaches the kept profile
    drain_until_idle()
    assert _get(kept).occupation == "Welder"


def test_two_linked_receiving_profiles_merged_leave_the_sender_with_an_ambiguous_duplicate(
    receiver, tagged, make_person, share_and_accept
):
    gone = make_person(receiver, email1="a@x.org")
    kept = make_person(receiver, email1="b@x.org")
    first = tagged(email1="a@x.org")
    second = tagged(email1="b@x.org")
    share = _share_then_merge(share_and_accept, receiver, keep=kept, other=gone)
    duplicate = ShareLink.objects.get(share=share, sender_person=first)
    assert duplicate.state == LinkState.AMBIGUOUS
    assert duplicate.receiver_person_id is None and duplicate.candidates == [kept.pk]
    assert "already linked" in duplicate.reason
    stands = ShareLink.objects.get(share=share, sender_person=second)
    assert (stands.receiver_person_id, stands.state) == (kept.pk, LinkState.SYNCED)


def test_a_sending_profile_merged_away_hands_its_link_to_the_kept_one(
    sender, receiver, tagged, make_person, share_and_accept
):
    here = make_person(receiver, email1="a@x.org")
    gone = tagged(email1="a@x.org")
    kept = make_person(sender, email1="ann@home.org")
    share = _share_then_merge(share_and_accept, sender, keep=kept, other=gone)
    link = ShareLink.objects.get(share=share)
    assert (link.sender_person_id, link.receiver_person_id) == (kept.pk, here.pk)
    assert link.state == LinkState.SYNCED
    assert person_tags(_get(kept)) == ["climate"]  # the tag moved with the merge
    _write(kept, employer="Library")
    drain_until_idle()
    assert _get(here).employer == "Library"


def test_when_both_sending_profiles_are_linked_the_kept_ones_link_stands(
    sender, receiver, tagged, make_person, share_and_accept
):
    make_person(receiver, email1="a@x.org")
    mine = make_person(receiver, email1="b@x.org")
    gone = tagged(email1="a@x.org")
    kept = tagged(email1="b@x.org")
    share = _share_then_merge(share_and_accept, sender, keep=kept, other=gone)
    [link] = ShareLink.objects.filter(share=share)
    assert (link.sender_person_id, link.receiver_person_id) == (kept.pk, mine.pk)
