"""Importing in a real browser: upload a file, watch the job finish, read the report."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tagshare.imports import runner
from tagshare.people.models import Person

pytestmark = pytest.mark.e2e

SCREENSHOTS = "/tmp/tagshare-e2e"


def test_upload_a_file_and_watch_it_to_the_report(page, sign_in, admin, nation, tmp_path):
    people_csv = tmp_path / "supporters.csv"
    people_csv.write_text(
        "Email,First Name,Last Name,DOB,Zip\n"
        "ada@example.org,Ada,Lovelace,1815-12-10,N1 1AA\n"
        "grace@example.org,Grace,Hopper,1906-12-09,10001\n"
        "bad@example.org,Bad,Date,1990-02-30,\n",
        encoding="utf-8",
    )
    sign_in("alpha", "admin@alpha.example")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Imports").click()
    expect(page.get_by_role("heading", name="Imports", level=1)).to_be_visible()
    expect(page.get_by_text("No imports yet.")).to_be_visible()

    page.get_by_label("File").set_input_files(str(people_csv))
    page.get_by_label("Overwrite").check()
    page.get_by_label("Tags for every row").fill("volunteers, spring drive")
    page.get_by_role("button", name="Import").click()

    # The job's page polls its status until the runner (a thread of the server) is done.
    expect(page).to_have_url(re.compile(r"/imports/\d+/$"))
    expect(page.get_by_role("heading", name="Import of supporters.csv")).to_be_visible()
    status = page.locator("#import-job")
    expect(status).to_contain_text("Done.", timeout=30_000)
    expect(status).to_contain_text("3 rows read")
    expect(status.locator(".box", has_text="created")).to_contain_text("2")
    expect(status.locator(".box", has_text="rejected")).to_contain_text("1")
    rejected = page.get_by_role("table", name="Rejected rows")
    expect(rejected.get_by_role("row").nth(1)).to_contain_text("4")
    expect(rejected).to_contain_text("birthdate")
    page.screenshot(path=f"{SCREENSHOTS}/import-done.png", full_page=True)

    assert Person.objects.filter(nation=nation).count() == 2
    ada = Person.objects.get(nation=nation, email1="ada@example.org")
    assert sorted(t.tag.name for t in ada.taggings.all()) == ["spring drive", "volunteers"]

    # The list shows the job with its counts and leads back to it.
    page.get_by_role("link", name="Imports").first.click()
    row = page.get_by_role("row", name=re.compile("supporters.csv"))
    expect(row).to_contain_text("Done")
    row.get_by_role("link", name="supporters.csv").click()
    expect(page.locator("#import-job")).to_contain_text("Done.")
    runner.embedded_runner.join(timeout=30)


def test_a_file_with_an_unknown_column_is_rejected_with_the_reason(
    page, sign_in, admin, nation, tmp_path
):
    bad = tmp_path / "bad.csv"
    bad.write_text("Email,Shoe Size\nada@example.org,9\n", encoding="utf-8")
    sign_in("alpha", "admin@alpha.example")
    page.goto("/imports/")
    page.get_by_label("File").set_input_files(str(bad))
    page.get_by_role("button", name="Import").click()
    status = page.locator("#import-job")
    expect(status).to_contain_text("The file was not imported.", timeout=30_000)
    expect(status).to_contain_text("Shoe Size")
    assert not Person.objects.filter(nation=nation).exists()
    runner.embedded_runner.join(timeout=30)
