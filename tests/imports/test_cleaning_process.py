"""A big file is read and cleaned by a second process (imports/cleaning.py): the import must
come out exactly as when one process does it all, and a failing child must leave nothing."""

import sys

import pytest
from django.test import override_settings

from tagshare.imports import cleaning
from tagshare.imports.models import ImportStatus
from tagshare.people.models import Person, PersonChange
from tagshare.people.selectors import person_tags

# Problems of every kind, a repeat, a quoted cell spanning lines, a blank line and tags.
FILE = (
    "email,first_name,last_name,dob,phone,tag_list,note\n"
    "ada@x.org,Ada,Lovelace,1815-12-10,,donors,\n"
    "bad@x.org,Bad,Date,1815-13-45,,,\n"
    "ADA@x.org,Ada,Again,,,,\n"
    "\n"
    'bob@x.org,Bob,Smith,,(312) 200-0001,"donors, volunteers","two\nlines"\n'
    ",Carol,Nobody,,,,\n"
    "eve@x.org,Eve,Tag,,,bad:tag,\n"
    + "".join(f"p{i}@x.org,Person,Number{i},1990-01-{i % 28 + 1:02d},,,\n" for i in range(2500))
)


def _outcome(nation, job):
    people = {
        p.email1: (p.first_name, p.last_name, str(p.birthdate), p.phone, p.note, p.phone_key)
        for p in Person.objects.filter(nation=nation).exclude(email1="someone@else.org")
    }
    tags = {
        p.email1: person_tags(p)
        for p in Person.objects.filter(nation=nation, email1__in=["ada@x.org", "bob@x.org"])
    }
    counts = (job.status, job.total_rows, job.created_count, job.rejected_count)
    return counts, job.errors, people, tags


def test_a_file_cleaned_in_a_second_process_imports_exactly_as_in_one(
    nation, other_nation, run_import
):
    with override_settings(IMPORT_CLEANING_PROCESS_BYTES=10**12):
        alone = run_import(nation, FILE)
    with override_settings(IMPORT_CLEANING_PROCESS_BYTES=0):
        shared = run_import(other_nation, FILE)
    assert alone.status == ImportStatus.DONE
    assert (alone.created_count, alone.rejected_count) == (2502, 4)
    assert [e["row"] for e in alone.errors] == [3, 4, 7, 8]
    assert _outcome(nation, alone) == _outcome(other_nation, shared)
    bob = Person.objects.get(nation=other_nation, email1="bob@x.org")
    assert (bob.note, bob.phone_key) == ("two\nlines", "+13122000001")


@pytest.mark.parametrize("in_child", [False, True], ids=["one process", "cleaning process"])
def test_an_empty_nation_imports_exactly_as_one_with_people_to_match(
    nation, other_nation, run_import, make_person, in_child
):
    # An empty nation skips staging and matching (nobody to match); a nation holding one
    # unrelated profile goes through them. Everything else must come out the same.
    make_person(other_nation, email1="someone@else.org", first_name="Some", last_name="One")
    size = 0 if in_child else 10**12
    with override_settings(IMPORT_CLEANING_PROCESS_BYTES=size):
        direct = run_import(nation, FILE, tags=["spring"])
        matched = run_import(other_nation, FILE, tags=["spring"])
    assert (direct.updated_count, direct.unchanged_count, direct.ambiguous_count) == (0, 0, 0)
    assert _outcome(nation, direct) == _outcome(other_nation, matched)
    ada = Person.objects.get(nation=nation, email1="ada@x.org")
    assert person_tags(ada) == ["donors", "spring"]
    history = PersonChange.objects.filter(person__nation=nation)
    assert history.count() == Person.objects.filter(nation=nation).count()


def _import_with_child(nation, run_import, monkeypatch, script: str):
    """Import FILE with the reading process replaced by `python -c script FRAMES_FD`."""
    monkeypatch.setattr(
        cleaning,
        "_command",
        lambda path, region, frames: [sys.executable, "-c", script, str(frames)],
    )
    with override_settings(IMPORT_CLEANING_PROCESS_BYTES=0):
        job = run_import(nation, FILE)
    assert job.status == ImportStatus.FAILED and job.finished_at is not None
    assert Person.objects.filter(nation=nation).count() == 0
    assert PersonChange.objects.count() == 0
    return job


def test_when_the_reading_process_fails_nothing_is_imported(nation, run_import, monkeypatch):
    job = _import_with_child(
        nation, run_import, monkeypatch, "import sys; sys.exit('disk on fire')"
    )
    assert job.detail.startswith("Nothing was imported: the process reading the file stopped")
    assert "exit 1" in job.detail and "Try again" in job.detail
    assert "disk on fire" not in job.detail  # what it printed goes to the log, not the user


def test_a_reading_process_that_stops_mid_file_fails_the_import(nation, run_import, monkeypatch):
    # The child sends one whole chunk, then half a frame, then exits as if all went well.
    script = (
        "import os, pickle, struct, sys; out = os.fdopen(int(sys.argv[1]), 'wb'); "
        "data = pickle.dumps([]); out.write(struct.pack('<cI', b'R', len(data)) + data); "
        "out.write(struct.pack('<cI', b'R', 999) + b'x'); out.close()"
    )
    job = _import_with_child(nation, run_import, monkeypatch, script)
    assert "ends in the middle of a chunk" in job.detail


def test_a_reading_process_that_hangs_fails_the_import(nation, run_import, monkeypatch):
    # A child that never sends a row: the job ends, failed, instead of running for ever.
    monkeypatch.setattr(cleaning, "SILENCE", 0.5)
    job = _import_with_child(nation, run_import, monkeypatch, "import time; time.sleep(60)")
    assert "sent nothing for 0.5 seconds" in job.detail


def test_what_the_reading_process_prints_does_not_disturb_the_rows(nation, run_import, monkeypatch):
    # Rows travel on a pipe of their own: output on stdout (a library, a profiler) is not rows.
    real = cleaning._command
    noisy = (
        "import runpy, sys; print('noise on stdout', flush=True); sys.argv = sys.argv[1:]; "
        "runpy.run_module('tagshare.imports.cleaning', run_name='__main__')"
    )
    monkeypatch.setattr(
        cleaning,
        "_command",
        lambda path, region, frames: [sys.executable, "-c", noisy, *real(path, region, frames)[2:]],
    )
    with override_settings(IMPORT_CLEANING_PROCESS_BYTES=0):
        job = run_import(nation, FILE)
    assert (job.status, job.created_count, job.rejected_count) == (ImportStatus.DONE, 2502, 4)


@pytest.mark.parametrize("someone_there", [True, False], ids=["matching", "empty nation"])
def test_a_failed_write_stops_the_reading_process_at_once(
    nation, run_import, monkeypatch, make_person, someone_there
):
    # A nation with people stages the rows for matching; an empty one creates them directly.
    import subprocess

    from tagshare.imports import services
    from tagshare.matching import engine

    children: list[subprocess.Popen] = []
    real_popen = subprocess.Popen

    def recording_popen(*args, **kwargs):
        children.append(real_popen(*args, **kwargs))
        return children[-1]

    def failing_write(*args, rows, **kwargs):
        next(iter(rows))  # the child is running and has sent its first chunk
        raise RuntimeError("the database went away")

    monkeypatch.setattr(cleaning.subprocess, "Popen", recording_popen)
    monkeypatch.setattr(engine, "stage_values", lambda run, rows: failing_write(rows=rows))
    monkeypatch.setattr(services, "people_bulk_create", failing_write)
    if someone_there:
        make_person(nation, email1="someone@else.org", first_name="Some", last_name="One")
    big = FILE + "".join(f"q{i}@x.org,Q,Number{i},,,,\n" for i in range(50_000))
    with override_settings(IMPORT_CLEANING_PROCESS_BYTES=0):
        job = run_import(nation, big)
    assert job.status == ImportStatus.FAILED
    assert [child.poll() is not None for child in children] == [True]
    assert Person.objects.filter(nation=nation).count() == (1 if someone_there else 0)
