"""The shared tag belongs to the sender (SPEC §3): named `sender-slug:tag`, put on and taken off
only by its share — never by the receiving nation's users, imports or API."""

from __future__ import annotations

import pytest

from tagshare.errors import Conflict, ValidationFailed
from tagshare.imports.services import import_create
from tagshare.nations.actors import Actor
from tagshare.people.selectors import person_tags
from tagshare.sharing import services
from tagshare.sharing.models import TagShare
from tagshare.tags.models import Tag
from tagshare.tags.services import tag_apply, tag_delete, tag_remove, tag_rename


@pytest.fixture
def shared(receiver, tagged, make_person, share_and_accept):
    """An approved share; `here` carries the shared tag in the receiving nation."""
    here = make_person(receiver, email1="a@x.org")
    tagged(email1="a@x.org")
    share = share_and_accept(sync_data=False)
    return share, here


@pytest.fixture(params=["admin", "staff"])
def receiver_user(request, receiver, receiver_admin, make_user):
    return Actor.for_user(
        receiver_admin if request.param == "admin" else make_user(receiver, "staff")
    )


def test_the_shared_tag_is_named_sender_slug_colon_tag_and_owned_by_the_sender(
    shared, sender, receiver
):
    share, here = shared
    tag = Tag.objects.get(nation=receiver)
    assert tag.name == "north:climate" == share.shared_tag_name
    assert (tag.shared_from_id, tag.source_tag_id, tag.is_shared_in) == (
        sender.pk,
        share.tag_id,
        True,
    )
    assert share.receiver_tag_id == tag.pk
    assert person_tags(here) == ["north:climate"]


def test_receiver_users_cannot_put_the_shared_tag_on_a_profile(
    shared, receiver, make_person, receiver_user
):
    other = make_person(receiver, email1="b@x.org")
    with pytest.raises(Conflict, match="owns it"):
        tag_apply(nation=receiver, actor=receiver_user, person=other, name="north:climate")
    assert person_tags(other) == []


def test_receiver_users_cannot_take_the_shared_tag_off(shared, receiver, receiver_user):
    _, here = shared
    with pytest.raises(Conflict, match="owns it"):
        tag_remove(nation=receiver, actor=receiver_user, person=here, name="north:climate")
    assert person_tags(here) == ["north:climate"]


def test_receiver_users_cannot_rename_or_delete_the_shared_tag(shared, receiver, receiver_user):
    tag = Tag.objects.get(nation=receiver, name="north:climate")
    with pytest.raises(Conflict, match="rename"):
        tag_rename(nation=receiver, actor=receiver_user, tag=tag, new_name="climate")
    with pytest.raises(Conflict, match="delete"):
        tag_delete(nation=receiver, actor=receiver_user, tag=tag)
    assert Tag.objects.get(pk=tag.pk).name == "north:climate"


def test_the_share_itself_may_change_who_carries_it(shared, receiver, make_person):
    share, here = shared
    other = make_person(receiver, email1="b@x.org")
    assert tag_apply(
        nation=receiver, actor=Actor.share(share.pk), person=other, name="north:climate"
    )
    assert tag_remove(
        nation=receiver, actor=Actor.share(share.pk), person=here, name="north:climate"
    )


def test_an_import_cannot_add_the_shared_tag(shared, receiver, receiver_admin, tmp_path, settings):
    settings.DATA_DIR = tmp_path
    upload = tmp_path / "people.csv"
    upload.write_text("email\nb@x.org\n", encoding="utf-8")
    with pytest.raises(ValidationFailed, match="shared by other nations"):
        import_create(
            nation=receiver,
            actor=Actor.importer(receiver_admin),
            source=upload,
            tags=["north:climate"],
        )


def test_no_local_tag_can_pass_for_a_shared_one(receiver, make_person, receiver_admin):
    person = make_person(receiver, email1="z@x.org")
    with pytest.raises(ValidationFailed, match="':'"):
        tag_apply(
            nation=receiver,
            actor=Actor.for_user(receiver_admin),
            person=person,
            name="north:climate",
        )
    assert not Tag.objects.filter(nation=receiver).exists()


def test_a_nation_cannot_pass_on_a_tag_shared_with_it(
    shared, receiver, receiver_admin, make_nation
):
    make_nation("lake")
    with pytest.raises(ValidationFailed, match="only its own tags"):
        services.share_create(
            nation=receiver,
            actor=Actor.for_user(receiver_admin),
            tag_name="north:climate",
            nations="lake",
        )
    assert not TagShare.objects.filter(sender=receiver).exists()


def test_after_stop_and_re_accept_the_same_shared_tag_comes_back(
    shared, sender, receiver, sender_admin, receiver_admin
):
    share, here = shared
    tag_id = share.receiver_tag_id
    services.share_stop(nation=receiver, actor=Actor.for_user(receiver_admin), share=share)
    assert person_tags(here) == []
    services.share_update(
        nation=sender, actor=Actor.for_user(sender_admin), share=share, changes={}, request=True
    )
    services.share_accept(nation=receiver, actor=Actor.for_user(receiver_admin), share=share)
    assert share.receiver_tag_id == tag_id
    assert Tag.objects.filter(nation=receiver).count() == 1
    assert person_tags(here) == ["north:climate"]


def test_a_renamed_sender_tag_renames_the_shared_tag(shared, sender, receiver):
    share, here = shared
    tag_rename(nation=sender, actor=Actor.system(), tag=share.tag, new_name="climate action")
    assert person_tags(here) == ["north:climate action"]
    share.refresh_from_db()
    assert share.receiver_tag.name == share.shared_tag_name == "north:climate action"


def test_a_shared_tag_cannot_be_renamed_past_what_its_copies_can_hold(shared, sender, receiver):
    # The receiving nation's copy is `north:<tag>`, in a tag name's 255 characters.
    share, here = shared
    longest = 255 - len("north:")
    with pytest.raises(ValidationFailed, match=f"at most {longest} characters"):
        tag_rename(nation=sender, actor=Actor.system(), tag=share.tag, new_name="c" * (longest + 1))
    assert person_tags(here) == ["north:climate"]
    tag_rename(nation=sender, actor=Actor.system(), tag=share.tag, new_name="c" * longest)
    assert person_tags(here) == ["north:" + "c" * longest]
