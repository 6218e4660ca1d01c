"""A share's life at the service level (SPEC §5.1, §5.2, §7): create, notify, accept or reject,
stop, edit and re-request — one rule per test."""

from __future__ import annotations

import pytest

from tagshare.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from tagshare.nations.actors import Actor
from tagshare.people.models import Person
from tagshare.people.selectors import person_tags
from tagshare.sharing import services
from tagshare.sharing.models import (
    LinkState,
    Notification,
    ReviewItem,
    ReviewStatus,
    ShareLink,
    ShareStatus,
    TagShare,
)
from tagshare.sharing.notifications import notifications_for, notifications_mark_read
from tagshare.sharing.selectors import share_counts, share_taggings_count
from tagshare.tags.services import tag_get_or_create


@pytest.fixture
def as_sender(sender_admin):
    return Actor.for_user(sender_admin)


@pytest.fixture
def as_receiver(receiver_admin):
    return Actor.for_user(receiver_admin)


@pytest.fixture
def climate(sender):
    return tag_get_or_create(nation=sender, actor=Actor.system(), name="climate")


@pytest.fixture
def create(sender, receiver, as_sender, climate):
    def run(nations="river", **settings):
        return services.share_create(
            nation=sender, actor=as_sender, tag_name="climate", nations=nations, **settings
        )

    return run


# --- who may share, and the create errors (SPEC §5.1) ----------------------------------------


def test_who_may_share_only_admins(sender, make_user, create, climate):
    staff = Actor.for_user(make_user(sender, "staff"))
    with pytest.raises(NotAllowed, match="admin"):
        services.share_create(nation=sender, actor=staff, tag_name="climate", nations="river")
    assert not TagShare.objects.exists()


def test_who_may_share_a_leader_plan_cannot_create_but_can_accept(
    make_nation, make_user, create, receiver
):
    leader = make_nation("lead", plan="leader")
    admin = Actor.for_user(make_user(leader, "admin"))
    tag_get_or_create(nation=leader, actor=Actor.system(), name="local")
    with pytest.raises(NotAllowed, match="leader plan"):
        services.share_create(nation=leader, actor=admin, tag_name="local", nations="river")
    [share] = create(nations="lead")
    services.share_accept(nation=leader, actor=admin, share=share)
    assert share.status == ShareStatus.APPROVED


def test_an_admin_of_another_nation_cannot_act_for_the_sender(sender, receiver_admin, climate):
    with pytest.raises(NotFound):
        services.share_create(
            nation=sender, actor=Actor.for_user(receiver_admin), tag_name="climate", nations="river"
        )


@pytest.mark.parametrize(
    ("nations", "error", "words"),
    [
        ("nowhere", ValidationFailed, "nowhere"),
        ("north", ValidationFailed, "own nation"),
        (" , ", ValidationFailed, "slugs"),
        ("river,nowhere", ValidationFailed, "nowhere"),
    ],
)
def test_create_errors_about_the_nations(create, nations, error, words):
    with pytest.raises(error, match=words):
        create(nations=nations)
    assert not TagShare.objects.exists() and not Notification.objects.exists()


def test_create_error_an_active_share_with_the_nation(create, receiver, as_receiver):
    [share] = create()
    with pytest.raises(Conflict, match="already shared with river"):
        create()
    services.share_accept(nation=receiver, actor=as_receiver, share=share)
    with pytest.raises(Conflict, match="already shared with river"):
        create()


def test_create_error_unknown_tag(sender, as_sender, receiver):
    with pytest.raises(NotFound, match="climate"):
        services.share_create(nation=sender, actor=as_sender, tag_name="climate", nations="river")


def test_create_error_a_tag_shared_in(create, receiver, as_receiver, make_nation):
    make_nation("third")
    [share] = create()
    services.share_accept(nation=receiver, actor=as_receiver, share=share)
    with pytest.raises(ValidationFailed, match="only its own tags"):
        services.share_create(
            nation=receiver, actor=as_receiver, tag_name="north:climate", nations="third"
        )


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"sync_data": True, "optional_fields": ["email1"]}, "always sync"),
        ({"sync_data": True, "optional_fields": ["shoe_size"]}, "shoe_size"),
        ({"optional_fields": ["party"]}, "sync_data"),
        ({"create_profiles": True}, "sync_data"),
    ],
)
def test_create_errors_about_the_settings(create, settings, words):
    with pytest.raises(ValidationFailed, match=words):
        create(**settings)


def test_comma_separated_slugs_make_one_share_per_nation_all_or_none(create, make_nation):
    make_nation("lake")
    with pytest.raises(ValidationFailed):
        create(nations="river, lake, nowhere")
    assert not TagShare.objects.exists()
    shares = create(nations="river, lake, RIVER")
    assert [s.receiver.slug for s in shares] == ["river", "lake"]
    assert all(s.status == ShareStatus.PENDING for s in shares)


# --- notifications (SPEC §5.2) ---------------------------------------------------------------


def test_the_pending_notification_names_the_sender_and_slug_tag(create, receiver):
    [share] = create(sync_data=True)
    [note] = notifications_for(receiver)
    assert (note.kind, note.share_id) == ("share.requested", share.pk)
    assert "Northside" in note.message and "north:climate" in note.message
    assert "data sync" in note.message


def test_accept_reject_and_stop_notify_the_sender(
    create, sender, receiver, as_receiver, make_nation, make_user
):
    lake = make_nation("lake", name="Lakeside")
    [to_river, to_lake] = create(nations="river,lake")
    services.share_accept(nation=receiver, actor=as_receiver, share=to_river)
    services.share_reject(nation=lake, actor=Actor.for_user(make_user(lake)), share=to_lake)
    services.share_stop(nation=receiver, actor=as_receiver, share=to_river)
    notes = list(notifications_for(sender))
    assert [(n.kind, n.share_id) for n in notes] == [
        ("share.stopped", to_river.pk),
        ("share.rejected", to_lake.pk),
        ("share.accepted", to_river.pk),
    ]
    assert "Riverside" in notes[0].message and "Lakeside" in notes[1].message


def test_marking_notifications_read_touches_only_the_nations_own(create, sender, receiver):
    create()
    [note] = notifications_for(receiver)
    assert notifications_mark_read(nation=sender, ids=[note.pk]) == 0
    assert notifications_mark_read(nation=receiver, ids=[note.pk]) == 1
    assert not notifications_for(receiver, unread_only=True).exists()


# --- accepting and rejecting (SPEC §5.2) -----------------------------------------------------


def test_accept_without_a_required_sync_option_is_refused(create, receiver, as_receiver, tagged):
    tagged(email1="a@x.org")
    [share] = create(sync_data=True)
    with pytest.raises(ValidationFailed, match="sync_option") as info:
        services.share_accept(nation=receiver, actor=as_receiver, share=share)
    assert info.value.errors == {"sync_option": "required"}
    share.refresh_from_db()
    assert share.status == ShareStatus.PENDING and share.receiver_tag is None
    assert not ShareLink.objects.exists()


def test_a_tag_only_share_takes_no_sync_option(create, receiver, as_receiver):
    [share] = create()
    with pytest.raises(ValidationFailed, match="sync_option"):
        services.share_accept(nation=receiver, actor=as_receiver, share=share, sync_option="review")


def test_create_profiles_only_if_offered(create, receiver, as_receiver):
    [share] = create(sync_data=True)
    with pytest.raises(ValidationFailed, match="does not offer"):
        services.share_accept(
            nation=receiver,
            actor=as_receiver,
            share=share,
            sync_option="review",
            create_profiles=True,
        )


def test_as_prospects_counts_only_with_create_profiles(create, receiver, as_receiver):
    [share] = create(sync_data=True, create_profiles=True)
    services.share_accept(
        nation=receiver, actor=as_receiver, share=share, sync_option="review", as_prospects=False
    )
    assert (share.accepted_create_profiles, share.as_prospects) == (False, True)


def test_the_chosen_option_is_recorded_for_both_nations(create, receiver, as_receiver):
    [share] = create(sync_data=True, create_profiles=True)
    services.share_accept(
        nation=receiver,
        actor=as_receiver,
        share=share,
        sync_option="blank_only",
        create_profiles=True,
        as_prospects=False,
    )
    share.refresh_from_db()
    assert (share.sync_option, share.accepted_create_profiles, share.as_prospects) == (
        "blank_only",
        True,
        False,
    )
    assert share.decided_by_id == as_receiver.user_id and share.decided_at is not None


def test_the_sender_cannot_accept_or_reject_its_own_share(create, sender, as_sender):
    [share] = create()
    with pytest.raises(NotAllowed, match="receiving nation"):
        services.share_accept(nation=sender, actor=as_sender, share=share)
    with pytest.raises(NotAllowed, match="receiving nation"):
        services.share_reject(nation=sender, actor=as_sender, share=share)


def test_receiver_staff_cannot_accept(create, receiver, make_user):
    [share] = create()
    with pytest.raises(NotAllowed, match="admin"):
        services.share_accept(
            nation=receiver, actor=Actor.for_user(make_user(receiver, "staff")), share=share
        )


def test_another_nation_finds_no_such_share(create, make_nation, sender, receiver):
    third = make_nation("third")
    [share] = create()
    with pytest.raises(NotFound):
        services.access_share_by_id(third, share.pk)
    for bad in ("x", -1, 0, 2**64, None):
        with pytest.raises(NotFound):
            services.access_share_by_id(sender, bad)
    assert services.access_share_by_id(sender, share.pk) == share
    assert services.access_share_by_id(receiver, str(share.pk)) == share
    with pytest.raises(NotFound):
        services.share_stop(nation=third, actor=Actor.system(), share=share)


def test_a_share_is_decided_once(create, receiver, as_receiver):
    [share] = create()
    services.share_reject(nation=receiver, actor=as_receiver, share=share)
    assert share.status == ShareStatus.DENIED
    with pytest.raises(Conflict, match="denied"):
        services.share_accept(nation=receiver, actor=as_receiver, share=share)
    with pytest.raises(Conflict, match="denied"):
        services.share_reject(nation=receiver, actor=as_receiver, share=share)


# --- stopping (SPEC §7) ----------------------------------------------------------------------


@pytest.fixture
def running(receiver, tagged, make_person, share_and_accept):
    here = [
        make_person(receiver, email1="a@x.org"),
        make_person(receiver, email1="b@x.org", occupation="Baker"),
    ]
    there = [tagged(email1="a@x.org", employer="Hospital"), tagged(email1="b@x.org")]
    make_person(receiver, email1="c@x.org", occupation="Nurse")
    tagged(email1="c@x.org", occupation="Doctor")  # a conflict queued for review on both sides
    share = share_and_accept(sync_option="review")
    assert share_counts(share)["synced"] == 3 and share_taggings_count(share) == 3
    assert ReviewItem.objects.filter(status=ReviewStatus.PENDING).count() == 2
    return share, here, there


@pytest.mark.parametrize("side", ["receiver", "sender"])
def test_stop_by_either_side_untags_ends_links_and_keeps_data(
    running, side, sender, receiver, as_sender, as_receiver
):
    share, here, there = running
    before = {p.pk: Person.objects.get(pk=p.pk).updated_at for p in here}
    nation, actor = (receiver, as_receiver) if side == "receiver" else (sender, as_sender)
    services.share_stop(nation=nation, actor=actor, share=share)
    share.refresh_from_db()
    assert (share.status, share.stopped_side, share.stopped_by_id) == (
        ShareStatus.STOPPED,
        side,
        actor.user_id,
    )
    # The shared tag leaves every receiving profile; the sender's tags stay.
    assert share_taggings_count(share) == 0
    assert [person_tags(p) for p in here] == [[], []]
    assert [person_tags(p) for p in there] == [["climate"], ["climate"]]
    assert all(Person.objects.get(pk=p.pk).updated_at > before[p.pk] for p in here)
    # All links end; data already synced stays; nothing is left waiting for review.
    assert set(ShareLink.objects.values_list("state", flat=True)) == {LinkState.ENDED}
    assert Person.objects.get(pk=here[0].pk).employer == "Hospital"
    assert Person.objects.get(pk=there[1].pk).occupation == "Baker"
    assert not ReviewItem.objects.filter(status=ReviewStatus.PENDING).exists()
    assert share_counts(share, viewer=receiver)["unreviewed"] == 0
    other = receiver if side == "sender" else sender
    assert notifications_for(other)[0].kind == "share.stopped"


def test_only_an_approved_share_can_be_stopped(create, receiver, as_receiver, as_sender, sender):
    [share] = create()
    with pytest.raises(Conflict, match="pending"):
        services.share_stop(nation=sender, actor=as_sender, share=share)
    services.share_accept(nation=receiver, actor=as_receiver, share=share)
    services.share_stop(nation=sender, actor=as_sender, share=share)
    with pytest.raises(Conflict, match="stopped"):
        services.share_stop(nation=receiver, actor=as_receiver, share=share)


# --- edit and re-request (SPEC §5.1) ---------------------------------------------------------


def test_settings_change_only_while_stopped(running, sender, as_sender):
    share, _, _ = running
    with pytest.raises(Conflict, match="only while it is stopped"):
        services.share_update(
            nation=sender, actor=as_sender, share=share, changes={"optional_fields": ["party"]}
        )
    with pytest.raises(Conflict):
        services.share_update(nation=sender, actor=as_sender, share=share, changes={}, request=True)
    share.refresh_from_db()
    assert (share.status, share.optional_fields) == (ShareStatus.APPROVED, [])


def test_only_the_sender_edits(running, receiver, as_receiver):
    share, _, _ = running
    services.share_stop(nation=receiver, actor=as_receiver, share=share)
    with pytest.raises(NotAllowed, match="sending nation"):
        services.share_update(
            nation=receiver, actor=as_receiver, share=share, changes={}, request=True
        )


def test_edit_while_stopped_keeps_it_stopped(running, sender, as_sender):
    share, _, _ = running
    services.share_stop(nation=sender, actor=as_sender, share=share)
    notes = Notification.objects.count()
    services.share_update(
        nation=sender, actor=as_sender, share=share, changes={"optional_fields": ["party"]}
    )
    share.refresh_from_db()
    assert (share.status, share.optional_fields) == (ShareStatus.STOPPED, ["party"])
    assert Notification.objects.count() == notes
    with pytest.raises(ValidationFailed, match="status"):
        services.share_update(
            nation=sender, actor=as_sender, share=share, changes={"status": "pending"}
        )


def test_turning_data_sync_off_drops_the_data_settings(
    create, receiver, as_receiver, sender, as_sender
):
    [share] = create(sync_data=True, optional_fields=["party"], create_profiles=True)
    services.share_accept(nation=receiver, actor=as_receiver, share=share, sync_option="review")
    services.share_stop(nation=sender, actor=as_sender, share=share)
    services.share_update(nation=sender, actor=as_sender, share=share, changes={"sync_data": False})
    share.refresh_from_db()
    assert (share.sync_data, share.optional_fields, share.create_profiles) == (False, [], False)


def test_edit_and_re_request_in_one_action(running, sender, receiver, as_sender, as_receiver):
    share, here, _ = running
    services.share_stop(nation=receiver, actor=as_receiver, share=share)
    services.share_update(
        nation=sender,
        actor=as_sender,
        share=share,
        changes={"optional_fields": ["party"]},
        request=True,
    )
    share.refresh_from_db()
    assert (share.status, share.optional_fields) == (ShareStatus.PENDING, ["party"])
    assert (share.sync_option, share.decided_at, share.requested_by_id) == (
        "",
        None,
        as_sender.user_id,
    )
    note = notifications_for(receiver)[0]
    assert (note.kind, note.share_id) == ("share.requested", share.pk)

    services.share_accept(nation=receiver, actor=as_receiver, share=share, sync_option="accept_all")
    assert share_counts(share)["synced"] == 3 and share_taggings_count(share) == 3
    assert [person_tags(p) for p in here] == [["north:climate"], ["north:climate"]]
    assert ShareLink.objects.count() == 3  # re-linked, not duplicated


def test_re_request_refused_while_a_newer_share_is_active(
    running, create, sender, receiver, as_sender, as_receiver
):
    share, _, _ = running
    services.share_stop(nation=receiver, actor=as_receiver, share=share)
    create()
    with pytest.raises(Conflict, match="active share"):
        services.share_update(nation=sender, actor=as_sender, share=share, changes={}, request=True)
    assert TagShare.objects.get(pk=share.pk).status == ShareStatus.STOPPED
