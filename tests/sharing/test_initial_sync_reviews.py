"""Review items of an initial sync (SPEC §5.3 review, §6.2): one on each side, each decidable."""

from tagshare.nations.actors import Actor
from tagshare.outbox.drain import drain_until_idle
from tagshare.sharing.models import ReviewItem
from tagshare.sharing.reviews import reviews_apply
from tests.sharing.helpers import fresh as _get
from tests.sharing.helpers import local_write as _write


def test_an_initial_sync_review_item_can_be_applied_by_the_side_holding_the_newer_value(
    sender, receiver, sender_admin, tagged, make_person, share_and_accept
):
    """SPEC §5.3 review: "a review item on each side (§6.2)"; §6.2: "Apply selected writes the
    proposed values into its own profile". The sender wrote its value after the receiver, so
    its item proposes the receiver's older version: applying it still writes it (with a fresh
    version, which then reaches the receiver), rather than calling it stale and doing nothing."""
    here = make_person(receiver, email1="a@x.org", occupation="Nurse")  # written first
    there = tagged(email1="a@x.org", occupation="Doctor")  # written later: the newer version
    drain_until_idle()  # both profiles existed (and were synced nowhere) before the share
    share = share_and_accept(sync_option="review")
    drain_until_idle()
    item = ReviewItem.objects.get(share=share, nation=sender, person=there, status="pending")
    assert (item.current_value, item.proposed_value) == ("Doctor", "Nurse")
    result = reviews_apply(nation=sender, actor=Actor.for_user(sender_admin), ids=[item.pk])
    drain_until_idle()
    assert result == {"applied": 1, "stale": 0}
    assert _get(there).occupation == "Nurse"
    assert _get(here).occupation == "Nurse"


def test_after_the_other_side_applies_the_initial_sync_item_no_contrary_item_is_left_pending(
    sender, receiver, receiver_admin, tagged, make_person, share_and_accept
):
    """SPEC §6.2: applying writes "with the proposed version, so both sides then agree". Once the
    receiver applies the sender's value both hold "Doctor"; the sender's item, proposing the
    receiver's old "Nurse", goes stale instead of staying unreviewed (or undoing the decision)."""
    here = make_person(receiver, email1="a@x.org", occupation="Nurse")
    there = tagged(email1="a@x.org", occupation="Doctor")
    drain_until_idle()  # both profiles existed before the share
    share = share_and_accept(sync_option="review")
    drain_until_idle()
    mine = ReviewItem.objects.get(share=share, nation=receiver, person=here, status="pending")
    assert reviews_apply(nation=receiver, actor=Actor.for_user(receiver_admin), ids=[mine.pk]) == {
        "applied": 1,
        "stale": 0,
    }
    drain_until_idle()
    assert (_get(here).occupation, _get(there).occupation) == ("Doctor", "Doctor")
    left = ReviewItem.objects.filter(share=share, status="pending")
    assert [(i.nation_id, i.proposed_value) for i in left] == []


def test_the_newer_sides_item_goes_stale_once_that_side_writes_the_field_again(
    sender, receiver, sender_admin, tagged, make_person, share_and_accept
):
    """SPEC §6.2: "a proposal that is no longer newer than the target's value is dropped as
    stale". The sender's item may be applied only while its value is the one it was queued
    against: after a new local write, applying it must not overwrite that write."""
    here = make_person(receiver, email1="a@x.org", occupation="Nurse")
    there = tagged(email1="a@x.org", occupation="Doctor")
    drain_until_idle()
    share = share_and_accept(sync_option="review")
    drain_until_idle()
    item = ReviewItem.objects.get(share=share, nation=sender, person=there, status="pending")
    _write(there, occupation="Surgeon")
    drain_until_idle()
    result = reviews_apply(nation=sender, actor=Actor.for_user(sender_admin), ids=[item.pk])
    assert result["applied"] == 0
    assert _get(there).occupation == "Surgeon"
    item.refresh_from_db()
    assert item.status == "stale"
    assert ReviewItem.objects.filter(share=share, status="pending").count() == 1  # receiver's
    assert _get(here).occupation == "Nurse"
