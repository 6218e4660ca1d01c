"""Identity clashes during the ongoing sync: refused and noted, never a failed batch.

An email or unique ID can be held by only one profile (and one slot) of a nation (SPEC §2.2).
When a synced value would break that, the value is not written, the reason is on the link, and
everything else syncs. Values the same batch releases are free to move.
"""

from __future__ import annotations

import pytest

from tagshare.nations.actors import Actor
from tagshare.outbox.drain import drain_until_idle
from tagshare.outbox.models import OutboxEvent
from tagshare.people.merge import person_merge
from tagshare.people.models import Person
from tagshare.people.services import person_update
from tagshare.sharing.models import LinkState, ShareLink
from tagshare.sharing.reconcile import share_reconcile


def _get(person: Person) -> Person:
    return Person.objects.get(pk=person.pk)


def _edit(person: Person, **changes: object) -> None:
    person_update(nation=person.nation, actor=Actor.system(), person=_get(person), changes=changes)


def _address(state: str) -> dict[str, str]:
    return {"address1": "1 Main St", "city": "Springfield", "state": state, "zip": "12345"}


def test_an_email_already_in_another_slot_is_refused_and_the_rest_syncs(
    receiver, tagged, make_person, share_and_accept
):
    here = make_person(receiver, email1="a@x.org")
    there = tagged(email1="a@x.org")
    share = share_and_accept(sync_option="review")
    drain_until_idle()
    # Under review, email1 becomes a review item, and email2 (blank here) would be written:
    # the receiving profile would hold a@x.org twice.
    _edit(there, email1="b@x.org", email2="a@x.org", occupation="Nurse")
    drain_until_idle()
    assert not OutboxEvent.objects.filter(processed_at__isnull=True).exists()
    got = _get(here)
    assert (got.email1, got.email2, got.occupation) == ("a@x.org", "", "Nurse")
    link = ShareLink.objects.get(share=share, sender_person=there)
    assert "email2 not synced" in link.reason and "already this profile's email1" in link.reason


@pytest.mark.parametrize("batch", [1, 1000])
def test_an_email_moving_between_profiles_syncs_however_events_are_batched(
    receiver, tagged, make_person, share_and_accept, batch
):
    r1 = make_person(receiver, email1="a@x.org")
    r2 = make_person(receiver, email1="c@x.org")
    s1 = tagged(email1="a@x.org")
    s2 = tagged(email1="c@x.org")
    share_and_accept(sync_option="accept_all")
    drain_until_idle()
    _edit(s1, email1="b@x.org")
    _edit(s2, email2="a@x.org")
    drain_until_idle(limit=batch)
    assert _get(r1).email1 == "b@x.org"
    assert _get(r2).email2 == "a@x.org"


def test_an_address_that_would_make_a_state_file_id_clash_is_refused(
    receiver, tagged, make_person, share_and_accept
):
    make_person(receiver, email1="r1@x.org", state_file_id="123", registered_address=_address("CA"))
    here = make_person(
        receiver, email1="a@x.org", state_file_id="123", registered_address=_address("NY")
    )
    there = tagged(email1="a@x.org", registered_address=_address("NY"))
    share = share_and_accept(sync_option="accept_all")
    drain_until_idle()
    _edit(there, registered_address=_address("CA"), occupation="Nurse")
    drain_until_idle()
    got = _get(here)
    assert (got.occupation, got.registered_state) == ("Nurse", "NY")
    assert "registered_address not synced" in ShareLink.objects.get(share=share).reason


def test_a_profile_with_two_links_in_one_share_passes_values_on(
    receiver, tagged, make_person, share_and_accept
):
    r = make_person(receiver, email1="a@x.org")
    s1 = tagged(email1="a@x.org")
    s2 = tagged(email1="b@x.org")
    share = share_and_accept(sync_option="accept_all")
    drain_until_idle()
    # Duplicates in the sender both linked to one receiving profile (what a race of two
    # matching runs could leave): a value from one must still reach the other.
    ShareLink.objects.filter(share=share, sender_person=s2).update(
        receiver_person=r, state=LinkState.SYNCED
    )
    _edit(s1, occupation="Nurse")
    drain_until_idle()
    assert (_get(r).occupation, _get(s2).occupation) == ("Nurse", "Nurse")


def test_reconciliation_ends_a_link_whose_profile_was_merged_away_and_links_again(
    receiver, receiver_admin, tagged, make_person, share_and_accept
):
    keep = make_person(receiver, first_name="Ann", last_name="Lee", email1="ann2@x.org")
    linked = make_person(receiver, email1="a@x.org")
    tagged(email1="a@x.org", first_name="Ann", last_name="Lee")
    share = share_and_accept(sync_option="accept_all")
    drain_until_idle()
    person_merge(nation=receiver, actor=Actor.for_user(receiver_admin), keep=keep, other=linked)
    drain_until_idle()
    share_reconcile(share)
    drain_until_idle()
    live = ShareLink.objects.filter(share=share, state__in=["matched", "synced"])
    assert [(link.receiver_person_id, link.rule) for link in live] == [(keep.pk, "email")]
