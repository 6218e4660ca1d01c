"""The field catalog is the single definition of profile fields (SPEC §2.1)."""

from tagshare.people import catalog
from tagshare.people.models import Person

EXPECTED_ALWAYS = {
    "names": ["prefix", "first_name", "middle_name", "last_name", "suffix", "legal_name"],
    "emails": ["email1", "email2", "email3", "email4"],
    "phones": ["phone", "mobile", "work_phone_number", "fax_number"],
    "personal": ["birthdate", "sex", "language", "is_deceased"],
    "work": ["employer", "occupation", "website"],
    "contact preferences": [
        "email_opt_in",
        "mobile_opt_in",
        "do_not_call",
        "do_not_contact",
        "federal_donotcall",
    ],
    "addresses": [
        "home_address",
        "mailing_address",
        "work_address",
        "billing_address",
        "registered_address",
    ],
    "public identifiers": [
        "nbec_guid",
        "facebook_username",
        "twitter_id",
        "twitter_login",
        "meetup_id",
        "linkedin_id",
    ],
}
EXPECTED_OPT_IN_IDS = [
    "civicrm_id",
    "salesforce_id",
    "external_id",
    "county_file_id",
    "datatrust_id",
    "dw_id",
    "ngp_id",
    "pf_strat_id",
    "state_file_id",
    "rnc_id",
    "rnc_regid",
    "van_id",
]
EXPECTED_OPTIONAL_PLAIN = [
    "support_level",
    "party",
    "religion",
    "church",
    "ethnicity",
    "marital_status",
    "note",
    "bio",
    "is_volunteer",
    "federal_district",
    "state_upper_district",
    "state_lower_district",
    "county_district",
    "city_district",
    "ward",
    "precinct",
]


def test_exactly_37_always_synced_fields_in_their_groups():
    assert len(catalog.ALWAYS_SYNCED) == 37
    by_group: dict[str, list[str]] = {}
    for spec in catalog.FIELDS:
        if spec.sync is catalog.Sync.ALWAYS:
            by_group.setdefault(spec.group, []).append(spec.name)
    assert by_group == EXPECTED_ALWAYS


def test_optional_fields_are_the_plain_ones_plus_twelve_opt_in_ids():
    assert list(catalog.OPT_IN_IDS) == EXPECTED_OPT_IN_IDS
    assert len(catalog.OPT_IN_IDS) == 12
    assert list(catalog.OPTIONAL) == EXPECTED_OPTIONAL_PLAIN + EXPECTED_OPT_IN_IDS


def test_never_synced_fields_are_not_in_the_catalog():
    for name in ("id", "is_supporter", "is_prospect", "created_at", "updated_at", "tags"):
        assert name not in catalog.BY_NAME
        assert name in catalog.NEVER_SYNCED


def test_unique_ids_are_the_public_identifiers_and_the_opt_in_ids():
    assert set(catalog.UNIQUE_IDS) == set(catalog.PUBLIC_IDS) | set(EXPECTED_OPT_IN_IDS)
    assert catalog.get("state_file_id").unique_with == ("registered_state",)
    assert catalog.get("county_file_id").unique_with == ("registered_state", "registered_county")


def test_every_catalog_field_is_stored_on_person():
    columns = {f.name for f in Person._meta.concrete_fields}
    for spec in catalog.FIELDS:
        if spec.is_address:
            for part in catalog.ADDRESS_PARTS:
                assert catalog.address_column(spec.name, part) in columns
        else:
            assert spec.name in columns, spec.name
    assert catalog.address_column("home_address", "address1") == "home_address1"
    assert catalog.address_column("registered_address", "country_code") == "registered_country_code"
