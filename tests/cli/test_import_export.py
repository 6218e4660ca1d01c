"""`tagshare import`, `export`, `duplicates` and `merge` end to end through the management commands."""

from __future__ import annotations

import csv
import io
import shlex

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tagshare.people.models import Person


def run(command: str) -> str:
    out = io.StringIO()
    call_command(*shlex.split(command), stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_import_reports_counts_and_row_errors_then_export_round_trips(
    nation, other_nation, tmp_path
):
    source = tmp_path / "people.csv"
    source.write_text(
        "email,first_name,last_name,dob,tag_list\n"
        "ada@x.org,Ada,Lovelace,1815-12-10,math\n"
        "bad@x.org,Bad,Date,1815-13-10,\n"
    )
    out = run(f"import {source} --nation alpha --tag spring")
    assert "2 rows — 1 created" in out and "1 rejected" in out
    assert "row 3 (birthdate)" in out
    target = tmp_path / "out.csv"
    assert "Exported 1 people" in run(f"export {target} --nation alpha")
    rows = list(csv.DictReader(target.open()))
    assert (rows[0]["email1"], rows[0]["tags"]) == ("ada@x.org", "math,spring")
    assert not (tmp_path / "out.csv.partial").exists()
    assert "1 created" in run(f"import {target} --nation beta")
    copy = Person.objects.get(nation=other_nation)
    assert (copy.first_name, str(copy.birthdate)) == ("Ada", "1815-12-10")


def test_a_rejected_file_is_an_error_and_imports_nothing(nation, tmp_path):
    source = tmp_path / "bad.csv"
    source.write_text("email,shoe_size\na@x.org,9\n")
    with pytest.raises(CommandError, match="shoe_size"):
        run(f"import {source} --nation alpha")
    with pytest.raises(CommandError, match="No such file"):
        run(f"import {tmp_path / 'missing.csv'} --nation alpha")
    assert not Person.objects.exists()


def test_export_to_a_path_that_cannot_be_written_says_so_and_leaves_no_partial_file(
    nation, tmp_path
):
    # Both were tracebacks, and a folder in the way left `folder.partial` behind.
    with pytest.raises(CommandError, match=r"Cannot write .*No such file"):
        run(f"export {tmp_path / 'no-such-folder' / 'people.csv'} --nation alpha")
    (tmp_path / "folder").mkdir()
    with pytest.raises(CommandError, match=r"Cannot write .*folder"):
        run(f"export {tmp_path / 'folder'} --nation alpha")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder"]


def test_export_of_an_unknown_tag_says_so_instead_of_writing_an_empty_file(
    nation, make_person, tmp_path
):
    make_person(nation, email1="ada@x.org")
    target = tmp_path / "out.csv"
    with pytest.raises(CommandError, match="No tag named 'volunters' in alpha"):
        run(f"export {target} --nation alpha --tag volunters")
    assert list(tmp_path.iterdir()) == []


def test_duplicates_then_merge(nation, make_person):
    keep = make_person(
        nation, first_name="Kim", last_name="Park", birthdate="1970-01-01", email1="k@x.org"
    )
    other = make_person(
        nation, first_name="Kim", last_name="Park", birthdate="1970-01-01", email1="k2@x.org"
    )
    out = run("duplicates --nation alpha")
    assert "same name and birthdate" in out and f"{keep.pk}, {other.pk}" in out
    assert "Merged" in run(f"merge --nation alpha {keep.pk} {other.pk}")
    keep.refresh_from_db()
    assert keep.email2 == "k2@x.org"
    assert "No possible duplicates" in run("duplicates --nation alpha")
