"""Tags are per nation, tagging is idempotent, shared tags belong to the sender (SPEC §3)."""

import pytest

from tagshare.errors import Conflict, NotFound, ValidationFailed
from tagshare.nations.actors import Actor
from tagshare.people.selectors import person_tags
from tagshare.tags import services
from tagshare.tags.models import Tag, Tagging


@pytest.fixture
def shared_tag(nation, other_nation):
    return Tag.objects.create(
        nation=nation, name=f"{other_nation.slug}:friends", shared_from=other_nation
    )


def test_tagging_twice_is_one_tagging(nation, make_person):
    person = make_person(nation, first_name="A")
    assert services.tag_apply(
        nation=nation, actor=Actor.system(), person=person, name=" Volunteers "
    )
    assert not services.tag_apply(
        nation=nation, actor=Actor.system(), person=person, name="Volunteers"
    )
    assert person_tags(person) == ["Volunteers"]
    assert Tag.objects.filter(nation=nation).count() == 1


def test_tag_names_are_unique_per_nation_not_across(nation, other_nation, make_person):
    a = make_person(nation)
    b = make_person(other_nation)
    services.tag_apply(nation=nation, actor=Actor.system(), person=a, name="donors")
    services.tag_apply(nation=other_nation, actor=Actor.system(), person=b, name="donors")
    assert Tag.objects.filter(name="donors").count() == 2


@pytest.mark.parametrize("action", ["add", "remove", "rename", "delete"])
def test_the_receiving_nation_cannot_touch_a_shared_tag(
    nation, admin, make_person, shared_tag, action
):
    person = make_person(nation)
    Tagging.objects.create(tag=shared_tag, person=person)
    other = make_person(nation, first_name="B")
    actor = Actor.for_user(admin)
    with pytest.raises(Conflict) as exc:
        if action == "add":
            services.tag_apply(nation=nation, actor=actor, person=other, name=shared_tag.name)
        elif action == "remove":
            services.tag_remove(nation=nation, actor=actor, person=person, name=shared_tag.name)
        elif action == "rename":
            services.tag_rename(nation=nation, actor=actor, tag=shared_tag, new_name="mine")
        else:
            services.tag_delete(nation=nation, actor=actor, tag=shared_tag)
    assert "shared by the nation 'beta'" in exc.value.detail
    assert Tag.objects.get(pk=shared_tag.pk).name == "beta:friends"
    assert list(Tagging.objects.filter(tag=shared_tag).values_list("person_id", flat=True)) == [
        person.pk
    ]


def test_the_share_itself_may_move_its_tag(nation, make_person, shared_tag):
    person = make_person(nation)
    assert services.tag_apply(
        nation=nation, actor=Actor.share(1), person=person, name=shared_tag.name
    )
    assert services.tag_remove(
        nation=nation, actor=Actor.share(1), person=person, name=shared_tag.name
    )


def test_local_tag_names_cannot_pose_as_shared_ones(nation, make_person):
    person = make_person(nation)
    with pytest.raises(ValidationFailed):
        services.tag_apply(nation=nation, actor=Actor.system(), person=person, name="beta:friends")


@pytest.mark.parametrize("name", ["a\x00b", "a\x1bb", "a\x7fb", "a\x9bb"])
def test_tag_names_with_control_characters_are_refused_saying_so(nation, make_person, name):
    # Invisible in a list of tags, and PostgreSQL refuses a NUL outright.
    person = make_person(nation)
    with pytest.raises(ValidationFailed, match="cannot contain control characters"):
        services.tag_apply(nation=nation, actor=Actor.system(), person=person, name=name)
    assert not Tag.objects.exists()


def test_whitespace_in_tag_names_is_collapsed_not_refused():
    assert services.clean_tag_name(" phone\tbank\r\n ") == "phone bank"


def test_another_nations_user_cannot_tag_our_people(nation, other_admin, make_person):
    person = make_person(nation)
    with pytest.raises(NotFound):
        services.tag_apply(
            nation=nation, actor=Actor.for_user(other_admin), person=person, name="x"
        )
    with pytest.raises(NotFound):
        services.tag_apply(
            nation=other_admin.nation, actor=Actor.for_user(other_admin), person=person, name="x"
        )
    assert Tagging.objects.count() == 0


def test_rename_and_delete_local_tags(nation, make_person):
    person = make_person(nation)
    services.tag_apply(nation=nation, actor=Actor.system(), person=person, name="old")
    tag = Tag.objects.get(name="old")
    services.tag_rename(nation=nation, actor=Actor.system(), tag=tag, new_name="new")
    assert person_tags(person) == ["new"]
    services.tag_delete(nation=nation, actor=Actor.system(), tag=tag)
    assert person_tags(person) == []
