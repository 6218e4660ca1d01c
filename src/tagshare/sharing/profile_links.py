"""What merging or deleting a profile does to its share links.

Called by `people.merge.person_merge` and `people.services.person_delete` inside their
transactions, before the profile goes. A profile has at most one link per share on each side,
so these are a handful of rows, read one by one.
"""

from __future__ import annotations

from django.utils import timezone

from tagshare.sharing.models import LINKED_STATES, LinkState, ShareLink, ShareStatus, TagShare
from tagshare.sharing.webhook_events import end_links

DUPLICATE_SENDER = "already linked to another profile of the sending nation"


def links_fold(*, kept_id: int, gone_id: int) -> None:
    """Move the gone profile's links to the kept one, share by share.

    - As the receiving profile: the link now names the kept profile — unless the kept profile
      is already linked in that share, in which case the sender holds two profiles of this one
      person, and the gone profile's link turns ambiguous (SPEC §4), listing the kept one.
    - As the sending profile: the link now starts from the kept profile — unless the kept
      profile has its own link in that share; then the live one of the two stands (the kept
      profile's, if both are), and the other ends.
    """
    now = timezone.now()
    receiving = dict(
        ShareLink.objects.filter(receiver_person_id=kept_id, state__in=LINKED_STATES).values_list(
            "share_id", "pk"
        )
    )
    for link in ShareLink.objects.select_for_update().filter(receiver_person_id=gone_id):
        one = ShareLink.objects.filter(pk=link.pk)
        if link.share_id in receiving and link.state in LINKED_STATES:
            end_links(one, reason="profile_merged", updated_at=now)
            one.update(
                state=LinkState.AMBIGUOUS,
                reason=DUPLICATE_SENDER,
                receiver_person=None,
                candidates=[kept_id],
                updated_at=now,
            )
        else:
            one.update(receiver_person_id=kept_id, updated_at=now)

    sending = {
        share_id: (pk, state)
        for share_id, pk, state in ShareLink.objects.filter(sender_person_id=kept_id).values_list(
            "share_id", "pk", "state"
        )
    }
    partners: list[tuple[int, int]] = []  # (share, receiving profile) of sending links ended
    for link in ShareLink.objects.select_for_update().filter(sender_person_id=gone_id):
        one = ShareLink.objects.filter(pk=link.pk)
        mine = sending.get(link.share_id)
        if mine is not None:
            mine_live = mine[1] in LINKED_STATES
            if mine_live or link.state not in LINKED_STATES:
                if link.state in LINKED_STATES and link.receiver_person_id is not None:
                    partners.append((link.share_id, link.receiver_person_id))
                end_links(one, reason="profile_merged", updated_at=now)
                one.delete()  # as deleting the gone profile would
                continue
            ShareLink.objects.filter(pk=mine[0]).delete()  # not live: the gone one's stands
        one.update(sender_person_id=kept_id, updated_at=now)
    _untag_partners(partners)


def _untag_partners(partners: list[tuple[int, int]]) -> None:
    """The shared tag leaves receiving profiles whose sending profile's link ended in a merge,
    as when the sender deletes or untags that profile (SPEC §7) — unless another live link of
    the share still reaches them."""
    if not partners:
        return
    from tagshare.people.models import Person
    from tagshare.sharing.sync import take_shared_tag_off

    shares = TagShare.objects.filter(
        pk__in={share_id for share_id, _ in partners}, status=ShareStatus.APPROVED
    ).select_related("receiver", "receiver_tag")
    by_id = {share.pk: share for share in shares}
    people = Person.objects.in_bulk({person_id for _, person_id in partners})
    for share_id, person_id in partners:
        share, person = by_id.get(share_id), people.get(person_id)
        if share is None or person is None:
            continue
        if ShareLink.objects.filter(
            share=share, receiver_person_id=person_id, state__in=LINKED_STATES
        ).exists():
            continue
        take_shared_tag_off(share, person)


def live_links_sent_from(person_id: int) -> list[list[int]]:
    """[share id, receiving profile id] of the live links a sending profile has.

    `person_delete` puts them in its event: the links go with the profile, and the sync worker
    then takes the shared tag off those receiving profiles, as untagging would (SPEC §7).
    """
    return [
        [share_id, receiver_id]
        for share_id, receiver_id in ShareLink.objects.filter(
            sender_person_id=person_id,
            state__in=LINKED_STATES,
            receiver_person__isnull=False,
        ).values_list("share_id", "receiver_person_id")
    ]
