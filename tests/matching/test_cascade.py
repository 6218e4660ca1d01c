"""The matching cascade (SPEC §4): each step, its order, and every cause of ambiguity."""

import pytest

from tagshare.matching import engine
from tagshare.people import values as people_values


def match(nation, opt_in=(), **incoming):
    cleaned = people_values.clean_changes(incoming)
    return engine.match_one(
        nation=nation, values=cleaned, id_fields=engine.default_id_fields(opt_in)
    )


def test_voter_guid_comes_first_and_beats_an_email_match(nation, make_person):
    by_guid = make_person(nation, first_name="Ann", nbec_guid="G-1")
    make_person(nation, first_name="Other", email1="ann@x.org")
    outcome = match(nation, nbec_guid="G-1", email1="ann@x.org")
    assert (outcome.status, outcome.person_id, outcome.rule) == (
        "matched",
        by_guid.pk,
        "voter_guid",
    )


def test_public_identifiers_match_before_emails(nation, make_person):
    by_twitter = make_person(nation, twitter_login="annie")
    make_person(nation, email1="ann@x.org")
    outcome = match(nation, twitter_login="annie", email1="ann@x.org")
    assert (outcome.person_id, outcome.rule) == (by_twitter.pk, "unique_id:twitter_login")


def test_opt_in_ids_match_only_when_chosen(nation, make_person):
    person = make_person(nation, van_id="V-7")
    assert match(nation, van_id="V-7").status == "not_found"
    outcome = match(nation, opt_in=["van_id"], van_id="V-7")
    assert (outcome.person_id, outcome.rule) == (person.pk, "unique_id:van_id")


def test_state_file_id_matches_only_with_the_registered_state(nation, make_person):
    person = make_person(nation, state_file_id="S-1", registered_address={"state": "IL"})
    assert (
        match(
            nation,
            opt_in=["state_file_id"],
            state_file_id="S-1",
            registered_address={"state": "OH"},
        ).status
        == "not_found"
    )
    outcome = match(
        nation, opt_in=["state_file_id"], state_file_id="S-1", registered_address={"state": "IL"}
    )
    assert outcome.person_id == person.pk


def test_any_of_four_emails_matches_any_of_four(nation, make_person):
    person = make_person(nation, email1="a@x.org", email3="Third@X.org")
    outcome = match(nation, email2="a@y.org", email4="third@x.org ")
    assert (outcome.status, outcome.person_id, outcome.rule) == ("matched", person.pk, "email")


def test_heuristic_name_and_birthdate(nation, make_person):
    person = make_person(nation, first_name="José", last_name="Núñez", birthdate="1980-05-01")
    outcome = match(nation, first_name="JOSE", last_name="nunez", birthdate="1980-05-01")
    assert (outcome.person_id, outcome.rule) == (person.pk, "heuristic")


def test_heuristic_name_and_a_phone_written_differently(nation, make_person):
    person = make_person(nation, first_name="Mary", last_name="O'Brien", mobile="(312) 555-0100")
    outcome = match(nation, first_name="mary", last_name="OBrien", phone="+1 312 555 0100")
    assert (outcome.person_id, outcome.rule) == (person.pk, "heuristic")


def test_a_name_alone_never_matches(nation, make_person):
    make_person(nation, first_name="Mary", last_name="Smith", birthdate="1980-05-01")
    assert match(nation, first_name="Mary", last_name="Smith").status == "not_found"
    assert (
        match(nation, first_name="Mary", last_name="Smith", birthdate="1981-05-01").status
        == "not_found"
    )


def test_several_profiles_in_one_step_are_ambiguous(nation, make_person):
    a = make_person(nation, first_name="Sam", last_name="Lee", birthdate="1990-01-01")
    b = make_person(
        nation, first_name="Sam", last_name="Lee", birthdate="1990-01-01", email1="s@x.org"
    )
    outcome = match(nation, first_name="sam", last_name="lee", birthdate="1990-01-01")
    assert outcome.status == "ambiguous"
    assert outcome.candidates == tuple(sorted([a.pk, b.pk]))
    assert "several profiles" in outcome.reason


def test_two_emails_pointing_at_two_profiles_are_ambiguous(nation, make_person):
    a = make_person(nation, email1="a@x.org")
    b = make_person(nation, email1="b@x.org")
    outcome = match(nation, email1="a@x.org", email2="b@x.org")
    assert (outcome.status, outcome.candidates) == ("ambiguous", (a.pk, b.pk))


def test_a_single_candidate_with_a_differing_unique_id_is_ambiguous(nation, make_person):
    person = make_person(nation, email1="a@x.org", nbec_guid="G-1")
    outcome = match(nation, email1="a@x.org", nbec_guid="G-2")
    assert outcome.status == "ambiguous"
    assert outcome.candidates == (person.pk,)
    assert "Voter GUID differs" in outcome.reason


def test_each_differing_id_makes_a_match_ambiguous_and_the_first_in_order_is_the_reason(
    nation, make_person
):
    person = make_person(nation, email1="a@x.org", twitter_id="111", meetup_id="m-1")
    both = match(nation, email1="a@x.org", twitter_id="222", meetup_id="m-2")
    assert (both.status, both.candidates) == ("ambiguous", (person.pk,))
    assert "Twitter ID differs" in both.reason
    later = match(nation, email1="a@x.org", twitter_id="111", meetup_id="m-2")
    assert later.status == "ambiguous"
    assert "Meetup ID differs" in later.reason
    # An opt-in ID takes part only when chosen.
    make_person(nation, email1="c@x.org", civicrm_id="c-1")
    assert match(nation, email1="c@x.org", civicrm_id="c-2").status == "matched"
    chosen = match(nation, opt_in=("civicrm_id",), email1="c@x.org", civicrm_id="c-2")
    assert chosen.status == "ambiguous"
    assert "CiviCRM ID differs" in chosen.reason


def test_a_blank_id_on_one_side_is_no_conflict(nation, make_person):
    person = make_person(nation, email1="a@x.org")
    assert match(nation, email1="a@x.org", nbec_guid="G-2").person_id == person.pk


def test_one_profile_claimed_by_two_incoming_is_ambiguous_for_both(nation, make_person):
    person = make_person(
        nation, first_name="Kim", last_name="Park", birthdate="1970-03-03", mobile="3125550111"
    )
    rows = [
        (
            10,
            people_values.clean_changes(
                {"first_name": "Kim", "last_name": "Park", "birthdate": "1970-03-03"}
            ),
        ),
        (
            11,
            people_values.clean_changes(
                {"first_name": "Kim", "last_name": "Park", "mobile": "312-555-0111"}
            ),
        ),
    ]
    outcomes = engine.match_values(nation=nation, rows=rows, id_fields=engine.default_id_fields())
    assert [(o.ref, o.status, o.candidates) for o in outcomes] == [
        (10, "ambiguous", (person.pk,)),
        (11, "ambiguous", (person.pk,)),
    ]


def test_matching_looks_only_in_the_receiving_nation(nation, other_nation, make_person):
    make_person(other_nation, email1="a@x.org")
    assert match(nation, email1="a@x.org").status == "not_found"


def test_staging_rows_are_cleaned_up(nation, make_person):
    from tagshare.matching.models import MatchCandidate, MatchIncoming, MatchResult, MatchRun

    make_person(nation, email1="a@x.org")
    match(nation, email1="a@x.org")
    assert not MatchRun.objects.exists() and not MatchIncoming.objects.exists()
    assert not MatchCandidate.objects.exists() and not MatchResult.objects.exists()


@pytest.mark.parametrize("size", [10, 1000])
def test_the_number_of_queries_does_not_grow_with_the_batch(
    nation, make_person, size, django_assert_max_num_queries
):
    make_person(nation, email1="p0@x.org")
    rows = [
        (i, {"email1": f"p{i}@x.org", "first_name": "A", "last_name": f"B{i}"}) for i in range(size)
    ]
    run = engine.run_create(nation=nation, id_fields=engine.default_id_fields())
    engine.stage_values(run, rows)
    with django_assert_max_num_queries(30):
        engine.run_cascade(run)
        results = list(engine.outcomes(run))
    assert len(results) == size
    assert results[0].status == "matched" and all(r.status == "not_found" for r in results[1:])


def test_staging_a_nations_tagged_people_with_sql(nation, other_nation, make_person):
    from tagshare.nations.actors import Actor
    from tagshare.tags.models import Tag
    from tagshare.tags.services import tag_apply

    here = make_person(nation, first_name="Ann", last_name="Ames", email1="ann@x.org")
    sender_ann = make_person(other_nation, first_name="Ann", last_name="Ames", email2="ANN@x.org")
    sender_bo = make_person(other_nation, first_name="Bo", last_name="Brown", mobile="3125550100")
    make_person(other_nation, first_name="Untagged", email1="u@x.org")
    for person in (sender_ann, sender_bo):
        tag_apply(nation=other_nation, actor=Actor.system(), person=person, name="shared")
    tag = Tag.objects.get(nation=other_nation, name="shared")
    run = engine.run_create(nation=nation, id_fields=engine.default_id_fields())
    assert engine.stage_people(run, nation_id=other_nation.pk, tag_id=tag.pk) == 2
    engine.run_cascade(run)
    results = {o.ref: (o.status, o.person_id, o.rule) for o in engine.outcomes(run)}
    assert results == {
        sender_ann.pk: ("matched", here.pk, "email"),
        sender_bo.pk: ("not_found", None, ""),
    }
