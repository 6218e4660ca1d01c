"""`/fields`: the field catalog (SPEC §2.1) as clients see it, read straight from people.catalog."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from tagshare.api.schemas import FieldsOut, responses
from tagshare.people import catalog
from tagshare.people.catalog import ADDRESS_PARTS, FieldSpec, Kind

router = Router(tags=["fields"])

_SIZED_KINDS = (Kind.TEXT, Kind.LONG_TEXT, Kind.EMAIL, Kind.PHONE, Kind.CHOICE, Kind.URL)


def field_json(spec: FieldSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "label": spec.label,
        "kind": spec.kind.value,
        "group": spec.group,
        "sync": spec.sync.value,
        "unique": spec.unique,
        "unique_with": list(spec.unique_with),
        "opt_in_id": spec.opt_in_id,
        "choices": list(spec.choices),
        "parts": list(ADDRESS_PARTS) if spec.is_address else [],
        "min_value": spec.min_value,
        "max_value": spec.max_value,
        "max_length": spec.max_length if spec.kind in _SIZED_KINDS else None,
    }


@router.get("", response=responses({200: FieldsOut}), summary="The field catalog")
def fields_index(request: HttpRequest) -> dict[str, Any]:
    """Every profile field once: its type, group and whether shares always sync it."""
    return {
        "results": [field_json(spec) for spec in catalog.FIELDS],
        "next": None,
        "summary": {
            "total": len(catalog.FIELDS),
            "always_synced": len(catalog.ALWAYS_SYNCED),
            "optional": len(catalog.OPTIONAL),
            "opt_in_ids": len(catalog.OPT_IN_IDS),
            "never_synced": list(catalog.NEVER_SYNCED),
        },
    }
