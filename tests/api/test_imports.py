"""CSV imports through the API: upload, the job's record, rejected rows and files, tenancy."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tagshare.imports.models import ImportJob
from tagshare.people.models import Person
from tests.api.conftest import assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _kept_uploads_in_tmp(settings: Any, tmp_path: Any) -> None:
    # import_create keeps a copy of every upload under DATA_DIR.
    settings.DATA_DIR = tmp_path


def csv_file(content: str | bytes, name: str = "people.csv") -> SimpleUploadedFile:
    data = content.encode("utf-8") if isinstance(content, str) else content
    return SimpleUploadedFile(name, data, content_type="text/csv")


def upload(client: Any, content: str | bytes, **fields: Any) -> Any:
    return client.post_form("/imports", {"file": csv_file(content), **fields})


def test_a_valid_file_is_imported_and_the_job_answers_with_counts(admin_api, nation):
    response = admin_api.post_form(
        "/imports",
        {
            "file": csv_file(
                "Email,First Name,Last Name,DOB,home_city,tag_list\n"
                "ada@example.org,Ada,Lovelace,1815-12-10,London,volunteers\n"
                "bob@example.org,Bob,Smith,,,\n",
                name="spring.csv",
            ),
            "tags": ["spring, door knock", "petition"],
        },
    )
    assert response.status_code == 201, response.json()
    job = response.json()
    assert job["filename"] == "spring.csv"
    assert job["status"] == "done" and job["detail"] == ""
    assert job["overwrite"] is False
    assert job["tags"] == ["spring", "door knock", "petition"]
    assert job["counts"] == {
        "total_rows": 2,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "ambiguous": 0,
        "rejected": 0,
    }
    assert job["errors"] == [] and job["ambiguous"] == []
    assert job["started_at"] and job["finished_at"]

    ada = admin_api.get("/people/match", {"email": "ADA@example.org"}).json()["person"]
    assert (ada["first_name"], ada["birthdate"], ada["home_address"]["city"]) == (
        "Ada",
        "1815-12-10",
        "London",
    )
    assert ada["tags"] == ["door knock", "petition", "spring", "volunteers"]
    history = admin_api.get(f"/people/{ada['id']}/history").json()["results"]
    assert {(e["source"], e["actor"]) for e in history} == {("import", "admin@alpha.example")}

    record = admin_api.get(f"/imports/{job['id']}")
    assert record.status_code == 200
    assert record.json() == job


def test_overwrite_decides_whether_matched_profiles_take_the_files_values(
    admin_api, nation, make_person
):
    person = make_person(nation, email1="ada@example.org", occupation="Poet")
    text = "email,occupation,employer\nada@example.org,Mathematician,Engines Ltd\n"

    fill = upload(admin_api, text).json()
    assert (fill["overwrite"], fill["counts"]["updated"]) == (False, 1)
    person.refresh_from_db()
    assert (person.occupation, person.employer) == ("Poet", "Engines Ltd")

    push = upload(admin_api, text, overwrite="true").json()
    assert (push["overwrite"], push["counts"]["updated"]) == (True, 1)
    person.refresh_from_db()
    assert person.occupation == "Mathematician"

    again = upload(admin_api, text, overwrite="true").json()
    assert again["counts"]["unchanged"] == 1 and again["counts"]["updated"] == 0


def test_a_bad_row_is_listed_by_row_number_and_field_and_the_rest_imported(admin_api, nation):
    job = upload(
        admin_api,
        "email,first_name,birthdate\n"
        "ok@example.org,Ok,1990-01-01\n"
        "bad@example.org,Bad,1990-02-30\n"
        "fine@example.org,Fine,\n",
    ).json()
    assert job["status"] == "done"
    assert (job["counts"]["created"], job["counts"]["rejected"]) == (2, 1)
    [error] = job["errors"]
    assert (error["row"], error["field"]) == (3, "birthdate")
    assert "YYYY-MM-DD" in error["message"]
    emails = set(Person.objects.filter(nation=nation).values_list("email1", flat=True))
    assert emails == {"ok@example.org", "fine@example.org"}


def test_an_ambiguous_row_is_listed_with_its_candidates(admin_api, nation, make_person):
    one = make_person(nation, first_name="Sam", last_name="Lee", birthdate="1990-01-01")
    two = make_person(nation, first_name="Sam", last_name="Lee", birthdate="1990-01-01")
    job = upload(admin_api, "first_name,last_name,birthdate,occupation\nSam,Lee,1990-01-01,Cook\n")
    body = job.json()
    assert body["status"] == "done" and body["counts"]["ambiguous"] == 1
    [row] = body["ambiguous"]
    assert row["row"] == 2 and sorted(row["candidates"]) == sorted([one.pk, two.pk])
    assert Person.objects.filter(nation=nation, occupation="Cook").count() == 0


def test_an_unknown_column_rejects_the_whole_file_naming_it(admin_api, nation):
    response = upload(admin_api, "email,favourite_colour\nada@example.org,Blue\n")
    assert response.status_code == 201
    job = response.json()
    assert job["status"] == "rejected"
    assert "favourite_colour" in job["detail"] and "column" in job["detail"].lower()
    assert job["counts"]["created"] == 0
    assert not Person.objects.filter(nation=nation).exists()


def test_a_file_that_is_not_utf8_is_rejected_with_the_line_number(admin_api, nation):
    content = "email,first_name\nada@example.org,Ada\nbob@example.org,Ren\xe9e\n".encode("latin-1")
    job = upload(admin_api, content).json()
    assert job["status"] == "rejected"
    assert "UTF-8" in job["detail"] and "line 3" in job["detail"]
    assert not Person.objects.filter(nation=nation).exists()


def test_a_file_stored_on_disk_by_django_is_imported_too(admin_api, nation, settings):
    # Uploads above this size reach the view as a temporary file rather than in memory.
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 10
    job = upload(admin_api, "email\nada@example.org\nbob@example.org\n").json()
    assert (job["status"], job["counts"]["created"]) == ("done", 2)


def test_a_missing_file_is_a_422_saying_how_to_send_it(admin_api):
    body = assert_error(admin_api.post_form("/imports", {"overwrite": "true"}), 422, "file")
    assert "multipart/form-data" in body["detail"]
    assert set(body["errors"]) == {"file"}
    assert_error(admin_api.post("/imports", {"file": "people.csv"}), 422, "multipart/form-data")
    assert_error(admin_api.post_form("/imports", {"file": "email\na@x.org"}), 422, "not a file")
    assert not ImportJob.objects.exists()


def test_bad_options_are_refused_by_name(admin_api):
    body = assert_error(upload(admin_api, "email\na@example.org\n", overwrite="maybe"), 422)
    assert set(body["errors"]) == {"overwrite"}
    body = assert_error(upload(admin_api, "email\na@example.org\n", overwrit="true"), 422)
    assert "overwrit" in body["errors"]
    assert_error(upload(admin_api, "email\na@example.org\n", tags="them:shared"), 422, "':'")
    assert not ImportJob.objects.exists()
    assert not Person.objects.exists()


def test_an_upload_over_the_size_limit_is_a_413(admin_api, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 1000
    response = upload(admin_api, "email\n" + "".join(f"p{i}@example.org\n" for i in range(200)))
    assert_error(response, 413, "larger than")
    assert not ImportJob.objects.exists()


def test_another_nations_import_is_not_found(admin_api, other_api):
    job = upload(admin_api, "email\nada@example.org\n").json()
    assert_error(other_api.get(f"/imports/{job['id']}"), 404)
    assert_error(admin_api.get("/imports/999999"), 404)
    assert_error(admin_api.get("/imports/99999999999999999999"), 404)


def test_the_list_holds_the_nations_own_jobs_newest_first_in_pages(admin_api, staff_api, other_api):
    first = upload(admin_api, "email\na@example.org\n").json()["id"]
    second = upload(staff_api, "email\nb@example.org\n").json()["id"]
    theirs = upload(other_api, "email\nc@example.org\n").json()["id"]

    page = admin_api.get("/imports", {"limit": 1}).json()
    assert [j["id"] for j in page["results"]] == [second]
    assert page["next"]
    rest = admin_api.get(page["next"]).json()
    assert [j["id"] for j in rest["results"]] == [first]
    assert rest["next"] is None

    assert [j["id"] for j in other_api.get("/imports").json()["results"]] == [theirs]
    assert_error(admin_api.get("/imports", {"cursor": "nonsense!"}), 400, "cursor")
