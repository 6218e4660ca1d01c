"""Share settings for the panel: the optional-fields picker, the always-synced list, the form state.

Built from the field catalog so a new field shows up in the picker the day it is catalogued.
Validation stays in sharing.services; this only turns posted checkboxes into its arguments.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict

from tagshare.people import catalog
from tagshare.sharing.models import SyncOption, TagShare
from tagshare.web.person_fields import group_title

ALWAYS_COUNT = len(catalog.ALWAYS_SYNCED)

# The receiver's choices, each with the seed's one-line explanation.
SYNC_OPTION_HELP: dict[str, str] = {
    SyncOption.REVIEW: (
        "When a field already holds data here and the share wants to change it, you review the "
        "change first. Blank fields are always filled with data from the other nation."
    ),
    SyncOption.ACCEPT_ALL: (
        "The initial sync overwrites data here with the sending nation's. After that, the most "
        "recent update is taken as the most accurate, in both nations."
    ),
    SyncOption.BLANK_ONLY: (
        "The initial sync fills only the fields that are blank here. After that, the most recent "
        "update is taken as the most accurate, in both nations."
    ),
}


@dataclass
class FieldChoice:
    name: str
    label: str
    checked: bool = False
    opt_in_id: bool = False


@dataclass
class FieldGroup:
    title: str
    fields: list[FieldChoice]
    # The opt-in unique IDs take part in matching when chosen (SPEC §4 step 2).
    matching: bool = False


def _grouped(names: Iterable[str], chosen: set[str] | None = None) -> list[FieldGroup]:
    wanted = set(names)
    groups: dict[str, FieldGroup] = {}
    for spec in catalog.FIELDS:
        if spec.name not in wanted:
            continue
        group = groups.setdefault(
            spec.group, FieldGroup(group_title(spec.group), [], matching=spec.opt_in_id)
        )
        group.fields.append(
            FieldChoice(
                spec.name,
                spec.label,
                checked=chosen is not None and spec.name in chosen,
                opt_in_id=spec.opt_in_id,
            )
        )
    # Plain optional fields first, the unique IDs (which also change matching) last.
    return sorted(groups.values(), key=lambda g: g.matching)


def optional_field_groups(chosen: Iterable[str] = ()) -> list[FieldGroup]:
    """Every optional field as a checkbox, grouped, the chosen ones ticked."""
    return _grouped(catalog.OPTIONAL, set(chosen))


def always_synced_groups() -> list[FieldGroup]:
    """The fields that always sync when a share syncs data: listed apart, not choosable."""
    return _grouped(catalog.ALWAYS_SYNCED)


def chosen_field_groups(names: Iterable[str]) -> list[FieldGroup]:
    """The optional fields a share syncs, grouped, for reading (the accept and share screens)."""
    return _grouped(names)


@dataclass
class SettingsForm:
    """What the sender typed: kept as posted so an error never loses it."""

    nations: str = ""
    sync_data: bool = False
    optional_fields: list[str] = field(default_factory=list)
    create_profiles: bool = False

    @classmethod
    def from_share(cls, share: TagShare) -> SettingsForm:
        return cls(
            nations=share.receiver.slug,
            sync_data=share.sync_data,
            optional_fields=list(share.optional_fields or []),
            create_profiles=share.create_profiles,
        )

    @classmethod
    def from_post(cls, post: QueryDict) -> SettingsForm:
        return cls(
            nations=post.get("nations", "").strip(),
            sync_data="sync_data" in post,
            optional_fields=[name for name in post.getlist("optional_fields") if name],
            create_profiles="create_profiles" in post,
        )

    @property
    def sends_fields(self) -> list[str]:
        """The optional fields and new profiles are sub-options of syncing data: with it off
        they are not asked for (the form greys them out) rather than refused."""
        return self.optional_fields if self.sync_data else []

    @property
    def offers_profiles(self) -> bool:
        return self.create_profiles and self.sync_data

    def changes(self) -> dict[str, Any]:
        """The settings as share_update takes them."""
        return {
            "sync_data": self.sync_data,
            "optional_fields": self.sends_fields,
            "create_profiles": self.offers_profiles,
        }

    @property
    def field_groups(self) -> list[FieldGroup]:
        return optional_field_groups(self.optional_fields)
