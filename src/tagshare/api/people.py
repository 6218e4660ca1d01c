"""`/people` routes: profiles, match by email, history and restore — thin over people.services."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.db import transaction
from django.db.models import Prefetch
from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field, field_validator

from tagshare.api.auth import caller
from tagshare.api.pagination import PageQuery, decode_cursor, keyset_page, sequence_page
from tagshare.api.payload import Text, read_json_object
from tagshare.api.schemas import (
    HistoryPage,
    PeoplePage,
    PersonCreateIn,
    PersonMatchOut,
    PersonOut,
    PersonPatchIn,
    RestoreIn,
    person_json,
    request_body_doc,
    responses,
)
from tagshare.errors import NotFound, ValidationFailed
from tagshare.nations.models import Nation
from tagshare.people import catalog, selectors, services, values
from tagshare.people.models import Person
from tagshare.tags import services as tag_services
from tagshare.tags.models import Tagging

router = Router(tags=["people"])

_BIGINT = 2**63 - 1
STATUS_FIELDS = ("is_supporter", "is_prospect")
READ_ONLY_FIELDS = ("id", "created_at", "updated_at")
_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


class PeopleQuery(PageQuery):
    search: Text = Field(
        "", max_length=200, description="Words matched against names, emails, phones."
    )
    tag: Text | None = Field(None, max_length=255, description="Only people carrying this tag.")
    updated_since: dt.datetime | None = Field(
        None, description="ISO 8601; only people changed at or after it (UTC if no offset)."
    )

    @field_validator("updated_since", mode="before")
    @classmethod
    def _iso_8601_only(cls, value: Any) -> Any:
        # pydantic reads a bare number as seconds since 1970: `updated_since=2024` would list
        # everyone changed since 00:33 on 1 January 1970 instead of saying what is wrong.
        if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
            raise ValueError("use an ISO 8601 date-time, e.g. 2026-01-31T09:00:00Z")
        return value


class MatchQuery(Schema):
    email: Text = Field(min_length=1, max_length=254, description="The email to look for.")


class HistoryQuery(PageQuery):
    field: Text | None = Field(
        None, max_length=64, description="Only changes of this catalog field."
    )


def access_person(nation: Nation, person_id: int) -> Person:
    """The nation's person; an id no database column can hold is as missing as any other."""
    if not 0 < person_id <= _BIGINT:
        raise NotFound(f"Person {person_id} not found.")
    return selectors.access_person_by_id(nation, person_id)


def _one(person: Person) -> dict[str, Any]:
    return person_json(person, selectors.person_tags(person))


@router.get("", response=responses({200: PeoplePage}, 400, 422), summary="List people")
def people_index(request: HttpRequest, query: Query[PeopleQuery]) -> dict[str, Any]:
    """This nation's people by id, `limit` per page; follow `next` for the following page.

    `limit` above the maximum is refused (422) rather than silently clamped.
    """
    c = caller(request)
    qs = selectors.people_list(
        c.nation, search=query.search, tag=query.tag, updated_since=_utc(query.updated_since)
    ).prefetch_related(Prefetch("taggings", queryset=Tagging.objects.select_related("tag")))
    rows, next_page = keyset_page(request, qs, page=query)
    results = [person_json(p, [t.tag.name for t in p.taggings.all()]) for p in rows]
    return {"results": results, "next": next_page}


@router.post(
    "",
    response=responses({201: PersonOut}, 400, 409, 422),
    openapi_extra=request_body_doc(PersonCreateIn),
    summary="Create a person",
)
def people_create(request: HttpRequest) -> Status[dict[str, Any]]:
    c = caller(request)
    fields, status, tags = _split_body(read_json_object(request), creating=True)
    with transaction.atomic():
        person = services.person_create(
            nation=c.nation,
            actor=c.actor,
            values_in=fields,
            is_supporter=status.get("is_supporter"),
            is_prospect=status.get("is_prospect", False),
        )
        for name in tags:
            tag_services.tag_apply(nation=c.nation, actor=c.actor, person=person, name=name)
    return Status(201, _one(person))


# Declared before /{person_id} so that "match" is never read as an id.
@router.get("/match", response=responses({200: PersonMatchOut}, 404, 422), summary="Find by email")
def people_match(request: HttpRequest, query: Query[MatchQuery]) -> dict[str, Any]:
    """The person holding this email (compared trimmed and case-insensitively), or 404."""
    c = caller(request)
    return {"person": _one(selectors.person_by_email(c.nation, query.email))}


@router.get("/{person_id}", response=responses({200: PersonOut}, 404, 422), summary="Get a person")
def people_show(request: HttpRequest, person_id: int) -> dict[str, Any]:
    c = caller(request)
    return _one(access_person(c.nation, person_id))


@router.patch(
    "/{person_id}",
    response=responses({200: PersonOut}, 400, 404, 409, 422),
    openapi_extra=request_body_doc(PersonPatchIn),
    summary="Change some fields of a person",
)
def people_update(request: HttpRequest, person_id: int) -> dict[str, Any]:
    c = caller(request)
    person = access_person(c.nation, person_id)
    fields, status, _ = _split_body(read_json_object(request), creating=False)
    with transaction.atomic():
        if fields:
            services.person_update(nation=c.nation, actor=c.actor, person=person, changes=fields)
        if status:
            services.person_set_status(nation=c.nation, actor=c.actor, person=person, **status)
    return _one(person)


@router.delete("/{person_id}", response=responses({204: None}, 404, 422), summary="Delete a person")
def people_delete(request: HttpRequest, person_id: int) -> Status[None]:
    c = caller(request)
    services.person_delete(
        nation=c.nation, actor=c.actor, person=access_person(c.nation, person_id)
    )
    return Status(204, None)


@router.get(
    "/{person_id}/history",
    response=responses({200: HistoryPage}, 400, 404, 422),
    summary="History of a person's fields",
)
def people_history(
    request: HttpRequest, person_id: int, query: Query[HistoryQuery]
) -> dict[str, Any]:
    """One entry per changed field per write, newest first."""
    c = caller(request)
    person = access_person(c.nation, person_id)
    if query.field and query.field not in catalog.BY_NAME:
        message = values.unknown_field_message(query.field)
        raise ValidationFailed(message, errors={"field": message})
    # Only what this page shows is read: the entries after the cursor, and one more to know
    # whether another page follows.
    after = None
    if query.cursor:
        negated_id, after_field = decode_cursor(query.cursor, (int, str))
        after = (-int(negated_id), str(after_field))
    entries = selectors.person_history(
        c.nation, person, field=query.field, after=after, limit=query.limit + 1
    )
    rows, next_page = sequence_page(
        request,
        entries,
        page=query,
        key=lambda e: (-e["change_id"], e["field"]),
        key_types=(int, str),
    )
    return {"results": rows, "next": next_page}


@router.post(
    "/{person_id}/history/{change_id}/restore",
    response=responses({200: PersonOut}, 400, 403, 404, 409, 422),
    summary="Restore an earlier value (admins)",
)
def people_restore(
    request: HttpRequest, person_id: int, change_id: int, payload: RestoreIn
) -> dict[str, Any]:
    """Writes the change's old (or new) value back: a new write, with its own history."""
    c = caller(request)
    person = access_person(c.nation, person_id)
    if not 0 < change_id <= _BIGINT:
        raise NotFound(f"No recorded change with id {change_id} on this profile.")
    services.person_restore_value(
        nation=c.nation,
        actor=c.actor,
        person=person,
        change_id=change_id,
        field=payload.field,
        which=payload.which,
    )
    return _one(person)


def _split_body(
    body: dict[str, Any], *, creating: bool
) -> tuple[dict[str, Any], dict[str, bool], list[str]]:
    """Catalog fields, the nation-local status flags and (on create) tags; all errors at once."""
    fields: dict[str, Any] = {}
    status: dict[str, bool] = {}
    tags: list[str] = []
    errors: dict[str, str] = {}
    for key, value in body.items():
        if key in STATUS_FIELDS:
            if isinstance(value, bool):
                status[key] = value
            elif not (value is None and creating):
                errors[key] = f"{key} must be true or false."
        elif key == "tags":
            if not creating:
                errors[key] = (
                    "Tags are not changed with PATCH: use PUT /people/{id}/taggings to add tags "
                    "and DELETE /people/{id}/taggings/{tag} to remove one."
                )
            elif isinstance(value, list) and all(isinstance(t, str) for t in value):
                tags = value
            else:
                errors[key] = 'tags must be a list of tag names, like ["volunteers"].'
        elif key in READ_ONLY_FIELDS:
            errors[key] = f"{key} is set by Tagshare and cannot be sent."
        else:
            fields[key] = value
    if errors:
        try:
            values.clean_changes(fields)
        except ValidationFailed as exc:
            errors.update(exc.errors)
        if len(errors) == 1:
            raise ValidationFailed(next(iter(errors.values())), errors=errors)
        raise ValidationFailed(
            "Some fields are not valid: " + " ".join(errors.values()), errors=errors
        )
    return fields, status, tags


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError:
        raise ValidationFailed(
            f"updated_since {moment.isoformat()} is out of range.",
            errors={"updated_since": "out of range"},
        ) from None
