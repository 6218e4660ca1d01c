"""The field catalog (SPEC §2.1): every profile field, defined once.

Models, API schemas, CSV columns, sync and the control panel's pickers all read this module.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from functools import cache


class Sync(enum.StrEnum):
    ALWAYS = "always"
    OPTIONAL = "optional"
    NEVER = "never"


class Kind(enum.StrEnum):
    TEXT = "text"
    LONG_TEXT = "long_text"
    EMAIL = "email"
    PHONE = "phone"
    DATE = "date"
    BOOL = "bool"
    CHOICE = "choice"
    INT = "int"
    URL = "url"
    ADDRESS = "address"


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: Kind
    group: str
    sync: Sync
    label: str
    # Unique within a nation when not blank (SPEC §2.2); `unique_with` qualifies it.
    unique: bool = False
    unique_with: tuple[str, ...] = ()
    # An opt-in unique ID only takes part in matching when a share (or an import) chooses it.
    opt_in_id: bool = False
    choices: tuple[str, ...] = ()
    min_value: int | None = None
    max_value: int | None = None
    max_length: int = 255
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def is_address(self) -> bool:
        return self.kind is Kind.ADDRESS


ADDRESS_PARTS: tuple[str, ...] = (
    "address1",
    "address2",
    "address3",
    "city",
    "county",
    "state",
    "zip",
    "country_code",
)
ADDRESS_SLOTS: dict[str, str] = {
    "home_address": "home",
    "mailing_address": "mailing",
    "work_address": "work",
    "billing_address": "billing",
    "registered_address": "registered",
}


def address_column(slot: str, part: str) -> str:
    """`home_address` + `city` -> `home_city` (the CSV and database column, SPEC §9.1)."""
    return f"{ADDRESS_SLOTS[slot]}_{part}"


def _f(name: str, kind: Kind, group: str, sync: Sync, label: str = "", **kw: object) -> FieldSpec:
    return FieldSpec(name, kind, group, sync, label or name.replace("_", " ").capitalize(), **kw)  # type: ignore[arg-type]


A, OPT = Sync.ALWAYS, Sync.OPTIONAL

_ALWAYS: tuple[FieldSpec, ...] = (
    # names (6)
    _f("prefix", Kind.TEXT, "names", A, max_length=40),
    _f("first_name", Kind.TEXT, "names", A, "First name"),
    _f("middle_name", Kind.TEXT, "names", A, "Middle name"),
    _f("last_name", Kind.TEXT, "names", A, "Last name"),
    _f("suffix", Kind.TEXT, "names", A, max_length=40),
    _f("legal_name", Kind.TEXT, "names", A, "Legal name"),
    # emails (4)
    _f("email1", Kind.EMAIL, "emails", A, "Email 1"),
    _f("email2", Kind.EMAIL, "emails", A, "Email 2"),
    _f("email3", Kind.EMAIL, "emails", A, "Email 3"),
    _f("email4", Kind.EMAIL, "emails", A, "Email 4"),
    # phones (4)
    _f("phone", Kind.PHONE, "phones", A, "Phone", max_length=40),
    _f("mobile", Kind.PHONE, "phones", A, "Mobile", max_length=40),
    _f("work_phone_number", Kind.PHONE, "phones", A, "Work phone", max_length=40),
    _f("fax_number", Kind.PHONE, "phones", A, "Fax", max_length=40),
    # personal (4)
    _f("birthdate", Kind.DATE, "personal", A, "Birthdate"),
    _f("sex", Kind.CHOICE, "personal", A, "Sex", choices=("M", "F", "O"), max_length=1),
    _f("language", Kind.TEXT, "personal", A, "Language", max_length=40),
    _f("is_deceased", Kind.BOOL, "personal", A, "Deceased"),
    # work (3)
    _f("employer", Kind.TEXT, "work", A),
    _f("occupation", Kind.TEXT, "work", A),
    _f("website", Kind.URL, "work", A, max_length=500),
    # contact preferences (5)
    _f("email_opt_in", Kind.BOOL, "contact preferences", A, "Email opt-in"),
    _f("mobile_opt_in", Kind.BOOL, "contact preferences", A, "Mobile opt-in"),
    _f("do_not_call", Kind.BOOL, "contact preferences", A, "Do not call"),
    _f("do_not_contact", Kind.BOOL, "contact preferences", A, "Do not contact"),
    _f("federal_donotcall", Kind.BOOL, "contact preferences", A, "Federal do-not-call"),
    # addresses (5)
    _f("home_address", Kind.ADDRESS, "addresses", A, "Home address"),
    _f("mailing_address", Kind.ADDRESS, "addresses", A, "Mailing address"),
    _f("work_address", Kind.ADDRESS, "addresses", A, "Work address"),
    _f("billing_address", Kind.ADDRESS, "addresses", A, "Billing address"),
    _f("registered_address", Kind.ADDRESS, "addresses", A, "Registered address"),
    # public identifiers (6)
    _f("nbec_guid", Kind.TEXT, "public identifiers", A, "Voter GUID", unique=True),
    _f("facebook_username", Kind.TEXT, "public identifiers", A, "Facebook username", unique=True),
    _f("twitter_id", Kind.TEXT, "public identifiers", A, "Twitter ID", unique=True),
    _f("twitter_login", Kind.TEXT, "public identifiers", A, "Twitter login", unique=True),
    _f("meetup_id", Kind.TEXT, "public identifiers", A, "Meetup ID", unique=True),
    _f("linkedin_id", Kind.TEXT, "public identifiers", A, "LinkedIn ID", unique=True),
)

_OPTIONAL_PLAIN: tuple[FieldSpec, ...] = (
    _f("support_level", Kind.INT, "support", OPT, "Support level", min_value=1, max_value=5),
    _f("party", Kind.TEXT, "political", OPT, "Party", max_length=40),
    _f("religion", Kind.TEXT, "personal", OPT),
    _f("church", Kind.TEXT, "personal", OPT),
    _f("ethnicity", Kind.TEXT, "personal", OPT),
    _f("marital_status", Kind.TEXT, "personal", OPT, "Marital status", max_length=40),
    _f("note", Kind.LONG_TEXT, "notes", OPT, max_length=10_000),
    _f("bio", Kind.LONG_TEXT, "notes", OPT, max_length=10_000),
    _f("is_volunteer", Kind.BOOL, "support", OPT, "Volunteer"),
    _f("federal_district", Kind.TEXT, "districts", OPT, "Federal district", max_length=40),
    _f("state_upper_district", Kind.TEXT, "districts", OPT, "State upper district", max_length=40),
    _f("state_lower_district", Kind.TEXT, "districts", OPT, "State lower district", max_length=40),
    _f("county_district", Kind.TEXT, "districts", OPT, "County district", max_length=40),
    _f("city_district", Kind.TEXT, "districts", OPT, "City district", max_length=40),
    _f("ward", Kind.TEXT, "districts", OPT, max_length=40),
    _f("precinct", Kind.TEXT, "districts", OPT, max_length=40),
)


def _opt_in_id(name: str, label: str, unique_with: tuple[str, ...] = ()) -> FieldSpec:
    return _f(
        name,
        Kind.TEXT,
        "unique IDs",
        OPT,
        label,
        unique=True,
        opt_in_id=True,
        unique_with=unique_with,
    )


_OPT_IN_IDS: tuple[FieldSpec, ...] = (
    _opt_in_id("civicrm_id", "CiviCRM ID"),
    _opt_in_id("salesforce_id", "Salesforce ID"),
    _opt_in_id("external_id", "External ID"),
    _opt_in_id("county_file_id", "County file ID", ("registered_state", "registered_county")),
    _opt_in_id("datatrust_id", "DataTrust ID"),
    _opt_in_id("dw_id", "DW ID"),
    _opt_in_id("ngp_id", "NGP ID"),
    _opt_in_id("pf_strat_id", "PF Strat ID"),
    _opt_in_id("state_file_id", "State file ID", ("registered_state",)),
    _opt_in_id("rnc_id", "RNC ID"),
    _opt_in_id("rnc_regid", "RNC registration ID"),
    _opt_in_id("van_id", "VAN ID"),
)

FIELDS: tuple[FieldSpec, ...] = _ALWAYS + _OPTIONAL_PLAIN + _OPT_IN_IDS
BY_NAME: dict[str, FieldSpec] = {f.name: f for f in FIELDS}

ALWAYS_SYNCED: tuple[str, ...] = tuple(f.name for f in FIELDS if f.sync is Sync.ALWAYS)
OPTIONAL: tuple[str, ...] = tuple(f.name for f in FIELDS if f.sync is Sync.OPTIONAL)
OPT_IN_IDS: tuple[str, ...] = tuple(f.name for f in _OPT_IN_IDS)
PUBLIC_IDS: tuple[str, ...] = (
    "nbec_guid",
    "facebook_username",
    "twitter_id",
    "twitter_login",
    "meetup_id",
    "linkedin_id",
)
UNIQUE_IDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.unique)
UNIQUE_ID_SET = frozenset(UNIQUE_IDS)  # for a per-row set test: most rows hold none
EMAIL_FIELDS: tuple[str, ...] = ("email1", "email2", "email3", "email4")
PHONE_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.kind is Kind.PHONE)
ADDRESS_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.is_address)
MAX_EMAILS = len(EMAIL_FIELDS)

# Never synced (SPEC §2.1): kept on the profile, but outside the catalog of shareable fields.
NEVER_SYNCED: tuple[str, ...] = (
    "id",
    "is_supporter",
    "is_prospect",
    "created_at",
    "updated_at",
    "tags",
)


@cache
def address_columns(slot: str) -> dict[str, str]:
    """Part name -> column name for one address slot (read-only: the dict is shared)."""
    return {part: address_column(slot, part) for part in ADDRESS_PARTS}


def all_address_columns() -> dict[str, tuple[str, str]]:
    """Column name -> (slot, part) for every address column, e.g. `home_zip`."""
    return {
        address_column(slot, part): (slot, part) for slot in ADDRESS_SLOTS for part in ADDRESS_PARTS
    }


def get(name: str) -> FieldSpec:
    return BY_NAME[name]
