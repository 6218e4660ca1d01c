"""Writes for tags and taggings, with the ownership rule for shared tags (SPEC §3)."""

from __future__ import annotations

import re

from django.db import IntegrityError, transaction
from django.utils import timezone

from tagshare.errors import Conflict, NotFound, ValidationFailed
from tagshare.nations.actors import Actor, check_acts_in
from tagshare.nations.models import Nation
from tagshare.outbox import services as outbox
from tagshare.outbox.models import EventKind
from tagshare.people.models import Person
from tagshare.tags.models import Tag, Tagging

MAX_TAG_LENGTH = 255
# Control characters left after whitespace is collapsed (NUL, escape, C1 codes...): invisible in
# a list of tags, and PostgreSQL refuses NUL outright, which would fail a whole import.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def shared_name_room(sender_slug: str) -> int:
    """The longest tag name a nation can share: receiving nations name their copy
    `<sender slug>:<tag>`, which must fit in MAX_TAG_LENGTH characters too (SPEC §3)."""
    return MAX_TAG_LENGTH - len(sender_slug) - 1


def clean_tag_name(name: str) -> str:
    cleaned = " ".join(str(name).split())
    if not cleaned:
        raise ValidationFailed("A tag needs a name.")
    if "," in cleaned:
        raise ValidationFailed(
            f"Tag names cannot contain commas ({cleaned!r}): tag lists are comma-separated."
        )
    control = _CONTROL.search(cleaned)
    if control is not None:
        what = "a NUL" if control.group() == "\x00" else "a control character"
        raise ValidationFailed(
            f"Tag names cannot contain control characters ({cleaned!r} has {what}, "
            f"U+{ord(control.group()):04X}); remove it."
        )
    if len(cleaned) > MAX_TAG_LENGTH:
        raise ValidationFailed(f"A tag name is at most {MAX_TAG_LENGTH} characters.")
    return cleaned


def guard_owned(tag: Tag, actor: Actor, what: str) -> None:
    """A shared-in tag is the sender's: only its share may change it (SPEC §3)."""
    if tag.is_shared_in and not actor.is_share:
        sender = tag.name.split(":", 1)[0]
        raise Conflict(
            f"Cannot {what} {tag.name!r}: it is shared by the nation {sender!r}, which owns it. "
            "Only that nation can change who carries it; your nation can stop the share instead."
        )


def tag_get_or_create(*, nation: Nation, actor: Actor, name: str) -> Tag:
    check_acts_in(actor, nation)
    name = clean_tag_name(name)
    tag = Tag.objects.filter(nation=nation, name=name).first()
    if tag is not None:
        return tag
    if ":" in name and not actor.is_share:
        # `slug:tag` names belong to shared-in tags; a local look-alike would pass as one.
        raise ValidationFailed(
            f"Tag names cannot contain ':' ({name!r}); that form is reserved for tags shared "
            "by other nations."
        )
    try:
        with transaction.atomic():
            return Tag.objects.create(nation=nation, name=name)
    except IntegrityError:
        return Tag.objects.get(nation=nation, name=name)


def tag_apply(*, nation: Nation, actor: Actor, person: Person, name: str) -> bool:
    """Put a tag on a profile (creating the tag if new). Idempotent: returns False if already on."""
    check_acts_in(actor, nation)
    if person.nation_id != nation.pk:
        raise NotFound("Person not found.")
    with transaction.atomic():
        tag = tag_get_or_create(nation=nation, actor=actor, name=name)
        guard_owned(tag, actor, "add")
        _, created = Tagging.objects.get_or_create(tag=tag, person=person)
        if created:
            _touch(person)
            outbox.emit(
                nation_id=nation.pk,
                kind=EventKind.TAG_APPLIED,
                person_id=person.pk,
                payload={"tag_id": tag.pk, "tag": tag.name, "source": actor.source},
            )
    return created


def tag_remove(*, nation: Nation, actor: Actor, person: Person, name: str) -> bool:
    """Take a tag off a profile. Idempotent: returns False if it was not on."""
    check_acts_in(actor, nation)
    if person.nation_id != nation.pk:
        raise NotFound("Person not found.")
    tag = Tag.objects.filter(nation=nation, name=clean_tag_name(name)).first()
    if tag is None:
        raise NotFound(f"No tag named {name!r} in this nation.")
    guard_owned(tag, actor, "remove")
    with transaction.atomic():
        deleted, _ = Tagging.objects.filter(tag=tag, person=person).delete()
        if deleted:
            _touch(person)
            outbox.emit(
                nation_id=nation.pk,
                kind=EventKind.TAG_REMOVED,
                person_id=person.pk,
                payload={"tag_id": tag.pk, "tag": tag.name, "source": actor.source},
            )
    return bool(deleted)


def _touch(person: Person) -> None:
    """A tagging change moves the profile's updated_at, so `updated_since` polling sees it."""
    person.updated_at = timezone.now()
    Person.objects.filter(pk=person.pk).update(updated_at=person.updated_at)


def tag_rename(*, nation: Nation, actor: Actor, tag: Tag, new_name: str) -> Tag:
    check_acts_in(actor, nation)
    if tag.nation_id != nation.pk:
        raise NotFound("Tag not found.")
    guard_owned(tag, actor, "rename")
    new_name = clean_tag_name(new_name)
    if ":" in new_name and not actor.is_share:
        raise ValidationFailed(
            "Tag names cannot contain ':'; that form is reserved for shared tags."
        )
    if Tag.objects.filter(nation=nation, name=new_name).exclude(pk=tag.pk).exists():
        raise Conflict(f"A tag named {new_name!r} already exists in this nation.")
    longest = shared_name_room(nation.slug)
    if len(new_name) > longest and (
        tag.shares.exists() or Tag.objects.filter(source_tag=tag).exists()
    ):
        # Its copies in receiving nations are named `<slug>:<tag>`, in a tag name's length.
        raise ValidationFailed(
            f"This tag is shared with other nations, which name it '{nation.slug}:<tag>': a "
            f"name of at most {longest} characters fits."
        )
    with transaction.atomic():
        old = tag.name
        tag.name = new_name
        tag.save(update_fields=["name"])
        # Its copies in receiving nations follow: they are named `<sender slug>:<tag>`.
        Tag.objects.filter(source_tag=tag).update(name=f"{nation.slug}:{new_name}")
        outbox.emit(
            nation_id=nation.pk,
            kind=EventKind.TAG_RENAMED,
            person_id=None,
            payload={"tag_id": tag.pk, "old": old, "new": new_name},
        )
    return tag


def tag_delete(*, nation: Nation, actor: Actor, tag: Tag) -> None:
    check_acts_in(actor, nation)
    if tag.nation_id != nation.pk:
        raise NotFound("Tag not found.")
    guard_owned(tag, actor, "delete")
    with transaction.atomic():
        person_ids = list(tag.taggings.values_list("person_id", flat=True))
        outbox.emit(
            nation_id=nation.pk,
            kind=EventKind.TAG_DELETED,
            person_id=None,
            payload={"tag_id": tag.pk, "tag": tag.name, "person_ids": person_ids},
        )
        tag.delete()
