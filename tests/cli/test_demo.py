"""`tagshare demo`: demo nations whose users can sign in, people with history, safe to run twice."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from tagshare.console.demo import DEMO_PASSWORD
from tagshare.nations.models import Nation, User
from tagshare.outbox.models import OutboxEvent
from tagshare.people.models import Person, PersonChange
from tagshare.tags.models import Tag, Tagging

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def run_demo(people: int = 30) -> str:
    out = io.StringIO()
    call_command("demo", "--no-serve", "--people", str(people), stdout=out, stderr=io.StringIO())
    return out.getvalue()


def counts() -> dict[str, int]:
    models = (Nation, User, Person, PersonChange, Tag, Tagging, OutboxEvent)
    return {model.__name__: model.objects.count() for model in models}


def test_demo_creates_nations_whose_users_can_sign_in() -> None:
    out = run_demo()
    plans = dict(Nation.objects.values_list("slug", "plan"))
    assert len(plans) >= 2
    assert len(set(plans.values())) == len(plans)  # each demo nation shows a different plan
    for slug in plans:
        for role in ("admin", "staff"):
            email = f"{role}@{slug}.example"
            user = authenticate(nation=slug, email=email, password=DEMO_PASSWORD)
            assert user is not None and user.role == role
            row = next(line for line in out.splitlines() if email in line)
            assert slug in row and DEMO_PASSWORD in row and "/login/" in row
    assert "Creating demo people" not in out  # no progress bar in a pipe


def test_demo_people_have_history_and_tags() -> None:
    run_demo()
    for nation in Nation.objects.all():
        people = Person.objects.filter(nation=nation)
        assert people.count() >= 30
        assert not people.filter(changes__isnull=True).exists()
        assert Tagging.objects.filter(person__nation=nation).count() > 0
    first_names = Person.objects.values_list("first_name", flat=True)
    assert len(set(first_names)) > 20  # realistic variety, not one name repeated


def test_demo_puts_the_same_people_in_two_nations_with_different_data() -> None:
    run_demo()
    copies = Person.objects.filter(
        first_name="Maria", last_name="Gonzalez", birthdate__isnull=False
    )
    by_nation = {person.nation.slug: person for person in copies.select_related("nation")}
    assert {"northside", "riverside"} <= set(by_nation)
    north, river = by_nation["northside"], by_nation["riverside"]
    # The same person by voter GUID; the accepted coalition share (accept all changes) has
    # synced Northside's values into Riverside's copy, while Hilltop's share is still pending.
    assert north.nbec_guid == river.nbec_guid
    assert (north.email1, north.occupation) == (river.email1, river.occupation)
    hill = by_nation.get("hilltop")
    if hill is not None:
        assert (hill.email1, hill.occupation) != (north.email1, north.occupation)


def test_running_demo_twice_changes_no_counts_and_keeps_sign_in_working() -> None:
    run_demo()
    first = counts()
    admin = User.objects.get(email="admin@northside.example")
    admin.set_password("changed-by-someone")
    admin.save()

    out = run_demo()
    assert counts() == first
    assert "0 people created" in out
    assert authenticate(nation="northside", email="admin@northside.example", password=DEMO_PASSWORD)


def test_demo_adds_only_the_missing_people_when_asked_for_more() -> None:
    run_demo(people=10)
    before = Person.objects.filter(nation__slug="northside").count()
    run_demo(people=15)
    assert Person.objects.filter(nation__slug="northside").count() == before + 5


def test_demo_shows_a_coalition_share_one_accepted_one_pending() -> None:
    from tagshare.people.selectors import person_tags
    from tagshare.sharing.models import ShareLink, TagShare

    run_demo(30)
    shares = {s.receiver.slug: s for s in TagShare.objects.select_related("receiver")}
    assert (
        shares["riverside"].status == "approved" and shares["riverside"].sync_option == "accept_all"
    )
    assert shares["hilltop"].status == "pending" and shares["hilltop"].sync_data
    linked = ShareLink.objects.filter(share=shares["riverside"], state="synced").select_related(
        "receiver_person"
    )
    assert linked.exists()
    assert "northside:Climate Coalition" in person_tags(linked.first().receiver_person)
    run_demo(30)
    assert TagShare.objects.count() == 2
