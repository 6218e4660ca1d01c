"""Imports in the panel (SPEC §8, §9: "import with progress"): upload, watch, read the report."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tagshare.imports import progress, runner
from tagshare.imports.models import ImportJob, ImportStatus
from tagshare.people.models import Person

GOOD = (
    "Email,First Name,Last Name,DOB\n"
    "ada@example.org,Ada,Lovelace,1815-12-10\n"
    "grace@example.org,Grace,Hopper,1906-12-09\n"
)


def _csv(text: str, name: str = "people.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def _upload(client: Client, text: str, **form: str) -> Any:
    """POST the file as the upload form does."""
    return client.post("/imports/", {"file": _csv(text), **form})


def test_an_upload_queues_a_background_job_and_shows_its_page(
    admin_client, nation, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = _upload(admin_client, GOOD, tags="volunteers, 2026")
    job = ImportJob.objects.get(nation=nation)
    assert response.status_code == 302 and response["Location"] == f"/imports/{job.pk}/"
    assert job.background and job.status == ImportStatus.QUEUED
    assert job.filename == "people.csv" and job.tags == ["volunteers", "2026"]
    assert len(callbacks) == 1  # the runner is woken once the upload commits
    page = admin_client.get(f"/imports/{job.pk}/").content.decode()
    assert "Waiting to start" in page and 'hx-trigger="every 1s"' in page
    assert not Person.objects.filter(nation=nation).exists()


def test_the_runner_imports_the_file_and_the_page_shows_the_counts(admin_client, nation):
    _upload(admin_client, GOOD, overwrite="on")
    assert runner.run_queued() == 1
    job = ImportJob.objects.get(nation=nation)
    assert job.status == ImportStatus.DONE and job.created_count == 2 and job.overwrite
    assert set(Person.objects.filter(nation=nation).values_list("first_name", flat=True)) == {
        "Ada",
        "Grace",
    }
    page = admin_client.get(f"/imports/{job.pk}/").content.decode()
    assert "Done." in page and "hx-trigger" not in page  # finished: the page stops polling
    assert re.search(r'box-n">2</span> <span class="box-label">created', page)
    listing = admin_client.get("/imports/").content.decode()
    assert "people.csv" in listing and "Done" in listing


def test_a_running_import_shows_how_far_it_got_and_keeps_polling(admin_client, nation):
    _upload(admin_client, GOOD)
    job = ImportJob.objects.get(nation=nation)
    job.status = ImportStatus.RUNNING
    job.save()
    progress.progress_record(job.pk, "importing", 1500, 6000)
    try:
        part = admin_client.get(f"/imports/{job.pk}/status/").content.decode()
    finally:
        progress.progress_clear(job.pk)
    assert "importing — 1,500 of 6,000 rows" in part
    assert 'value="25"' in part and 'hx-trigger="every 1s"' in part


def test_rejected_and_ambiguous_rows_are_listed_by_row_number(admin_client, nation, make_person):
    make_person(nation, first_name="Sam", last_name="Lee", birthdate="1980-01-01")
    make_person(nation, first_name="Sam", last_name="Lee", birthdate="1980-01-01")
    text = (
        "email,first_name,last_name,birthdate\n"
        "ok@example.org,Ok,Row,1990-01-01\n"
        "bad@example.org,Bad,Date,1990-02-30\n"
        ",Sam,Lee,1980-01-01\n"
    )
    _upload(admin_client, text)
    runner.run_queued()
    job = ImportJob.objects.get(nation=nation)
    assert (job.created_count, job.rejected_count, job.ambiguous_count) == (1, 1, 1)
    page = admin_client.get(f"/imports/{job.pk}/").content.decode()
    rejected = page[page.index("Rejected rows") :]
    assert re.search(r'<td class="num">3</td><td>birthdate</td>', rejected)
    ambiguous = page[page.index("Ambiguous rows") :]
    assert re.search(r'<td class="num">4</td>', ambiguous)
    for candidate in job.ambiguous[0]["candidates"]:
        assert f'href="/people/{candidate}/"' in ambiguous


def test_a_file_that_cannot_be_read_is_rejected_whole_and_says_why(admin_client, nation):
    _upload(admin_client, "Email,Shoe Size\nada@example.org,9\n")
    runner.run_queued()
    job = ImportJob.objects.get(nation=nation)
    assert job.status == ImportStatus.REJECTED
    page = admin_client.get(f"/imports/{job.pk}/").content.decode()
    assert "The file was not imported." in page and "Shoe Size" in page
    assert "Nothing was stored" in page
    assert not Person.objects.filter(nation=nation).exists()


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({}, "Choose a CSV file to import."),
        ({"file": _csv(GOOD), "tags": "ok, partner:vip"}, "belong to tags shared by other nations"),
    ],
)
def test_a_bad_upload_says_what_to_fix_and_queues_nothing(admin_client, nation, form, message):
    response = admin_client.post("/imports/", form)
    assert response.status_code in (400, 422)
    page = response.content.decode()
    assert "Nothing was imported." in page and message in page
    assert not ImportJob.objects.exists()


def test_a_file_over_the_limit_is_refused(admin_client, nation, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 20
    response = _upload(admin_client, GOOD)
    assert response.status_code == 413
    assert "larger than 20 bytes" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_staff_may_import_too(staff_client, nation):
    response = _upload(staff_client, GOOD)
    assert response.status_code == 302
    assert runner.run_queued() == 1
    assert Person.objects.filter(nation=nation).count() == 2


def test_another_nations_import_is_not_found(admin_client, other_admin, other_nation):
    other = Client()
    other.force_login(other_admin)
    _upload(other, GOOD)
    job = ImportJob.objects.get(nation=other_nation)
    for path in (f"/imports/{job.pk}/", f"/imports/{job.pk}/status/"):
        response = admin_client.get(path)
        assert response.status_code == 404 and "people.csv" not in response.content.decode()
    assert "people.csv" not in admin_client.get("/imports/").content.decode()


def test_the_upload_needs_the_csrf_token(admin, nation):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    response = client.post("/imports/", {"file": _csv(GOOD)})
    assert response.status_code == 403
    assert not ImportJob.objects.exists()


# --- the runner ----------------------------------------------------------------------------


def test_a_job_is_claimed_once(admin_client, nation):
    _upload(admin_client, GOOD)
    job = ImportJob.objects.get(nation=nation)
    assert runner.import_claim(job.pk) is not None
    assert runner.import_claim(job.pk) is None  # another runner finds it taken
    assert runner.run_queued() == 0


def test_the_runner_leaves_jobs_the_command_line_or_api_run_themselves(nation, tmp_path):
    from tagshare.imports.services import import_create
    from tagshare.nations.actors import Actor

    path = tmp_path / "cli.csv"
    path.write_text(GOOD, encoding="utf-8")
    job = import_create(nation=nation, actor=Actor.importer(), source=path)
    assert runner.run_queued() == 0 and runner.import_claim(job.pk) is None
    job.status = ImportStatus.RUNNING
    job.save()
    assert runner.resume_interrupted() == 0  # a command-line import in progress stays its own


def test_an_import_cut_off_by_a_restart_runs_again(admin_client, nation):
    _upload(admin_client, GOOD)
    ImportJob.objects.update(status=ImportStatus.RUNNING)  # its process died mid-import
    assert runner.resume_interrupted() == 1
    assert runner.run_queued() == 1
    assert ImportJob.objects.get().status == ImportStatus.DONE
    assert Person.objects.filter(nation=nation).count() == 2


def test_with_a_broker_the_job_goes_to_celery(
    admin_client, nation, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from tagshare.imports import tasks

    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"
    sent: list[int] = []
    monkeypatch.setattr(tasks.run_import, "delay", sent.append)
    with django_capture_on_commit_callbacks(execute=True):
        _upload(admin_client, GOOD)
    job = ImportJob.objects.get(nation=nation)
    assert sent == [job.pk]
    tasks.run_import(job.pk)  # what the Celery worker runs
    tasks.run_import(job.pk)  # delivered twice: the second finds the job taken
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and Person.objects.filter(nation=nation).count() == 2


@pytest.mark.django_db(transaction=True)
def test_the_embedded_runner_thread_runs_an_upload_to_the_end(admin_client, nation, monkeypatch):
    """The real path of `tagshare serve`: the commit wakes a thread of this process."""
    monkeypatch.setattr(runner.EmbeddedRunner, "IDLE_SECONDS", 0.1)
    _upload(admin_client, GOOD)
    runner.embedded_runner.join(timeout=60)
    job = ImportJob.objects.get(nation=nation)
    assert job.status == ImportStatus.DONE
    assert Person.objects.filter(nation=nation).count() == 2


@pytest.mark.django_db(transaction=True)  # outside a transaction, as the runner's thread is
def test_a_moment_of_lock_on_the_job_row_does_not_leave_the_job_running(
    admin_client, nation, monkeypatch
):
    # SQLite answers "locked" at once when another connection of a shared cache reads the row
    # (the job's page, polled while the job starts): the runner must try again, not give up.
    from django.db import OperationalError

    from tagshare.imports import services

    monkeypatch.setattr(services.time, "sleep", lambda seconds: None)
    real_save = ImportJob.save
    failures = iter([True, True])

    def flaky_save(self, *args, **kwargs):
        if next(failures, False):
            raise OperationalError("database table is locked: imports_importjob")
        return real_save(self, *args, **kwargs)

    monkeypatch.setattr(runner.embedded_runner, "wake", lambda: None)  # run here, below
    _upload(admin_client, GOOD)
    monkeypatch.setattr(ImportJob, "save", flaky_save)
    assert runner.run_queued() == 1
    job = ImportJob.objects.get(nation=nation)
    assert job.status == ImportStatus.DONE and job.created_count == 2


def test_a_job_that_cannot_be_run_is_marked_failed_not_left_running(
    admin_client, nation, monkeypatch
):
    def broken(job, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(runner, "import_run", broken)
    _upload(admin_client, GOOD)
    with pytest.raises(RuntimeError):
        runner.run_queued()
    job = ImportJob.objects.get(nation=nation)
    assert job.status == ImportStatus.FAILED and "Upload the file again" in job.detail
    page = admin_client.get(f"/imports/{job.pk}/").content.decode()
    assert "The import stopped." in page and "hx-trigger" not in page
