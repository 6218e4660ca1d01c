"""`/people/{id}/taggings`: which tags a person carries — thin over tags.services."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Router, Status

from tagshare.api.auth import caller
from tagshare.api.payload import Text
from tagshare.api.people import access_person
from tagshare.api.schemas import TaggingsPage, TagsIn, responses
from tagshare.people import selectors
from tagshare.people.models import Person
from tagshare.tags import services as tag_services

router = Router(tags=["taggings"])


def _taggings(person: Person) -> dict[str, Any]:
    # A person carries few tags, so this list is never paged: `next` is always null.
    return {"results": [{"tag": name} for name in selectors.person_tags(person)], "next": None}


@router.get("/{person_id}/taggings", response=responses({200: TaggingsPage}, 404, 422))
def taggings_index(request: HttpRequest, person_id: int) -> dict[str, Any]:
    c = caller(request)
    return _taggings(access_person(c.nation, person_id))


@router.put("/{person_id}/taggings", response=responses({200: TaggingsPage}, 400, 404, 409, 422))
def taggings_add(request: HttpRequest, person_id: int, payload: TagsIn) -> dict[str, Any]:
    """Adds the tags (creating new ones); tags already on the person stay. All or nothing."""
    c = caller(request)
    person = access_person(c.nation, person_id)
    with transaction.atomic():
        for name in payload.tags:
            tag_services.tag_apply(nation=c.nation, actor=c.actor, person=person, name=name)
    return _taggings(person)


# `path:` lets a tag name contain '/' once URL-decoded (names may also hold spaces and ':').
@router.delete("/{person_id}/taggings/{path:tag}", response=responses({204: None}, 404, 409, 422))
def taggings_remove(request: HttpRequest, person_id: int, tag: Text) -> Status[None]:
    """Takes the tag off; a tag that exists but is not on the person is already off (204)."""
    c = caller(request)
    person = access_person(c.nation, person_id)
    tag_services.tag_remove(nation=c.nation, actor=c.actor, person=person, name=tag)
    return Status(204, None)
