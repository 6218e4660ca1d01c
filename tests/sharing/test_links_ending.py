"""What ending a link does (SPEC §7): untagging, merging and deleting profiles of a share."""

from tagshare.nations.actors import Actor
from tagshare.outbox.drain import drain_until_idle
from tagshare.people.models import Person
from tagshare.sharing.models import LinkState, ReviewItem, ShareLink
from tagshare.sharing.reviews import reviews_apply
from tagshare.tags.services import tag_remove
from tests.sharing.helpers import fresh as _get
from tests.sharing.helpers import local_write as _write


def test_untagging_in_the_sender_leaves_no_pending_review_item_for_the_ended_pair(
    sender, receiver, receiver_admin, tagged, make_person, share_and_accept
):
    """SPEC §7: "The sender removes the tag from a profile → ... the link ends, no more data
    syncs for that pair". The pair's pending review item goes stale (no longer counted as
    unreviewed), as the items of a stopped share do: applying it would copy the sender's value
    over the ended link."""
    here = make_person(receiver, email1="a@x.org", occupation="Nurse")
    there = tagged(email1="a@x.org")
    share = share_and_accept(sync_option="review")
    drain_until_idle()
    _write(there, occupation="Doctor")
    drain_until_idle()
    assert ReviewItem.objects.filter(share=share, nation=receiver, status="pending").count() == 1
    tag_remove(nation=sender, actor=Actor.system(), person=_get(there), name="climate")
    drain_until_idle()
    assert ShareLink.objects.get(share=share).state == LinkState.ENDED
    result = reviews_apply(
        nation=receiver, actor=Actor.for_user(receiver_admin), person_ids=[here.pk]
    )
    assert _get(here).occupation == "Nurse", "a value synced over an ended link"
    assert result == {"applied": 0, "stale": 0}


def test_a_write_made_after_the_sender_untagged_does_not_reach_the_old_partner(
    sender, receiver, tagged, make_person, share_and_accept
):
    """SPEC §7: after the sender removes the tag "no more data syncs for that pair". The worker
    handles a batch's events grouped by kind (person.updated before tag.removed) and reads
    current values: a write made after the untag, before the worker ran, must not cross."""
    here = make_person(receiver, email1="a@x.org")
    there = tagged(email1="a@x.org")
    share = share_and_accept(sync_option="accept_all")
    drain_until_idle()
    _write(there, employer="Library")  # before the untag: syncs
    tag_remove(nation=sender, actor=Actor.system(), person=_get(there), name="climate")
    _write(there, occupation="Spy")  # after the untag: must not
    drain_until_idle()
    assert ShareLink.objects.get(share=share).state == LinkState.ENDED
    assert _get(here).occupation in (None, ""), "written after the link ended"


def test_a_sending_profile_merged_into_another_linked_one_takes_the_shared_tag_off_its_partner(
    sender, receiver, tagged, make_person, share_and_accept
):
    """SPEC §3: the shared tag is owned by the sender and "only the share puts it on and takes
    it off"; §7: when a sender profile stops carrying the tag (untagged, deleted) the shared
    tag leaves the linked receiving profile. Merging two linked sender profiles ends the other
    one's link (profile_links.links_fold), and its receiving partner loses the shared tag at
    once — not only when a reconciliation notices a tag with no link."""
    from tagshare.people.merge import person_merge
    from tagshare.people.selectors import person_tags
    from tagshare.sharing.selectors import share_counts, share_taggings_count

    partner = make_person(receiver, email1="a@x.org")
    mine = make_person(receiver, email1="b@x.org")
    gone = tagged(email1="a@x.org")
    kept = tagged(email1="b@x.org")
    share = share_and_accept(sync_option="accept_all")
    drain_until_idle()
    assert person_tags(_get(partner)) == ["north:climate"]
    person_merge(nation=sender, actor=Actor.system(), keep=_get(kept), other=_get(gone))
    drain_until_idle()
    assert person_tags(_get(mine)) == ["north:climate"]
    assert share_counts(share)["synced"] == 1
    assert person_tags(_get(partner)) == [], "shared tag left on a profile with no link"
    assert share_taggings_count(share) == 1


def test_a_deleted_receiving_profile_is_created_anew_by_the_next_matching_run(
    sender, receiver, tagged, make_person, share_and_accept
):
    """SPEC §7: "The receiving nation deletes a linked profile → that link ends; if the share
    creates profiles, the next matching run creates it anew from the sender's current data."
    """
    from tagshare.people.selectors import person_tags
    from tagshare.people.services import person_delete
    from tagshare.sharing.reconcile import share_reconcile

    here = make_person(receiver, email1="a@x.org", occupation="Nurse")
    there = tagged(email1="a@x.org", first_name="Ann")
    drain_until_idle()
    share = share_and_accept(
        sync_option="accept_all", create_profiles=True, accept_create=True, as_prospects=True
    )
    drain_until_idle()
    person_delete(nation=receiver, actor=Actor.system(), person=_get(here))
    drain_until_idle()
    assert ShareLink.objects.get(share=share).state == LinkState.ENDED
    _write(there, employer="Library")  # the sender's current data, written while unlinked
    drain_until_idle()
    share_reconcile(share)
    drain_until_idle()
    link = ShareLink.objects.get(share=share)
    assert (link.state, link.rule) == (LinkState.SYNCED, "created")
    anew = Person.objects.get(pk=link.receiver_person_id, nation=receiver)
    assert (anew.email1, anew.first_name, anew.employer, anew.occupation) == (
        "a@x.org",
        "Ann",
        "Library",
        "Nurse",  # the sender got it from the initial sync
    )
    assert anew.is_prospect
    assert person_tags(anew) == ["north:climate"]
