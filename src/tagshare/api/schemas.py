"""API shapes (SPEC §9.1). Person models are generated from the field catalog, never hand-listed.

The generated input models document request bodies in OpenAPI; the bodies themselves are
validated by the catalog's own cleaners (people.values), so the API, CSV imports and the control
panel refuse the same values with the same messages.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.config import JsonDict

from tagshare.api.payload import Text
from tagshare.people import catalog, values
from tagshare.people.catalog import ADDRESS_PARTS, FieldSpec, Kind
from tagshare.people.models import Person

ADDRESS_PART_MAX = 120

AddressOut = create_model(  # type: ignore[call-overload]
    "Address",
    __doc__="One address slot; it syncs as a whole (SPEC §2.1).",
    **{part: (str, Field("", title=part)) for part in ADDRESS_PARTS},
)
AddressIn = create_model(  # type: ignore[call-overload]
    "AddressInput",
    __doc__="Parts left out are stored empty; an address with every part empty is blank.",
    __config__=ConfigDict(extra="forbid"),
    **{
        part: (str | None, Field(None, title=part, max_length=ADDRESS_PART_MAX))
        for part in ADDRESS_PARTS
    },
)

_TEXT_FORMATS = {Kind.EMAIL: "email", Kind.URL: "uri", Kind.DATE: "date"}


def _description(spec: FieldSpec) -> str:
    notes = [f"group: {spec.group}", f"sync: {spec.sync.value}"]
    if spec.unique:
        scope = f" together with {', '.join(spec.unique_with)}" if spec.unique_with else ""
        notes.append(f"unique in the nation when not blank{scope}")
    if spec.opt_in_id:
        notes.append("opt-in unique ID")
    return f"{spec.label} ({'; '.join(notes)})."


def _output_type(spec: FieldSpec) -> Any:
    if spec.kind is Kind.ADDRESS:
        return AddressOut
    if spec.kind is Kind.DATE:
        return dt.date | None
    if spec.kind is Kind.BOOL:
        return bool | None
    if spec.kind is Kind.INT:
        return int | None
    if spec.kind is Kind.CHOICE:
        return Literal[("", *spec.choices)] | None
    return str | None


def _input_type(spec: FieldSpec) -> Any:
    if spec.kind is Kind.ADDRESS:
        return AddressIn | None
    if spec.kind is Kind.DATE:
        return dt.date | None
    if spec.kind is Kind.BOOL:
        return bool | None
    if spec.kind is Kind.INT:
        return Annotated[int, Field(ge=spec.min_value, le=spec.max_value)] | None
    if spec.kind is Kind.CHOICE:
        return Literal[spec.choices] | None
    extra: JsonDict | None = (
        {"format": _TEXT_FORMATS[spec.kind]} if spec.kind in _TEXT_FORMATS else None
    )
    return Annotated[str, Field(max_length=spec.max_length, json_schema_extra=extra)] | None


def _catalog_fields(type_for: Any, *, required: bool) -> dict[str, Any]:
    default = ... if required else None
    return {
        spec.name: (
            type_for(spec),
            Field(default, title=spec.label, description=_description(spec)),
        )
        for spec in catalog.FIELDS
    }


PersonOut = create_model(
    "Person",
    __doc__="A profile: every catalog field by name, plus the nation-local fields.",
    id=(int, ...),
    **_catalog_fields(_output_type, required=True),
    tags=(list[str], Field(..., description="Names of the tags on this profile, sorted.")),
    is_supporter=(bool, ...),
    is_prospect=(bool, ...),
    created_at=(dt.datetime, ...),
    updated_at=(dt.datetime, ...),
)

_STATUS_FIELDS: dict[str, Any] = {
    "is_supporter": (
        bool | None,
        Field(None, description="Nation-local, never synced. Support levels 1 and 2 set it."),
    ),
    "is_prospect": (bool | None, Field(None, description="Nation-local, never synced.")),
}

PersonCreateIn = create_model(
    "PersonCreate",
    __doc__="Catalog fields by name; unknown fields are refused (422) with the field named.",
    __config__=ConfigDict(extra="forbid"),
    **_catalog_fields(_input_type, required=False),
    **_STATUS_FIELDS,
    tags=(
        list[str] | None,
        Field(None, description="Tags to put on the new profile (created if new)."),
    ),
)

PersonPatchIn = create_model(
    "PersonPatch",
    __doc__='Only the fields given change; a field set to null or "" is cleared.',
    __config__=ConfigDict(extra="forbid"),
    **_catalog_fields(_input_type, required=False),
    **_STATUS_FIELDS,
)


def person_json(person: Person, tags: list[str]) -> dict[str, Any]:
    """The Person shape, built from the catalog so a new catalog field appears here by itself."""
    data: dict[str, Any] = {"id": person.pk}
    for spec in catalog.FIELDS:
        data[spec.name] = values.to_json(values.read(person, spec.name))
    data["tags"] = sorted(tags)
    data["is_supporter"] = person.is_supporter
    data["is_prospect"] = person.is_prospect
    data["created_at"] = person.created_at
    data["updated_at"] = person.updated_at
    return data


def request_body_doc(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` documenting a body the view reads itself (see module docstring)."""
    schema = _inline_refs(model.model_json_schema())
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def _inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


class ErrorOut(Schema):
    detail: str = Field(description="What is wrong and how to fix it.")
    errors: dict[str, str] | None = Field(None, description="Per field, where useful.")


class PeoplePage(Schema):
    results: list[PersonOut]  # type: ignore[valid-type]
    next: str | None


class PersonMatchOut(Schema):
    person: PersonOut  # type: ignore[valid-type]


class HistoryEntryOut(Schema):
    change_id: int
    field: str
    old: Any
    new: Any
    version: list[int] | None = Field(description="[hybrid-clock timestamp, origin nation id]")
    source: str = Field(description="user, api, import, share or system")
    kind: str = Field(description="create, update, merge or restore")
    actor: str | None = Field(description="Email of the user who made the change, if any.")
    share_id: int | None
    at: dt.datetime


class HistoryPage(Schema):
    results: list[HistoryEntryOut]
    next: str | None


class RestoreIn(Schema):
    field: Text = Field(description="The catalog field to restore.")
    which: Literal["old", "new"] = Field(
        "old", description="Restore the change's old value (default) or its new value."
    )


class TaggingOut(Schema):
    tag: str


class TaggingsPage(Schema):
    results: list[TaggingOut]
    next: str | None


class TagsIn(Schema):
    tags: list[Text] = Field(
        max_length=500, description="Tag names to add; tags are created if new."
    )


class TagOut(Schema):
    name: str
    taggings_count: int
    shared: bool = Field(description="Shared in by another nation, which owns it (SPEC §3).")


class TagsPage(Schema):
    results: list[TagOut]
    next: str | None


class FieldOut(Schema):
    name: str
    label: str
    kind: str
    group: str
    sync: Literal["always", "optional", "never"]
    unique: bool
    unique_with: list[str]
    opt_in_id: bool
    choices: list[str]
    parts: list[str] = Field(description="An address's parts; empty for other kinds.")
    min_value: int | None
    max_value: int | None
    max_length: int | None


class FieldsSummary(Schema):
    total: int
    always_synced: int
    optional: int
    opt_in_ids: int
    never_synced: list[str]


class FieldsOut(Schema):
    results: list[FieldOut]
    next: str | None
    summary: FieldsSummary


def responses(ok: dict[int, Any], *error_codes: int) -> dict[int, Any]:
    """A route's documented answers: its success shape, and the error shape for each error code."""
    return {**ok, **dict.fromkeys((401, *error_codes), ErrorOut)}


PersonPushIn = create_model(
    "PersonPush",
    __doc__=(
        "Catalog fields by name, matched like an import row; null or empty values are ignored "
        "(a push never clears a field)."
    ),
    __config__=ConfigDict(extra="forbid"),
    **_catalog_fields(_input_type, required=False),
    tags=(
        list[str] | None,
        Field(None, description="Tags to add to the matched or created profile."),
    ),
)


class PushOut(Schema):
    person: PersonOut  # type: ignore[valid-type]
    created: bool = Field(description="True when no profile matched and this one was created.")
    rule: str = Field(
        description="The matching rule that found the profile (`voter_guid`, "
        "`unique_id:<field>`, `email`, `heuristic`); empty when created."
    )


class MergeIn(Schema):
    other_id: int = Field(
        description="The profile folded into this one and then deleted (same nation)."
    )


class DuplicateGroupOut(Schema):
    reason: str = Field(description="What the profiles share, e.g. `same name and birthdate`.")
    person_ids: list[int]


class DuplicatesPage(Schema):
    results: list[DuplicateGroupOut]
    next: str | None


class ImportCountsOut(Schema):
    total_rows: int = Field(description="Data rows read from the file (the header excluded).")
    created: int
    updated: int
    unchanged: int
    ambiguous: int = Field(description="Rows that matched several profiles; not imported.")
    rejected: int = Field(description="Rows refused by validation; listed in `errors`.")


class ImportRowErrorOut(Schema):
    row: int = Field(description="Spreadsheet row number: the header is row 1.")
    field: str = Field(description="The catalog field at fault, or empty for the whole row.")
    message: str


class ImportAmbiguousOut(Schema):
    row: int
    reason: str
    candidates: list[int] = Field(description="Ids of the profiles the row could be.")


class ImportJobOut(Schema):
    id: int
    filename: str
    status: Literal["queued", "running", "done", "rejected", "failed"] = Field(
        description="`done`: every valid row imported (rejected and ambiguous rows listed); "
        "`rejected`: the file as a whole could not be read, nothing imported; `failed`: "
        "nothing imported, see `detail`."
    )
    detail: str = Field(description="Why a file was rejected or failed; empty otherwise.")
    overwrite: bool
    tags: list[str] = Field(description="Tags added to every imported row.")
    counts: ImportCountsOut
    errors: list[ImportRowErrorOut] = Field(description="Rejected rows (the first 1000).")
    ambiguous: list[ImportAmbiguousOut] = Field(description="Ambiguous rows (the first 1000).")
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


class ImportsPage(Schema):
    results: list[ImportJobOut]
    next: str | None


# --- shares (SPEC §5, §9.1) -------------------------------------------------------------------

ShareStatusName = Literal["pending", "approved", "denied", "stopped"]
SyncOptionName = Literal["review", "accept_all", "blank_only"]
LinkStateName = Literal["matched", "synced", "not_found", "ambiguous", "ended"]
_OPTIONAL_FIELDS_DOC = (
    "Optional catalog fields that sync too (GET /fields where sync is `optional`); the chosen "
    "opt-in unique IDs also take part in matching. Only with `sync_data`."
)


class ShareCreateIn(Schema):
    model_config = ConfigDict(extra="forbid")

    tag: Text = Field(max_length=255, description="One of this nation's own tags, by name.")
    nations: Text | list[Text] = Field(
        description="Receiving nation slugs, comma-separated (or a list): one share per nation, "
        "all or none are created."
    )
    sync_data: bool = Field(False, description="Whether profile data syncs, not only the tag.")
    optional_fields: list[Text] = Field(
        default_factory=list, max_length=200, description=_OPTIONAL_FIELDS_DOC
    )
    create_profiles: bool = Field(
        False,
        description="Offer to create profiles the receiving nation lacks (only with sync_data).",
    )


class ShareAcceptIn(Schema):
    model_config = ConfigDict(extra="forbid")

    sync_option: SyncOptionName | None = Field(
        None,
        description="Required when the share syncs data, for both nations: `review` (always "
        "review each change), `accept_all` (accept all changes) or `blank_only` (accept only "
        "for blank fields). Leave it out for a tag-only share.",
    )
    create_profiles: bool = Field(
        False, description="Create the profiles this nation lacks; only if the share offers it."
    )
    as_prospects: bool = Field(
        True,
        description="With create_profiles: new profiles are prospects (recommended). Off: their "
        "support status comes from support_level if shared, else from whether they can be "
        "reached.",
    )


class ShareSettingsIn(Schema):
    """The sender's settings; fields left out (or null) keep their current value."""

    model_config = ConfigDict(extra="forbid")

    sync_data: bool | None = None
    optional_fields: list[Text] | None = Field(
        None, max_length=200, description=_OPTIONAL_FIELDS_DOC
    )
    create_profiles: bool | None = None


class ShareCountsOut(Schema):
    matched: int = Field(description="Linked pairs whose initial sync is not done yet.")
    synced: int
    not_found: int = Field(description="Tagged sender profiles with no profile in the receiver.")
    ambiguous: int = Field(description="Several possible profiles (duplicates); never synced.")
    unreviewed: int = Field(description="Review items waiting for the *viewing* nation.")


class ShareJobOut(Schema):
    kind: str
    status: Literal["queued", "running", "done", "failed"]
    phase: str = Field(description="matching, creating profiles, tagging or reconciling.")
    done: int
    total: int
    detail: str = Field(description="Why the job failed; empty otherwise.")
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


class ShareOut(Schema):
    id: int
    direction: Literal["outgoing", "incoming"] = Field(
        description="`outgoing` when the viewing nation sends the share, `incoming` when it "
        "receives it."
    )
    tag: str = Field(description="The sender's tag name.")
    shared_tag: str = Field(description="The tag in the receiving nation, `<sender slug>:<tag>`.")
    sender: str = Field(description="The sending nation's slug.")
    receiver: str = Field(description="The receiving nation's slug.")
    status: ShareStatusName
    sync_data: bool
    optional_fields: list[str]
    always_synced_count: int = Field(description="The fields that always sync with data (37).")
    create_profiles: bool = Field(description="Whether the sender offers to create profiles.")
    sync_option: SyncOptionName | None = Field(
        description="The receiver's choice once accepted (it applies in both nations); null "
        "before, and for a share without data sync."
    )
    accepted_create_profiles: bool | None = Field(description="Null until accepted.")
    as_prospects: bool | None = Field(description="Null until accepted.")
    counts: ShareCountsOut
    taggings_count: int = Field(
        description="How many receiving profiles carry the shared tag (shown to both nations)."
    )
    job: ShareJobOut | None = Field(description="The latest sync job: progress of a long run.")
    requested_at: dt.datetime | None
    decided_at: dt.datetime | None
    stopped_at: dt.datetime | None = Field(description="While stopped: when.")
    stopped_side: Literal["sender", "receiver"] | None = Field(
        description="While stopped: which nation stopped it."
    )


class SharesPage(Schema):
    results: list[ShareOut]
    next: str | None


class SharesCreatedOut(Schema):
    results: list[ShareOut] = Field(description="One share per receiving nation, in input order.")


class ShareLinkOut(Schema):
    sender_person_id: int
    receiver_person_id: int | None = Field(description="Null when not found or ambiguous.")
    state: LinkStateName
    rule: str = Field(
        description="`voter_guid`, `unique_id:<field>`, `email`, `heuristic` or `created`; "
        "empty when not found."
    )
    reason: str = Field(description="Why a pair is ambiguous, or why a field did not sync.")
    candidates: list[int] = Field(description="Receiving profiles an ambiguous pair could be.")


class ShareLinksPage(Schema):
    results: list[ShareLinkOut]
    next: str | None


# --- notifications (SPEC §5.2) ----------------------------------------------------------------


class NotificationOut(Schema):
    id: int
    kind: str = Field(
        description="share.requested, share.accepted, share.rejected or share.stopped."
    )
    message: str
    share: int | None = Field(description="The share it is about (GET /shares/{id}).")
    created_at: dt.datetime
    read_at: dt.datetime | None


class NotificationsPage(Schema):
    results: list[NotificationOut]
    next: str | None


class NotificationsReadIn(Schema):
    model_config = ConfigDict(extra="forbid")

    ids: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] | None = Field(
        None, max_length=1000, description="The notifications to mark read; left out: all of them."
    )


class NotificationsReadOut(Schema):
    marked: int = Field(description="How many unread notifications were marked read.")


# --- reviews (SPEC §6.2) ----------------------------------------------------------------------

ReviewStatusName = Literal["pending", "applied", "skipped", "stale"]
REVIEW_SELECTION_MAX = 1000


class ReviewItemOut(Schema):
    id: int
    share: int = Field(description="The share the proposal came over (GET /shares/{id}).")
    person_id: int = Field(description="This nation's profile the proposal is for.")
    field: str = Field(description="The catalog field (GET /fields).")
    current_value: Any = Field(description="The profile's value now: what applying replaces.")
    proposed_value: Any = Field(description="The other nation's value.")
    proposed_version: list[int] = Field(
        description="[hybrid-clock timestamp, origin nation id] of the proposed value; applying "
        "writes it with this version, so both nations then agree."
    )
    status: ReviewStatusName = Field(description="Always `pending` in the list.")
    proposed_by: str = Field(description="Slug of the nation the proposal came from.")
    created_at: dt.datetime


class ReviewsPage(Schema):
    results: list[ReviewItemOut]
    next: str | None


_ROW_IDS = list[Annotated[int, Field(ge=1, le=2**63 - 1)]] | None


class ReviewsDecideIn(Schema):
    """Exactly one of `ids` or `person_ids`, not empty. Ids that are not this nation's pending
    review items (another nation's, already decided, unknown) are passed over, not refused."""

    model_config = ConfigDict(extra="forbid")

    ids: _ROW_IDS = Field(
        None, max_length=REVIEW_SELECTION_MAX, description="Review item ids (GET /reviews)."
    )
    person_ids: _ROW_IDS = Field(
        None,
        max_length=REVIEW_SELECTION_MAX,
        description="Whole profiles: every pending item of these people of this nation.",
    )


class ReviewsAppliedOut(Schema):
    applied: int = Field(description="Proposals written into this nation's profiles.")
    stale: int = Field(
        description="Proposals no longer newer than the profile's value: dropped, not written."
    )


class ReviewsSkippedOut(Schema):
    skipped: int = Field(description="Proposals discarded; the profiles keep their values.")
