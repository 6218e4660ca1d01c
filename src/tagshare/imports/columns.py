"""CSV columns (SPEC §9.1): catalog names, address parts as `<slot prefix>_<part>`, and aliases.

Import and export both read this module, so an export always imports back.
"""

from __future__ import annotations

import re

from tagshare.people import catalog

TAG_LIST = "tag_list"
# Export writes these two beside the catalog columns; import ignores `id` (it is another
# nation's, or this nation's own, and never a matching key) and reads `tags` like `tag_list`.
EXPORT_EXTRA = ("id", "tags")

# Common spellings people's spreadsheets use, after normalising (lower case, `_` for spaces).
ALIASES: dict[str, str] = {
    "email": "email1",
    "e_mail": "email1",
    "email_address": "email1",
    "email_1": "email1",
    "email_2": "email2",
    "email_3": "email3",
    "email_4": "email4",
    "first": "first_name",
    "firstname": "first_name",
    "given_name": "first_name",
    "last": "last_name",
    "lastname": "last_name",
    "surname": "last_name",
    "family_name": "last_name",
    "middle": "middle_name",
    "dob": "birthdate",
    "date_of_birth": "birthdate",
    "birthday": "birthdate",
    "birth_date": "birthdate",
    "gender": "sex",
    "phone_number": "phone",
    "home_phone": "phone",
    "telephone": "phone",
    "cell": "mobile",
    "cell_phone": "mobile",
    "mobile_phone": "mobile",
    "mobile_number": "mobile",
    "work_phone": "work_phone_number",
    "fax": "fax_number",
    "voter_guid": "nbec_guid",
    "address": "home_address1",
    "address1": "home_address1",
    "address_1": "home_address1",
    "street": "home_address1",
    "address2": "home_address2",
    "address_2": "home_address2",
    "city": "home_city",
    "county": "home_county",
    "state": "home_state",
    "zip": "home_zip",
    "zip_code": "home_zip",
    "zipcode": "home_zip",
    "postal_code": "home_zip",
    "postcode": "home_zip",
    "country": "home_country_code",
    "country_code": "home_country_code",
    "tags": TAG_LIST,
    "tag": TAG_LIST,
}


def export_columns() -> list[str]:
    """Every catalog field in catalog order, address slots spread into their part columns."""
    columns = ["id"]
    for spec in catalog.FIELDS:
        if spec.is_address:
            columns.extend(catalog.address_columns(spec.name).values())
        else:
            columns.append(spec.name)
    columns.append("tags")
    return columns


_ADDRESS_COLUMNS = catalog.all_address_columns()
KNOWN = set(catalog.BY_NAME) - set(catalog.ADDRESS_FIELDS) | set(_ADDRESS_COLUMNS) | {TAG_LIST}


def normalise_header(header: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", header.strip().lower()).strip("_")


def target_of(header: str) -> str | None:
    """The catalog field, address column, `tag_list`, or "id" a header means; None if unknown."""
    key = normalise_header(header)
    if key == "id":
        return "id"
    if key in KNOWN:
        return key
    return ALIASES.get(key)


def address_part(column: str) -> tuple[str, str] | None:
    """`home_city` -> ("home_address", "city")."""
    return _ADDRESS_COLUMNS.get(column)
