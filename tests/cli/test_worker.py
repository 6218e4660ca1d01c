"""`tagshare worker --until-idle` and `tagshare reconcile` drive the sync engine end to end."""

from __future__ import annotations

import io

from django.core.management import call_command

from tagshare.nations.actors import Actor
from tagshare.nations.services import nation_create, user_create
from tagshare.people.models import Person
from tagshare.people.selectors import person_tags
from tagshare.people.services import person_create, person_delete, person_update
from tagshare.sharing import services
from tagshare.sharing.models import LinkState, ShareLink
from tagshare.tags.services import tag_apply


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _coalition(create_profiles: bool = False):
    north = nation_create(slug="north", name="North", plan="organization")
    river = nation_create(slug="river", name="River", plan="enterprise")
    north_admin = user_create(nation=north, email="a@north.example", role="admin")
    river_admin = user_create(nation=river, email="a@river.example", role="admin")
    theirs = person_create(
        nation=north, actor=Actor.system(), values_in={"email1": "p@x.org", "first_name": "Pat"}
    )
    tag_apply(nation=north, actor=Actor.system(), person=theirs, name="climate")
    [share] = services.share_create(
        nation=north,
        actor=Actor.for_user(north_admin),
        tag_name="climate",
        nations="river",
        sync_data=True,
        create_profiles=create_profiles,
    )
    services.share_accept(
        nation=river,
        actor=Actor.for_user(river_admin),
        share=share,
        sync_option="accept_all",
        create_profiles=create_profiles,
    )
    return north, river, share, theirs


def test_worker_until_idle_applies_pending_writes(db):
    north, _river, share, theirs = _coalition(create_profiles=True)
    person_update(
        nation=north, actor=Actor.system(), person=theirs, changes={"occupation": "Baker"}
    )
    out = run("worker", "--until-idle")
    assert "Processed" in out
    copy = ShareLink.objects.get(share=share).receiver_person
    assert copy.occupation == "Baker"
    assert "Processed 0 events" in run("worker", "--until-idle")


def test_reconcile_recreates_a_deleted_profile_when_the_share_creates_profiles(db):
    _north, river, share, _theirs = _coalition(create_profiles=True)
    copy = ShareLink.objects.get(share=share).receiver_person
    person_delete(nation=river, actor=Actor.system(), person=copy)
    run("worker", "--until-idle")
    assert ShareLink.objects.get(share=share).state == LinkState.ENDED
    assert "Reconciled share" in run("reconcile", "--share", str(share.pk))
    link = ShareLink.objects.get(share=share)
    assert (link.state, link.rule) == (LinkState.SYNCED, "created")
    recreated = Person.objects.get(pk=link.receiver_person_id)
    assert recreated.email1 == "p@x.org" and person_tags(recreated) == ["north:climate"]
