"""The ongoing sync (SPEC §6, §7): outbox events drained over every active link."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tagshare.nations.actors import Actor
from tagshare.outbox.drain import drain_until_idle
from tagshare.outbox.models import OutboxEvent
from tagshare.people import catalog, values
from tagshare.people.models import Person
from tagshare.people.selectors import person_history, person_tags
from tagshare.people.services import person_delete
from tagshare.sharing.models import LinkState, ReviewItem, ShareLink
from tagshare.sharing.reviews import reviews_apply, reviews_skip
from tagshare.tags.services import tag_apply, tag_remove
from tests.sharing.helpers import fresh as _get
from tests.sharing.helpers import local_write as _write


def _pair(receiver, tagged, make_person, share_and_accept, option="accept_all", **extra):
    here = make_person(receiver, email1="a@x.org", **extra)
    there = tagged(email1="a@x.org")
    share = share_and_accept(sync_option=option)
    drain_until_idle()
    return share, here, there


def test_most_recent_write_wins_in_both_directions(receiver, tagged, make_person, share_and_accept):
    # The seed's example: 9:00 in one nation, 9:30 in the other; the 9:30 value ends up in both.
    _, here, there = _pair(receiver, tagged, make_person, share_and_accept)
    _write(there, occupation="Organizer")  # 9:00, sending nation
    drain_until_idle()
    assert _get(here).occupation == "Organizer"
    _write(here, occupation="Teacher")  # 9:30, receiving nation
    drain_until_idle()
    assert (_get(here).occupation, _get(there).occupation) == ("Teacher", "Teacher")
    assert _get(here).field_versions["occupation"] == _get(there).field_versions["occupation"]


def test_blank_only_also_syncs_later_writes(receiver, tagged, make_person, share_and_accept):
    _, here, there = _pair(
        receiver, tagged, make_person, share_and_accept, option="blank_only", occupation="Nurse"
    )
    _write(there, occupation="Doctor")
    drain_until_idle()
    assert _get(here).occupation == "Doctor"


def test_review_queues_changes_to_non_blank_fields_and_fills_blanks(
    receiver, tagged, make_person, share_and_accept
):
    _share, here, there = _pair(
        receiver, tagged, make_person, share_and_accept, option="review", occupation="Nurse"
    )
    ReviewItem.objects.all().delete()
    _write(there, occupation="Doctor", employer="Clinic")
    drain_until_idle()
    assert (_get(here).occupation, _get(here).employer) == ("Nurse", "Clinic")  # blank filled
    item = ReviewItem.objects.get(nation=receiver, person=here)
    assert (item.field, item.current_value, item.proposed_value) == (
        "occupation",
        "Nurse",
        "Doctor",
    )


def test_applying_a_review_writes_the_proposed_version_so_both_sides_agree(
    receiver, receiver_admin, tagged, make_person, share_and_accept
):
    _, here, there = _pair(
        receiver, tagged, make_person, share_and_accept, option="review", occupation="Nurse"
    )
    ReviewItem.objects.all().delete()
    _write(there, occupation="Doctor")
    drain_until_idle()
    result = reviews_apply(
        nation=receiver, actor=Actor.for_user(receiver_admin), person_ids=[here.pk]
    )
    drain_until_idle()
    assert result == {"applied": 1, "stale": 0}
    assert _get(here).occupation == "Doctor"
    assert _get(here).field_versions["occupation"] == _get(there).field_versions["occupation"]
    assert not ReviewItem.objects.filter(status="pending").exists()  # nothing bounced back


def test_skipping_a_review_keeps_the_nations_own_value(
    receiver, receiver_admin, tagged, make_person, share_and_accept
):
    _, here, there = _pair(
        receiver, tagged, make_person, share_and_accept, option="review", occupation="Nurse"
    )
    ReviewItem.objects.all().delete()
    _write(there, occupation="Doctor")
    drain_until_idle()
    item = ReviewItem.objects.get(nation=receiver)
    assert reviews_skip(nation=receiver, actor=Actor.for_user(receiver_admin), ids=[item.pk]) == {
        "skipped": 1
    }
    assert _get(here).occupation == "Nurse"


def test_a_newer_proposal_replaces_the_older_pending_one(
    receiver, tagged, make_person, share_and_accept
):
    _, _here, there = _pair(
        receiver, tagged, make_person, share_and_accept, option="review", occupation="Nurse"
    )
    ReviewItem.objects.all().delete()
    _write(there, occupation="Doctor")
    drain_until_idle()
    _write(there, occupation="Surgeon")
    drain_until_idle()
    pending = ReviewItem.objects.filter(nation=receiver, status="pending")
    assert [i.proposed_value for i in pending] == ["Surgeon"]
    assert ReviewItem.objects.filter(nation=receiver, status="stale").count() == 1


def test_an_address_is_written_even_when_incomplete_and_never_reviewed(
    receiver, tagged, make_person, share_and_accept
):
    _, here, there = _pair(
        receiver,
        tagged,
        make_person,
        share_and_accept,
        option="review",
        home_address={"address1": "1 Main St", "city": "Boston", "zip": "02101"},
    )
    _write(there, home_address={"city": "Cambridge"})
    drain_until_idle()
    here = _get(here)
    assert (here.home_address1, here.home_city, here.home_zip) == ("", "Cambridge", "")
    assert not ReviewItem.objects.filter(field="home_address", status="pending").exists()


def test_fields_the_share_does_not_sync_stay_put(receiver, tagged, make_person, share_and_accept):
    _, here, there = _pair(receiver, tagged, make_person, share_and_accept)
    _write(there, party="Green")  # optional, not chosen
    drain_until_idle()
    assert _get(here).party == ""


def test_replaying_events_changes_nothing(receiver, tagged, make_person, share_and_accept):
    _, _here, there = _pair(receiver, tagged, make_person, share_and_accept)
    _write(there, occupation="Organizer")
    drain_until_idle()
    snapshot = list(Person.objects.order_by("id").values())
    OutboxEvent.objects.update(processed_at=None)  # every event, delivered again
    drain_until_idle()
    assert list(Person.objects.order_by("id").values()) == snapshot


def test_the_losing_value_is_kept_in_history(receiver, tagged, make_person, share_and_accept):
    _, here, there = _pair(receiver, tagged, make_person, share_and_accept, occupation="Nurse")
    _write(there, occupation="Doctor")
    drain_until_idle()
    entry = person_history(receiver, _get(here), field="occupation")[0]
    assert (entry["old"], entry["new"], entry["source"]) == ("Nurse", "Doctor", "share")


def test_values_travel_on_over_a_second_share(
    sender, receiver, make_nation, make_user, tagged, make_person, share_and_accept
):
    from tagshare.sharing import services

    _, here, there = _pair(receiver, tagged, make_person, share_and_accept)
    third = make_nation("lake", plan="organization")
    lake_admin = make_user(third, "admin")
    river_admin = make_user(receiver, "admin", email="second@river.example")
    far = make_person(third, email1="a@x.org")
    tag_apply(nation=receiver, actor=Actor.system(), person=_get(here), name="river friends")
    [second] = services.share_create(
        nation=receiver,
        actor=Actor.for_user(river_admin),
        tag_name="river friends",
        nations="lake",
        sync_data=True,
    )
    services.share_accept(
        nation=third, actor=Actor.for_user(lake_admin), share=second, sync_option="accept_all"
    )
    drain_until_idle()
    _write(there, occupation="Organizer")
    drain_until_idle()
    assert _get(far).occupation == "Organizer"


def test_a_newly_tagged_sender_profile_is_matched_and_linked(
    receiver, sender, tagged, make_person, share_and_accept
):
    share, _, _ = _pair(receiver, tagged, make_person, share_and_accept)
    newcomer = make_person(receiver, email1="b@x.org")
    theirs = make_person(sender, email1="b@x.org", employer="Library")
    tag_apply(nation=sender, actor=Actor.system(), person=theirs, name="climate")
    drain_until_idle()
    assert person_tags(_get(newcomer)) == ["north:climate"]
    assert _get(newcomer).employer == "Library"
    assert ShareLink.objects.get(share=share, sender_person=theirs).state == LinkState.SYNCED


def test_a_newly_tagged_profile_nobody_has_is_created_with_the_shared_tag(
    receiver, sender, tagged, make_person, share_and_accept
):
    tagged(email1="a@x.org")
    share = share_and_accept(create_profiles=True, accept_create=True)
    theirs = make_person(sender, email1="new@x.org", first_name="Neve")
    tag_apply(nation=sender, actor=Actor.system(), person=theirs, name="climate")
    drain_until_idle()
    link = ShareLink.objects.get(share=share, sender_person=theirs)
    assert (link.state, link.rule) == (LinkState.SYNCED, "created")
    created = Person.objects.get(pk=link.receiver_person_id)
    assert (created.nation_id, created.first_name) == (receiver.pk, "Neve")
    assert person_tags(created) == ["north:climate"]


def test_untagging_in_the_sender_ends_the_link_and_removes_the_shared_tag(
    receiver, sender, tagged, make_person, share_and_accept
):
    share, here, there = _pair(receiver, tagged, make_person, share_and_accept)
    tag_remove(nation=sender, actor=Actor.system(), person=_get(there), name="climate")
    drain_until_idle()
    assert person_tags(_get(here)) == []
    assert ShareLink.objects.get(share=share).state == LinkState.ENDED
    _write(there, occupation="Gone")
    drain_until_idle()
    assert _get(here).occupation == ""  # no more data syncs for that pair
    assert Person.objects.filter(pk__in=[here.pk, there.pk]).count() == 2


def test_deleting_a_linked_profile_ends_its_link(receiver, tagged, make_person, share_and_accept):
    share, here, _ = _pair(receiver, tagged, make_person, share_and_accept)
    person_delete(nation=receiver, actor=Actor.system(), person=_get(here))
    drain_until_idle()
    assert ShareLink.objects.get(share=share).state == LinkState.ENDED
    # The link keeps no dangling id: the database has no constraint to catch one.
    assert ShareLink.objects.get(share=share).receiver_person_id is None


def test_deleting_a_senders_profile_leaves_no_link_pointing_at_it(
    receiver, sender, tagged, make_person, share_and_accept
):
    _, here, there = _pair(receiver, tagged, make_person, share_and_accept)
    assert person_tags(_get(here)) == ["north:climate"]
    person_delete(nation=sender, actor=Actor.system(), person=_get(there))
    drain_until_idle()
    assert not ShareLink.objects.filter(sender_person_id=there.pk).exists()
    assert Person.objects.filter(pk=here.pk).exists()  # the data stays in the receiver
    assert person_tags(_get(here)) == []  # as if the sender had untagged it (SPEC §7)
    # Replaying the deletion changes nothing.
    from tagshare.outbox.drain import deliver

    deliver(list(OutboxEvent.objects.filter(kind="person.deleted", person_id=there.pk)))
    assert person_tags(_get(here)) == [] and Person.objects.filter(pk=here.pk).exists()


edits = st.lists(
    st.tuples(
        st.booleans(),
        st.sampled_from(["occupation", "employer", "middle_name"]),
        st.sampled_from(["", "A", "B", "C"]),
    ),
    min_size=1,
    max_size=8,
)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(edits=edits, option=st.sampled_from(["accept_all", "blank_only"]), replay=st.booleans())
def test_linked_profiles_converge_whatever_the_edits(
    receiver, sender, make_person, tagged, share_and_accept, edits, option, replay
):
    from tagshare.sharing.models import TagShare

    TagShare.objects.all().delete()
    Person.objects.all().delete()
    share, here, there = _pair(receiver, tagged, make_person, share_and_accept, option=option)
    for on_sender, field, value in edits:
        _write(there if on_sender else here, **{field: value})
        if replay:
            OutboxEvent.objects.update(processed_at=None)
    drain_until_idle()
    a, b = _get(here), _get(there)
    for name in share.synced_fields:
        assert values.same(values.read(a, name), values.read(b, name)), name
    assert set(catalog.ALWAYS_SYNCED) <= set(share.synced_fields)


def test_equal_values_never_become_review_items(receiver, tagged, make_person, share_and_accept):
    make_person(receiver, email1="a@x.org", first_name="Ann")
    tagged(email1="a@x.org", first_name="Ann")  # same values, written separately: other versions
    share_and_accept(sync_option="review")
    drain_until_idle()
    assert not ReviewItem.objects.filter(status="pending").exists()


def test_a_local_write_after_a_proposal_makes_it_stale(
    receiver, tagged, make_person, share_and_accept
):
    _, here, there = _pair(
        receiver, tagged, make_person, share_and_accept, option="review", occupation="Nurse"
    )
    ReviewItem.objects.all().delete()
    _write(there, occupation="Doctor")
    drain_until_idle()
    assert ReviewItem.objects.filter(nation=receiver, status="pending").count() == 1
    _write(here, occupation="Midwife")  # newer than the proposal
    drain_until_idle()
    assert not ReviewItem.objects.filter(nation=receiver, status="pending").exists()
