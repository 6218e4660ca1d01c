"""What accepting a share does (SPEC §5.3), one rule per test."""

import pytest

from tagshare.people.models import Person
from tagshare.people.selectors import person_history, person_tags
from tagshare.sharing.models import LinkState, ReviewItem, ShareLink
from tagshare.sharing.selectors import share_counts, share_taggings_count
from tests.sharing.helpers import fresh as _get


def test_matched_profiles_are_linked_and_get_the_shared_tag(
    receiver, tagged, make_person, share_and_accept
):
    here = make_person(receiver, first_name="Ann", email1="ann@x.org")
    tagged(first_name="Ann", email1="ANN@x.org")
    share = share_and_accept(sync_data=False)
    assert person_tags(here) == ["north:climate"]
    link = ShareLink.objects.get(share=share)
    assert (link.receiver_person_id, link.state, link.rule) == (here.pk, LinkState.SYNCED, "email")
    assert share_taggings_count(share) == 1


def test_blank_fields_are_filled_in_both_directions_under_every_option(
    receiver, tagged, make_person, share_and_accept
):
    for option in ("review", "accept_all", "blank_only"):
        Person.objects.all().delete()
        here = make_person(receiver, email1="a@x.org", occupation="Nurse")
        there = tagged(email1="a@x.org", employer="Hospital")
        from tagshare.sharing.models import TagShare

        TagShare.objects.all().delete()
        share_and_accept(sync_option=option)
        assert (_get(here).employer, _get(there).occupation) == ("Hospital", "Nurse"), option


def test_the_senders_address_overwrites_under_every_option(
    receiver, tagged, make_person, share_and_accept
):
    here = make_person(
        receiver, email1="a@x.org", home_address={"address1": "1 Old Rd", "city": "Oldtown"}
    )
    tagged(email1="a@x.org", home_address={"city": "Newtown"})
    share_and_accept(sync_option="review")
    here = _get(here)
    assert (here.home_address1, here.home_city) == ("", "Newtown")
    assert not ReviewItem.objects.filter(field="home_address").exists()


def test_accept_all_conflicts_take_the_senders_value_and_keep_the_loser_in_history(
    receiver, tagged, make_person, share_and_accept
):
    here = make_person(receiver, email1="a@x.org", occupation="Nurse")
    tagged(email1="a@x.org", occupation="Doctor")
    share = share_and_accept(sync_option="accept_all")
    assert _get(here).occupation == "Doctor"
    entry = person_history(receiver, here, field="occupation")[0]
    assert (entry["old"], entry["new"], entry["source"], entry["share_id"]) == (
        "Nurse",
        "Doctor",
        "share",
        share.pk,
    )


def test_blank_only_conflicts_keep_each_sides_value(
    receiver, tagged, make_person, share_and_accept
):
    here = make_person(receiver, email1="a@x.org", occupation="Nurse")
    there = tagged(email1="a@x.org", occupation="Doctor")
    share_and_accept(sync_option="blank_only")
    assert (_get(here).occupation, _get(there).occupation) == ("Nurse", "Doctor")


def test_review_conflicts_queue_an_item_on_each_side(
    sender, receiver, tagged, make_person, share_and_accept
):
    here = make_person(receiver, email1="a@x.org", occupation="Nurse")
    there = tagged(email1="a@x.org", occupation="Doctor")
    share = share_and_accept(sync_option="review")
    items = {(i.nation_id, i.person_id): i for i in ReviewItem.objects.filter(share=share)}
    mine = items[(receiver.pk, here.pk)]
    theirs = items[(sender.pk, there.pk)]
    assert (mine.field, mine.current_value, mine.proposed_value) == (
        "occupation",
        "Nurse",
        "Doctor",
    )
    assert (theirs.current_value, theirs.proposed_value) == ("Doctor", "Nurse")
    assert (_get(here).occupation, _get(there).occupation) == ("Nurse", "Doctor")
    assert share_counts(share, viewer=receiver)["unreviewed"] == 1


def test_synced_values_carry_the_senders_version(receiver, tagged, make_person, share_and_accept):
    here = make_person(receiver, email1="a@x.org")
    there = tagged(email1="a@x.org", employer="Hospital")
    share_and_accept()
    assert _get(here).field_versions["employer"] == there.field_versions["employer"]


@pytest.mark.parametrize(
    ("as_prospects", "row", "expected"),
    [
        (True, {"email1": "n@x.org", "support_level": 1}, (False, True)),
        (False, {"email1": "n@x.org", "support_level": 2}, (True, False)),
        (False, {"email1": "n@x.org", "support_level": 3}, (False, False)),
        (False, {"email1": "n@x.org"}, (True, False)),
        (False, {"email1": "n@x.org", "email_opt_in": False}, (False, False)),
        (
            False,
            {
                "first_name": "N",
                "last_name": "O",
                "mobile": "3125550100",
                "mobile_opt_in": False,
                "do_not_contact": True,
            },
            (False, False),
        ),
        (False, {"first_name": "N", "last_name": "O", "phone": "3125550100"}, (True, False)),
    ],
)
def test_new_profiles_are_prospects_or_get_a_support_status(
    receiver, tagged, share_and_accept, as_prospects, row, expected
):
    there = tagged(**row)
    share = share_and_accept(
        optional_fields=["support_level"],
        create_profiles=True,
        accept_create=True,
        as_prospects=as_prospects,
    )
    link = ShareLink.objects.get(share=share)
    assert (link.state, link.rule) == (LinkState.SYNCED, "created")
    created = Person.objects.get(pk=link.receiver_person_id)
    assert created.nation_id == receiver.pk
    assert (created.is_supporter, created.is_prospect) == expected
    assert created.field_versions == {f: v for f, v in there.field_versions.items()}
    assert person_tags(created) == ["north:climate"]


def test_without_create_profiles_unmatched_people_stay_not_found(
    receiver, tagged, share_and_accept
):
    tagged(email1="nobody@x.org")
    share = share_and_accept(create_profiles=True, accept_create=False)
    assert share_counts(share)["not_found"] == 1
    assert not Person.objects.filter(nation=receiver).exists()


def test_ambiguous_pairs_are_listed_and_not_synced(receiver, tagged, make_person, share_and_accept):
    a = make_person(receiver, first_name="Sam", last_name="Lee", birthdate="1990-01-01")
    b = make_person(receiver, first_name="Sam", last_name="Lee", birthdate="1990-01-01")
    tagged(first_name="Sam", last_name="Lee", birthdate="1990-01-01", occupation="Chef")
    share = share_and_accept()
    link = ShareLink.objects.get(share=share)
    assert (link.state, sorted(link.candidates)) == (LinkState.AMBIGUOUS, sorted([a.pk, b.pk]))
    assert not Person.objects.filter(occupation="Chef", nation=receiver).exists()
    assert person_tags(a) == person_tags(b) == []


def test_two_sender_profiles_claiming_one_receiver_profile_are_ambiguous(
    receiver, tagged, make_person, share_and_accept
):
    make_person(
        receiver, first_name="Kim", last_name="Park", birthdate="1970-01-01", mobile="3125550111"
    )
    tagged(first_name="Kim", last_name="Park", birthdate="1970-01-01")
    tagged(first_name="Kim", last_name="Park", mobile="312 555 0111")
    share = share_and_accept()
    assert share_counts(share)["ambiguous"] == 2


@pytest.mark.parametrize("path", ["reconcile_set_based", "reconcile_links"])
def test_resuming_after_a_crash_gives_the_same_result_as_one_clean_run(
    receiver, tagged, make_person, share_and_accept, monkeypatch, path
):
    from tagshare.sharing import initial_sync

    # Each path reconciles batches on its own: the crash hits whichever one is taking them.
    monkeypatch.setattr(initial_sync, "SET_BASED", path == "reconcile_set_based")
    for i in range(7):
        make_person(receiver, email1=f"p{i}@x.org", occupation=f"Job {i}")
        tagged(email1=f"p{i}@x.org", employer=f"Employer {i}")
    real = getattr(initial_sync, path)
    calls = {"n": 0}

    def crash_on_second_batch(share, links):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker killed")
        return real(share, links)

    monkeypatch.setattr(initial_sync, path, crash_on_second_batch)
    monkeypatch.setattr(initial_sync, "BATCH", 3)
    share = share_and_accept()  # the accept stands; its sync job records the crash
    from tagshare.sharing.selectors import share_latest_job

    assert share.status == "approved"
    assert share_latest_job(share).status == "failed"
    assert "worker killed" in share_latest_job(share).detail
    assert share_counts(share)["synced"] == 3 and share_counts(share)["matched"] == 4
    monkeypatch.setattr(initial_sync, path, real)
    initial_sync.share_initial_sync(share, batch=3)
    assert share_counts(share)["synced"] == 7
    for i in range(7):
        here = Person.objects.get(nation=receiver, email1=f"p{i}@x.org")
        assert here.employer == f"Employer {i}"
        assert len(person_history(receiver, here, field="employer")) == 1  # written once, not twice
    assert ShareLink.objects.filter(share=share).count() == 7


def test_a_renamed_sender_tag_renames_the_shared_tag(
    sender, receiver, tagged, make_person, share_and_accept
):
    from tagshare.nations.actors import Actor
    from tagshare.tags.models import Tag
    from tagshare.tags.services import tag_rename

    here = make_person(receiver, email1="a@x.org")
    tagged(email1="a@x.org")
    share_and_accept(sync_data=False)
    tag_rename(
        nation=sender,
        actor=Actor.system(),
        tag=Tag.objects.get(nation=sender, name="climate"),
        new_name="climate action",
    )
    assert person_tags(here) == ["north:climate action"]


def test_a_profile_given_the_shared_tag_shows_as_updated_even_with_nothing_to_reconcile(
    receiver, tagged, make_person, share_and_accept
):
    # Lists of "people changed since" must see the new tag, whether or not values moved too.
    same = make_person(receiver, first_name="Ann", email1="ann@x.org")
    changed = make_person(receiver, first_name="Bo", email1="bo@x.org")
    tagged(first_name="Ann", email1="ann@x.org")
    tagged(first_name="Bo", email1="bo@x.org", occupation="Baker")
    before = {p.pk: _get(p).updated_at for p in (same, changed)}
    share_and_accept(sync_option="accept_all")
    assert _get(changed).occupation == "Baker"
    for person in (same, changed):
        assert _get(person).updated_at > before[person.pk]
        assert person_tags(person) == ["north:climate"]


def _vanish(person):
    """Delete a profile the way a concurrent delete lands for a transaction that already
    matched it: the row is gone, and nothing cleared the link naming it."""
    from django.db import connection

    from tagshare.people.models import PersonEmail
    from tagshare.tags.models import Tagging

    PersonEmail.objects.filter(person=person).delete()
    Tagging.objects.filter(person=person).delete()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM people_personchange WHERE person_id = %s", [person.pk])
        cursor.execute("DELETE FROM people_person WHERE id = %s", [person.pk])


def test_a_profile_deleted_while_the_share_was_matching_ends_its_link(
    receiver, tagged, make_person, share_and_accept, monkeypatch
):
    from tagshare.sharing import initial_sync
    from tagshare.sharing.selectors import share_latest_job

    gone = make_person(receiver, email1="gone@x.org")
    kept = make_person(receiver, email1="kept@x.org")
    tagged(email1="gone@x.org", occupation="Nurse")
    tagged(email1="kept@x.org", occupation="Baker")
    real = initial_sync.match_and_link

    def deleted_meanwhile(share, **kwargs):
        matched = real(share, **kwargs)
        _vanish(gone)
        return matched

    monkeypatch.setattr(initial_sync, "match_and_link", deleted_meanwhile)
    share = share_and_accept(sync_option="accept_all")
    assert share_latest_job(share).status == "done"
    link = ShareLink.objects.get(share=share, sender_person__email1="gone@x.org")
    assert (link.state, link.receiver_person_id) == (LinkState.ENDED, None)
    assert share_taggings_count(share) == 1 and person_tags(kept) == ["north:climate"]
    assert _get(kept).occupation == "Baker"


def test_reconciliation_ends_links_naming_profiles_that_no_longer_exist(
    receiver, tagged, make_person, share_and_accept
):
    from tagshare.sharing.reconcile import share_reconcile

    here = make_person(receiver, email1="a@x.org")
    there = tagged(email1="b@x.org")
    make_person(receiver, email1="b@x.org")
    tagged(email1="a@x.org")
    share = share_and_accept(sync_option="accept_all")
    assert share_counts(share)["synced"] == 2
    _vanish(here)  # a receiving profile, gone without its link being told
    _vanish(there)  # a sending one
    assert share_reconcile(share).status == "done"
    assert not ShareLink.objects.filter(share=share, sender_person_id=there.pk).exists()
    assert not ShareLink.objects.filter(receiver_person_id=here.pk).exists()
    # Its sender profile was matched again (SPEC §7): nobody has a@x.org in the receiver now.
    link = ShareLink.objects.get(share=share, sender_person__email1="a@x.org")
    assert (link.state, link.receiver_person_id) == (LinkState.NOT_FOUND, None)


def test_reconciling_costs_the_same_queries_for_few_or_many_pairs(
    receiver, tagged, make_person, share_and_accept, monkeypatch
):
    """Set-based per batch: a profile read or written one query at a time (a column the batch
    did not load, say) would make the count grow with the pairs."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tagshare.sharing import initial_sync
    from tagshare.sharing.models import TagShare

    def queries(pairs: int) -> int:
        Person.objects.all().delete()
        TagShare.objects.all().delete()
        for i in range(pairs):
            make_person(
                receiver,
                email1=f"p{i}@x.org",
                first_name="Ann",
                occupation="Nurse",
                support_level=3,
                state_file_id=f"S{i}",
                registered_address={"state": "NY", "city": "Albany"},
            )
            tagged(
                email1=f"p{i}@x.org",
                email2=f"q{i}@x.org",
                first_name="Anne",
                employer="Hospital",
                occupation="Doctor",
                support_level=1,
                registered_address={"state": "NY", "city": "Troy"},
            )
        with monkeypatch.context() as patched:  # accepted, matched and tagged, not reconciled
            patched.setattr(initial_sync, "reconcile_matched", lambda *args, **kwargs: 0)
            share = share_and_accept(
                sync_option="accept_all", optional_fields=["support_level", "state_file_id"]
            )
        with CaptureQueriesContext(connection) as captured:
            assert initial_sync.reconcile_matched(share) == pairs
        here = Person.objects.get(nation=receiver, email1="p0@x.org")
        assert (here.first_name, here.email2, here.employer, here.is_supporter) == (
            "Anne",
            "q0@x.org",
            "Hospital",
            True,
        )
        assert (here.state_file_id, here.registered_city) == ("S0", "Troy")
        there = Person.objects.get(nation=share.sender, email1="p0@x.org")
        assert (there.state_file_id, there.occupation) == ("S0", "Doctor")
        return len(captured)

    assert queries(3) == queries(30)
