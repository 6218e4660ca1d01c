"""`/people` routes of the matching engine: push and add one profile, merge, possible duplicates.

Mounted before api.people's router so that `push`, `add` and `duplicates` are never read as ids.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Router, Status

from tagshare.api.auth import caller
from tagshare.api.payload import read_json_object
from tagshare.api.people import READ_ONLY_FIELDS, STATUS_FIELDS, access_person
from tagshare.api.schemas import (
    DuplicatesPage,
    MergeIn,
    PersonOut,
    PersonPushIn,
    PushOut,
    person_json,
    request_body_doc,
    responses,
)
from tagshare.errors import ValidationFailed
from tagshare.imports.push import person_push
from tagshare.matching.selectors import possible_duplicates
from tagshare.people import selectors, values
from tagshare.people.merge import person_merge
from tagshare.people.models import Person
from tagshare.tags import services as tag_services

router = Router(tags=["matching"])

_PUSH_NOTES = (
    "The profile is matched like an import row (SPEC §4: voter GUID, unique IDs, emails, then "
    "first and last name with a birthdate or phone). No match creates a profile (201); a match "
    "answers 200 with the `rule` that found it; several candidates are a 409 listing them in "
    "`errors.candidates` — merge the duplicates (POST /people/{id}/merge) and push again. The "
    "body needs an email, a unique ID, or a first and last name with a birthdate or phone. Null "
    "or empty values are ignored, so a push never clears a field (use PATCH /people/{id})."
)


def _person(person: Person) -> dict[str, Any]:
    return person_json(person, selectors.person_tags(person))


def _push_body(body: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The non-blank catalog values and the tags of a push body; every problem at once."""
    fields: dict[str, Any] = {}
    tags: list[str] = []
    errors: dict[str, str] = {}
    for key, value in body.items():
        if key == "tags":
            if isinstance(value, list) and all(isinstance(t, str) for t in value):
                tags = value
            elif value is not None:
                errors[key] = 'tags must be a list of tag names, like ["volunteers"].'
        elif key in STATUS_FIELDS:
            errors[key] = (
                f"{key} is not matched or pushed; set it with PATCH /people/{{id}} afterwards."
            )
        elif key in READ_ONLY_FIELDS:
            errors[key] = (
                f"{key} is set by Tagshare and cannot be pushed; profiles are found by matching."
            )
        else:
            fields[key] = value
    cleaned: dict[str, Any] = {}
    try:
        cleaned = values.clean_changes(fields)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if errors:
        if len(errors) == 1:
            raise ValidationFailed(next(iter(errors.values())), errors=errors)
        raise ValidationFailed(
            "Some fields are not valid: " + " ".join(errors.values()), errors=errors
        )
    return {k: v for k, v in cleaned.items() if not values.is_blank(v)}, tags


def _push(request: HttpRequest, *, overwrite: bool) -> Status[dict[str, Any]]:
    c = caller(request)
    fields, tags = _push_body(read_json_object(request))
    with transaction.atomic():
        result = person_push(nation=c.nation, actor=c.actor, values_in=fields, overwrite=overwrite)
        for name in tags:
            tag_services.tag_apply(nation=c.nation, actor=c.actor, person=result.person, name=name)
    body = {"person": _person(result.person), "created": result.created, "rule": result.rule}
    return Status(201 if result.created else 200, body)


@router.put(
    "/push",
    response=responses({200: PushOut, 201: PushOut}, 400, 409, 422),
    openapi_extra=request_body_doc(PersonPushIn),
    summary="Match or create a person, overwriting",
    description=f"A matched profile takes every non-blank value sent. {_PUSH_NOTES}",
)
def people_push(request: HttpRequest) -> Status[dict[str, Any]]:
    return _push(request, overwrite=True)


@router.put(
    "/add",
    response=responses({200: PushOut, 201: PushOut}, 400, 409, 422),
    openapi_extra=request_body_doc(PersonPushIn),
    summary="Match or create a person, filling blanks only",
    description=(
        "A matched profile keeps its values; only its blank fields take the values sent "
        f"(addresses sent replace the stored ones, as in imports). {_PUSH_NOTES}"
    ),
)
def people_add(request: HttpRequest) -> Status[dict[str, Any]]:
    return _push(request, overwrite=False)


@router.get(
    "/duplicates",
    response=responses({200: DuplicatesPage}),
    summary="Possible duplicates",
)
def people_duplicates(request: HttpRequest) -> dict[str, Any]:
    """Groups of profiles the matching would find ambiguous: the same name and birthdate, or
    the same name and phone. Merge them before sharing a tag. At most 500 groups, one page."""
    c = caller(request)
    groups = possible_duplicates(c.nation)
    results = [{"reason": g.reason, "person_ids": list(g.person_ids)} for g in groups]
    return {"results": results, "next": None}


@router.post(
    "/{person_id}/merge",
    response=responses({200: PersonOut}, 400, 403, 404, 422),
    summary="Merge another profile into this one (admins)",
)
def people_merge(request: HttpRequest, person_id: int, payload: MergeIn) -> dict[str, Any]:
    """This profile is kept and takes the other's emails, IDs, tags and history; where both have
    a value, this one's stays and the other's is recorded in history (restorable). The other
    profile is deleted."""
    c = caller(request)
    keep = access_person(c.nation, person_id)
    other = access_person(c.nation, payload.other_id)
    return _person(person_merge(nation=c.nation, actor=c.actor, keep=keep, other=other))
