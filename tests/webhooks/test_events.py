"""What fires webhooks: a share's request and decisions, profiles linked and unlinked, synced fields."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tagshare.nations.actors import Actor
from tagshare.outbox.drain import drain_until_idle
from tagshare.outbox.models import OutboxEvent
from tagshare.people.models import Person
from tagshare.people.services import person_delete, person_update
from tagshare.sharing import services
from tagshare.sharing.models import ShareLink, TagShare
from tagshare.tags.services import tag_apply, tag_remove
from tagshare.webhooks.deliver import deliver_due
from tagshare.webhooks.models import WebhookDelivery

pytestmark = pytest.mark.django_db


def send_all() -> None:
    while deliver_due(now=timezone.now()):
        pass


def payloads(inbox, path, event):
    return [r.json["data"] for r in inbox.at(path) if r.event == event]


@pytest.fixture
def coalition(nation, other_nation, admin, other_admin, make_person):
    """Alpha tags a@x.org `climate`; beta holds the same person; both have a webhook."""

    class World:
        alpha, beta = nation, other_nation
        alpha_actor, beta_actor = Actor.for_user(admin), Actor.for_user(other_admin)
        there = make_person(nation, email1="a@x.org", first_name="Ann")
        here = make_person(other_nation, email1="a@x.org")

        def share(self, **settings) -> TagShare:
            [share] = services.share_create(
                nation=self.alpha,
                actor=self.alpha_actor,
                tag_name="climate",
                nations="beta",
                **settings,
            )
            return share

        def accept(self, share: TagShare, **choices) -> TagShare:
            services.share_accept(nation=self.beta, actor=self.beta_actor, share=share, **choices)
            share.refresh_from_db()
            return share

        def shared(self, **choices) -> TagShare:
            return self.accept(self.share(sync_data=True), sync_option="accept_all", **choices)

    tag_apply(nation=nation, actor=Actor.system(), person=World.there, name="climate")
    return World()


def test_a_request_goes_to_the_receiver_and_the_acceptance_to_both(coalition, hook, inbox):
    hook(coalition.alpha)
    hook(coalition.beta)
    share = coalition.share(sync_data=True)
    send_all()
    assert inbox.events("/alpha") == []
    [requested] = payloads(inbox, "/beta", "share.requested")
    assert requested["share"] == {
        "id": share.pk,
        "side": "receiver",
        "tag": "alpha:climate",
        "sender": "alpha",
        "receiver": "beta",
        "status": "pending",
        "sync_data": True,
        "stopped_side": None,
    }

    coalition.accept(share, sync_option="accept_all")
    send_all()
    [to_sender] = payloads(inbox, "/alpha", "share.accepted")
    [to_receiver] = payloads(inbox, "/beta", "share.accepted")
    assert (to_sender["share"]["side"], to_receiver["share"]["side"]) == ("sender", "receiver")
    assert to_sender["share"]["id"] == to_receiver["share"]["id"] == share.pk
    assert to_sender["share"]["status"] == "approved"


def test_a_rejection_goes_to_both(coalition, hook, inbox):
    hook(coalition.alpha)
    hook(coalition.beta)
    share = coalition.share()
    services.share_reject(nation=coalition.beta, actor=coalition.beta_actor, share=share)
    send_all()
    assert payloads(inbox, "/alpha", "share.rejected")[0]["share"]["status"] == "denied"
    assert len(payloads(inbox, "/beta", "share.rejected")) == 1


def test_accepting_links_the_matched_profiles_for_both_nations(coalition, hook, inbox):
    hook(coalition.alpha, "profile.linked")
    hook(coalition.beta, "profile.linked")
    share = coalition.shared()
    send_all()
    expected = [
        {"sender_person_id": coalition.there.pk, "receiver_person_id": coalition.here.pk,
         "rule": "email"}
    ]  # fmt: skip
    [to_sender] = payloads(inbox, "/alpha", "profile.linked")
    [to_receiver] = payloads(inbox, "/beta", "profile.linked")
    assert to_sender == {"share_id": share.pk, "side": "sender", "links": expected}
    assert to_receiver == {"share_id": share.pk, "side": "receiver", "links": expected}


def test_tagging_a_sender_profile_sends_profile_linked_after_the_drain(
    coalition, hook, inbox, make_person
):
    share = coalition.shared()
    hook(coalition.alpha, "profile.linked")
    hook(coalition.beta, "profile.linked")
    newcomer = make_person(coalition.beta, email1="b@x.org")
    theirs = make_person(coalition.alpha, email1="b@x.org")
    tag_apply(nation=coalition.alpha, actor=Actor.system(), person=theirs, name="climate")
    send_all()
    assert inbox.received == []  # the sync engine links it when it drains the outbox
    drain_until_idle()
    send_all()
    link = {"sender_person_id": theirs.pk, "receiver_person_id": newcomer.pk, "rule": "email"}
    assert payloads(inbox, "/alpha", "profile.linked") == [
        {"share_id": share.pk, "side": "sender", "links": [link]}
    ]
    assert payloads(inbox, "/beta", "profile.linked") == [
        {"share_id": share.pk, "side": "receiver", "links": [link]}
    ]


def test_a_profile_the_share_creates_is_linked_and_its_fields_synced(
    coalition, hook, inbox, make_person
):
    hook(coalition.beta, "profile.linked", "field.synced")
    alone = make_person(coalition.alpha, email1="c@x.org", first_name="Cy")
    tag_apply(nation=coalition.alpha, actor=Actor.system(), person=alone, name="climate")
    share = coalition.accept(
        coalition.share(sync_data=True, create_profiles=True),
        sync_option="accept_all",
        create_profiles=True,
    )
    drain_until_idle()
    send_all()
    copy = ShareLink.objects.get(share=share, sender_person=alone).receiver_person
    links = [p["links"] for p in payloads(inbox, "/beta", "profile.linked")]
    assert [
        {"sender_person_id": alone.pk, "receiver_person_id": copy.pk, "rule": "created"}
    ] in links
    changes = [c for p in payloads(inbox, "/beta", "field.synced") for c in p["changes"]]
    created = [c for c in changes if c["person_id"] == copy.pk]
    assert len(created) == 1 and created[0]["created"] is True
    assert {"email1", "first_name"} <= set(created[0]["fields"])


def _settled(coalition, hook, *nations, event=None):
    """The coalition's share with its initial sync drained, and an endpoint on each nation
    given (for `event` only, or for every event)."""
    share = coalition.shared()
    drain_until_idle()
    for nation in nations:
        hook(nation, *([event] if event else []))
    return share


def test_a_synced_edit_sends_field_synced_to_the_nation_whose_profile_changed(
    coalition, hook, inbox
):
    share = _settled(coalition, hook, coalition.alpha, coalition.beta, event="field.synced")
    person_update(
        nation=coalition.alpha,
        actor=Actor.system(),
        person=Person.objects.get(pk=coalition.there.pk),
        changes={"occupation": "Baker"},
    )
    drain_until_idle()
    send_all()
    [synced] = payloads(inbox, "/beta", "field.synced")
    [change] = synced["changes"]
    assert change["person_id"] == coalition.here.pk
    assert change["fields"] == ["occupation"]
    assert change["share_id"] == share.pk and change["created"] is False
    assert Person.objects.get(pk=coalition.here.pk).occupation == "Baker"
    # Alpha's own edit is not a synced field: alpha's endpoint hears nothing.
    assert payloads(inbox, "/alpha", "field.synced") == []


def test_untagging_sends_profile_unlinked_to_both(coalition, hook, inbox):
    share = _settled(coalition, hook, coalition.alpha, coalition.beta, event="profile.unlinked")
    tag_remove(
        nation=coalition.alpha,
        actor=Actor.system(),
        person=Person.objects.get(pk=coalition.there.pk),
        name="climate",
    )
    drain_until_idle()
    # A replayed event finds no live link left to end: no second profile.unlinked.
    OutboxEvent.objects.filter(kind="tag.removed").update(processed_at=None)
    drain_until_idle()
    send_all()
    pair = {"sender_person_id": coalition.there.pk, "receiver_person_id": coalition.here.pk}
    for path, side in (("/alpha", "sender"), ("/beta", "receiver")):
        assert payloads(inbox, path, "profile.unlinked") == [
            {"share_id": share.pk, "side": side, "links": [pair], "reason": "tag_removed"}
        ]


def test_deleting_a_linked_profile_sends_profile_unlinked(coalition, hook, inbox):
    share = _settled(coalition, hook, coalition.alpha, event="profile.unlinked")
    person_delete(
        nation=coalition.beta,
        actor=Actor.system(),
        person=Person.objects.get(pk=coalition.here.pk),
    )
    drain_until_idle()
    send_all()
    assert payloads(inbox, "/alpha", "profile.unlinked") == [
        {
            "share_id": share.pk,
            "side": "sender",
            "links": [{"sender_person_id": coalition.there.pk, "receiver_person_id": None}],
            "reason": "profile_deleted",
        }
    ]


def test_deleting_a_sending_profile_unlinks_it_once_and_tells_both(coalition, hook, inbox):
    share = _settled(coalition, hook, coalition.alpha, coalition.beta, event="profile.unlinked")
    person_delete(
        nation=coalition.alpha,
        actor=Actor.system(),
        person=Person.objects.get(pk=coalition.there.pk),
    )
    drain_until_idle()
    OutboxEvent.objects.filter(kind="person.deleted").update(processed_at=None)  # a replay
    drain_until_idle()
    send_all()
    pair = {"sender_person_id": coalition.there.pk, "receiver_person_id": coalition.here.pk}
    for path, side in (("/alpha", "sender"), ("/beta", "receiver")):
        assert payloads(inbox, path, "profile.unlinked") == [
            {"share_id": share.pk, "side": side, "links": [pair], "reason": "profile_deleted"}
        ]


def test_stopping_unlinks_every_pair_and_tells_both(coalition, hook, inbox):
    share = _settled(coalition, hook, coalition.alpha, coalition.beta)
    services.share_stop(nation=coalition.beta, actor=coalition.beta_actor, share=share)
    send_all()
    for path in ("/alpha", "/beta"):
        assert sorted(inbox.events(path)) == ["profile.unlinked", "share.stopped"]
        [stopped] = payloads(inbox, path, "share.stopped")
        assert stopped["share"]["stopped_side"] == "receiver"
        [unlinked] = payloads(inbox, path, "profile.unlinked")
        assert unlinked["reason"] == "share_stopped" and len(unlinked["links"]) == 1


def test_nations_without_webhooks_get_no_deliveries(coalition):
    share = coalition.shared()
    drain_until_idle()
    services.share_stop(nation=coalition.alpha, actor=coalition.alpha_actor, share=share)
    assert WebhookDelivery.objects.count() == 0
