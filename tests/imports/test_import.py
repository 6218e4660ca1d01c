"""CSV import (SPEC §8): matching, overwrite semantics, row errors, all-or-reported, idempotence."""

import pytest
from django.test import override_settings

from tagshare.errors import ValidationFailed
from tagshare.imports.models import ImportStatus
from tagshare.outbox.models import OutboxEvent
from tagshare.people.models import Person, PersonChange
from tagshare.people.selectors import person_history, person_tags
from tagshare.tags.models import Tag


def _snapshot(nation):
    return (
        list(Person.objects.filter(nation=nation).order_by("id").values()),
        PersonChange.objects.count(),
        OutboxEvent.objects.count(),
    )


def test_new_people_are_created_with_tags_and_addresses(nation, run_import):
    job = run_import(
        nation,
        "Email,First Name,Last Name,DOB,Zip,home_city,tag_list\n"
        'ada@x.org,Ada,Lovelace,1815-12-10,02139,Cambridge,"donors, volunteers"\n'
        "bob@x.org,Bob,Smith,,,,\n",
        tags=["spring import"],
    )
    assert (job.status, job.created_count, job.rejected_count) == (ImportStatus.DONE, 2, 0)
    ada = Person.objects.get(nation=nation, email1="ada@x.org")
    assert (ada.first_name, str(ada.birthdate), ada.home_zip, ada.home_city) == (
        "Ada",
        "1815-12-10",
        "02139",
        "Cambridge",
    )
    assert person_tags(ada) == ["donors", "spring import", "volunteers"]
    assert person_history(nation, ada)[0]["source"] == "import"
    # Each new tagging is an event, as a tag put on by hand is: a share of that tag syncs it.
    applied = OutboxEvent.objects.filter(kind="tag.applied", person_id=ada.pk)
    assert sorted(e.payload["tag"] for e in applied) == ["donors", "spring import", "volunteers"]
    assert {e.payload["source"] for e in applied} == {"import"}


def test_without_overwrite_only_blank_fields_are_filled(nation, make_person, run_import):
    person = make_person(nation, first_name="Ada", email1="ada@x.org", occupation="Poet")
    job = run_import(
        nation, "email,occupation,employer\nADA@x.org,Mathematician,Analytical Engines\n"
    )
    assert (job.updated_count, job.created_count) == (1, 0)
    person.refresh_from_db()
    assert (person.occupation, person.employer) == ("Poet", "Analytical Engines")


def test_with_overwrite_the_files_non_blank_values_win(nation, make_person, run_import):
    person = make_person(
        nation, first_name="Ada", email1="ada@x.org", occupation="Poet", employer="Byron"
    )
    run_import(nation, "email,occupation,employer\nada@x.org,Mathematician,\n", overwrite=True)
    person.refresh_from_db()
    assert (person.occupation, person.employer) == ("Mathematician", "Byron")  # empty cell: kept


def test_addresses_in_the_file_overwrite_even_without_overwrite(nation, make_person, run_import):
    person = make_person(
        nation, email1="a@x.org", home_address={"address1": "1 Main St", "city": "Boston"}
    )
    run_import(nation, "email,home_city\na@x.org,Chicago\n")
    person.refresh_from_db()
    assert (person.home_address1, person.home_city) == ("", "Chicago")


def test_rows_with_errors_are_listed_by_row_and_the_rest_imported(nation, run_import):
    job = run_import(
        nation,
        "email,first_name,last_name,birthdate,sex,support_level\n"
        "ok@x.org,Ok,One,1990-01-01,F,1\n"
        "bad-date@x.org,Bad,Date,1990-02-30,,\n"
        "not-an-email,No,Mail,,,\n"
        ",Only,Name,,,\n"
        "sex@x.org,Bad,Sex,,X,\n"
        "lvl@x.org,Bad,Level,,,9\n"
        "OK@x.org,Dup,Licate,,,\n",
    )
    assert job.status == ImportStatus.DONE
    assert (job.total_rows, job.created_count, job.rejected_count) == (7, 1, 6)
    by_row = {e["row"]: e for e in job.errors}
    assert set(by_row) == {3, 4, 5, 6, 7, 8}
    assert "YYYY-MM-DD" in by_row[3]["message"] and by_row[3]["field"] == "birthdate"
    assert "not a valid email" in by_row[4]["message"]
    assert "needs an email, a unique ID, or a first and last name" in by_row[5]["message"]
    assert "one of M, F, O" in by_row[6]["message"]
    assert "between 1 and 5" in by_row[7]["message"]
    assert "same email as row 2" in by_row[8]["message"]
    assert Person.objects.filter(nation=nation).count() == 1


@pytest.mark.parametrize("nation_has_people", [False, True], ids=["empty-nation", "with-people"])
def test_a_row_giving_one_email_twice_is_rejected_alone_and_the_rest_imported(
    nation, make_person, run_import, nation_has_people
):
    # Left to the writes, the repeat refused the whole batch: "no one was created".
    if nation_has_people:
        make_person(nation, email1="someone@x.org", first_name="Some")
    job = run_import(
        nation,
        "email1,email2,first_name\ngood@x.org,,Good\ntwice@x.org,TWICE@x.org,Twice\n",
    )
    assert job.status == ImportStatus.DONE, job.detail
    assert job.created_count == 1 and job.rejected_count == 1
    assert job.errors[0]["row"] == 3 and job.errors[0]["field"] == "email2"
    assert "same email as email1" in job.errors[0]["message"]
    assert Person.objects.filter(nation=nation, email1="good@x.org").exists()


def test_a_row_with_more_cells_than_the_header_is_rejected_not_shifted(nation, run_import):
    # An unquoted comma ("Smith, Jr.") would shift the values after it into the wrong columns.
    job = run_import(
        nation,
        "email,last_name,first_name\nann@x.org,Smith, Jr.,Ann\nok@x.org,Fine,Ok\n",
    )
    assert job.status == ImportStatus.DONE
    assert job.rejected_count == 1, job.errors
    assert job.errors[0]["row"] == 2
    assert "has 4 cells but the header has 3 columns" in job.errors[0]["message"]
    assert not Person.objects.filter(nation=nation, email1="ann@x.org").exists()
    assert Person.objects.filter(nation=nation, email1="ok@x.org").exists()


def test_empty_cells_beyond_the_header_are_tolerated(nation, run_import):
    # Spreadsheet programs pad rows with empty cells.
    job = run_import(nation, "email,first_name\nann@x.org,Ann,, \n")
    assert (job.created_count, job.rejected_count) == (1, 0), job.errors


def test_a_sex_outside_the_choices_names_the_choices(nation, run_import):
    # "male" under a `gender` column was refused as longer than 1 character.
    job = run_import(nation, "email,gender\na@x.org,male\n")
    assert job.rejected_count == 1
    assert job.errors[0]["message"] == "Sex: must be one of M, F, O"


def test_a_control_character_in_a_tag_list_cell_rejects_its_row_only(nation, run_import):
    # PostgreSQL refuses a NUL: stored, it failed the whole import.
    job = run_import(nation, b"email,tag_list\ngood@x.org,ok\nnul@x.org,a\x00b\n")
    assert job.status == ImportStatus.DONE, job.detail
    assert job.rejected_count == 1 and job.errors[0]["row"] == 3
    assert job.errors[0]["field"] == "tag_list"
    assert "control characters" in job.errors[0]["message"]
    assert Person.objects.filter(nation=nation, email1="good@x.org").exists()
    assert list(Tag.objects.values_list("name", flat=True)) == ["ok"]


def test_a_control_character_in_the_tags_to_add_is_refused_before_importing(nation, run_import):
    with pytest.raises(ValidationFailed, match="control characters"):
        run_import(nation, "email\na@x.org\n", tags=["a\x00b"])
    assert not Tag.objects.exists()


def test_a_file_with_unknown_columns_is_rejected_whole(nation, make_person, run_import):
    make_person(nation, email1="a@x.org")
    before = _snapshot(nation)
    job = run_import(nation, "email,first_name,favourite_colour\nb@x.org,Bo,blue\n")
    assert job.status == ImportStatus.REJECTED
    assert "'favourite_colour' (column 3)" in job.detail
    assert _snapshot(nation) == before


@pytest.mark.parametrize(
    ("separator", "named"), [(";", "semicolons"), ("\t", "tabs"), ("|", "vertical bars")]
)
def test_a_file_separated_by_semicolons_is_rejected_saying_so(nation, run_import, separator, named):
    # Spreadsheet programs in countries with a decimal comma save "CSV" with semicolons.
    job = run_import(nation, f"Email{separator}First Name\na@x.org{separator}Ann\n")
    assert job.status == ImportStatus.REJECTED
    assert f"separated by {named}" in job.detail and "CSV UTF-8" in job.detail
    assert not Person.objects.filter(nation=nation).exists()


def test_a_semicolon_in_one_unknown_column_name_is_only_an_unknown_column(nation, run_import):
    job = run_import(nation, "email;colour\na@x.org;blue\n")
    assert "Unknown column 'email;colour'" in job.detail


def test_a_file_that_is_not_utf8_is_rejected_with_its_line(nation, run_import):
    job = run_import(nation, "email,first_name\na@x.org,Ann\nb@x.org,Andr\xe9\n".encode("latin-1"))
    assert job.status == ImportStatus.REJECTED
    assert "line 3" in job.detail and "UTF-8" in job.detail
    assert not Person.objects.filter(nation=nation).exists()


def test_a_utf16_file_without_a_byte_order_mark_is_called_not_utf8(nation, run_import):
    # Without a BOM, UTF-16 passes as UTF-8 (NULs between the letters): the report named
    # unknown columns spelt with NULs instead of saying how to save the file.
    job = run_import(nation, "email,first_name\na@x.org,Ann\n".encode("utf-16-le"))
    assert job.status == ImportStatus.REJECTED
    assert "not UTF-8" in job.detail and "UTF-16" in job.detail, job.detail
    assert not Person.objects.filter(nation=nation).exists()


def test_a_byte_order_mark_is_tolerated(nation, run_import):
    job = run_import(nation, "\ufeffemail,first_name\na@x.org,Ann\n".encode())
    assert (job.status, job.created_count) == (ImportStatus.DONE, 1)


def test_two_columns_meaning_one_field_are_refused(nation, run_import):
    job = run_import(nation, "email,email1\na@x.org,b@x.org\n")
    assert job.status == ImportStatus.REJECTED and "both mean email1" in job.detail


def test_ambiguous_rows_are_reported_not_guessed(nation, make_person, run_import):
    a = make_person(nation, first_name="Sam", last_name="Lee", birthdate="1990-01-01")
    b = make_person(nation, first_name="Sam", last_name="Lee", birthdate="1990-01-01")
    job = run_import(
        nation,
        "first_name,last_name,birthdate,occupation\nSam,Lee,1990-01-01,Chef\n",
        overwrite=True,
    )
    assert (job.ambiguous_count, job.created_count, job.updated_count) == (1, 0, 0)
    assert job.ambiguous[0]["row"] == 2 and sorted(job.ambiguous[0]["candidates"]) == [a.pk, b.pk]
    assert not Person.objects.filter(occupation="Chef").exists()


def test_running_the_same_file_again_changes_nothing(nation, run_import):
    text = "email,first_name,last_name,mobile,home_zip,tag_list\na@x.org,Ann,Ames,312-555-0100,60601,t1\nb@x.org,Bo,Brown,,,t2\n"
    run_import(nation, text, overwrite=True)
    before = _snapshot(nation)
    job = run_import(nation, text, overwrite=True)
    assert (job.created_count, job.updated_count, job.unchanged_count) == (0, 0, 2)
    assert _snapshot(nation) == before


def test_a_row_giving_a_profile_a_fifth_email_is_rejected_whole(nation, make_person, run_import):
    person = make_person(
        nation,
        nbec_guid="G1",
        email1="a@x.org",
        email2="b@x.org",
        email3="c@x.org",
        email4="d@x.org",
    )
    job = run_import(nation, "nbec_guid,email,occupation\nG1,e@x.org,Chef\n")
    assert job.rejected_count == 1 and "more than 4 emails" in job.errors[0]["message"]
    person.refresh_from_db()
    assert person.occupation == ""


def test_new_emails_of_a_matched_profile_go_to_free_slots(nation, make_person, run_import):
    person = make_person(nation, nbec_guid="G1", email1="a@x.org")
    run_import(nation, "nbec_guid,email1,email2\nG1,new@x.org,a@x.org\n", overwrite=True)
    person.refresh_from_db()
    assert (person.email1, person.email2) == ("a@x.org", "new@x.org")


def test_imports_cannot_add_shared_tags(nation, run_import):
    job = run_import(nation, "email,tag_list\na@x.org,beta:friends\n")
    assert job.rejected_count == 1 and "shared by other nations" in job.errors[0]["message"]


def test_an_empty_file_is_rejected(nation, run_import):
    assert run_import(nation, "").status == ImportStatus.REJECTED


def test_an_unexpected_error_marks_the_job_failed_and_imports_nothing(
    nation, run_import, monkeypatch
):
    from tagshare.imports import services

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(services, "people_bulk_create", boom)
    job = run_import(nation, "email,first_name\na@x.org,Ann\n")
    assert job.status == ImportStatus.FAILED and "Nothing was imported" in job.detail
    assert job.finished_at is not None
    assert not Person.objects.filter(nation=nation).exists()


def test_a_clash_found_while_creating_names_the_row_of_the_file(
    nation, make_person, run_import, monkeypatch
):
    """Someone stores an email after the import matched its rows: the refusal names the
    file's line (here the fourth), not the row's place among the new profiles."""
    from tagshare.imports import services

    make_person(nation, email1="known@x.org", first_name="Kim")
    cascade = services.engine.run_cascade

    def cascade_then_a_late_write(run):
        cascade(run)
        make_person(nation, email1="late@x.org", first_name="Lee")

    monkeypatch.setattr(services.engine, "run_cascade", cascade_then_a_late_write)
    job = run_import(
        nation,
        "email,first_name\nknown@x.org,Kim\nnew@x.org,Nia\nlate@x.org,Lou\n",
    )
    assert job.status == ImportStatus.FAILED
    assert "row 4: email1" in job.detail and "late@x.org" in job.detail
    assert "row 1" not in job.detail
    assert Person.objects.filter(nation=nation).count() == 1  # the late write rolled back too


def test_a_big_import_streams_its_outcomes_and_tags_in_batches(
    nation, make_person, run_import, monkeypatch
):
    # Tiny batches stand in for a million rows: the outcomes are read alongside the spooled
    # rows and the tags written as they pile up; every row still ends where it belongs.
    from tagshare.imports import services

    monkeypatch.setattr(services, "APPLY_BATCH", 2)
    monkeypatch.setattr(services, "TAG_BATCH", 3)
    monkeypatch.setattr(services, "MAX_LISTED", 1)
    for i in (1, 3, 5):
        make_person(nation, email1=f"p{i}@x.org")
    for _ in range(2):  # two people the heuristic cannot tell apart
        make_person(nation, first_name="Sam", last_name="Lee", birthdate="1990-01-01")
    rows = "".join(f"p{i}@x.org,Job {i},,,,t{i}\n" for i in range(8))
    rows += ",,Sam,Lee,1990-01-01,\n" * 1 + ",Chef,Sam,Lee,1990-01-01,\n"
    job = run_import(
        nation,
        "email,occupation,first_name,last_name,birthdate,tag_list\n" + rows,
        tags=["batch"],
    )
    assert (job.created_count, job.updated_count, job.ambiguous_count) == (5, 3, 2)
    assert len(job.ambiguous) == 1  # listed up to MAX_LISTED, counted in full
    for i in range(8):
        person = Person.objects.get(nation=nation, email1=f"p{i}@x.org")
        assert person.occupation == f"Job {i}"
        assert person_tags(person) == ["batch", f"t{i}"]


def test_imported_people_carry_the_match_keys_a_later_import_matches_on(nation, run_import):
    run_import(nation, "first_name,last_name,mobile\nZoë,O'Brien,(312) 555-0111\n")
    person = Person.objects.get(nation=nation)
    assert (person.first_key, person.last_key, person.mobile_key) == (
        "zoe",
        "obrien",
        "+13125550111",
    )
    job = run_import(
        nation, "first_name,last_name,mobile,occupation\nZOE,OBRIEN,312.555.0111,Pilot\n"
    )
    assert (job.created_count, job.updated_count) == (0, 1)
    assert Person.objects.get(nation=nation).occupation == "Pilot"


@pytest.mark.parametrize("child_process_from", [0, 10**12], ids=["child", "in-process"])
def test_a_quote_left_open_is_reported_with_the_lines_it_swallowed(
    nation, run_import, child_process_from
):
    # Without strict parsing, the rows after an open quote became one cell of row 3 and
    # vanished without a word.
    text = (
        "email,first_name,last_name\n"
        "ada@x.org,Ada,Lovelace\n"
        'bob@x.org,"Bob,Smith\n'
        "cy@x.org,Cy,Young\n"
        "di@x.org,Di,Prince\n"
    )
    with override_settings(IMPORT_CLEANING_PROCESS_BYTES=child_process_from):
        job = run_import(nation, text)
    assert (job.status, job.created_count, job.rejected_count) == (ImportStatus.DONE, 1, 1)
    [problem] = job.errors
    assert problem["row"] == 3
    assert (
        "nothing in lines 3 to 5 (a quote left open?) of the file was imported"
        in (problem["message"])
    )


def test_a_stray_quote_rejects_its_row_only(nation, run_import):
    job = run_import(nation, 'email,first_name\nada@x.org,"Ada"Lovelace\nbob@x.org,Bob\n')
    assert (job.created_count, job.rejected_count) == (1, 1)
    assert job.errors[0]["row"] == 2
    assert "nothing in line 2 of the file was imported" in job.errors[0]["message"]
    assert Person.objects.filter(nation=nation, email1="bob@x.org").exists()


def test_a_header_with_a_quote_left_open_rejects_the_file(nation, run_import):
    job = run_import(nation, 'email,"first_name\nada@x.org,Ada\n')
    assert job.status == ImportStatus.REJECTED
    assert job.detail.startswith("The header row cannot be read as CSV")
    assert not Person.objects.filter(nation=nation).exists()
