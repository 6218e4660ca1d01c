"""Database columns for the catalog's fields: one place turns a FieldSpec into model fields."""

from __future__ import annotations

from django.db import models

from tagshare.people.catalog import FIELDS, FieldSpec, Kind, address_columns


def columns_for(spec: FieldSpec) -> dict[str, models.Field]:
    """The column(s) storing one catalog field. An address slot has one column per part."""
    if spec.kind is Kind.ADDRESS:
        return {
            column: models.CharField(max_length=120, blank=True, default="")
            for column in address_columns(spec.name).values()
        }
    field: models.Field
    if spec.kind is Kind.DATE:
        field = models.DateField(null=True, blank=True)
    elif spec.kind is Kind.BOOL:
        field = models.BooleanField(null=True, blank=True)
    elif spec.kind is Kind.INT:
        field = models.SmallIntegerField(null=True, blank=True)
    elif spec.kind is Kind.LONG_TEXT:
        field = models.TextField(blank=True, default="")
    elif spec.unique:
        # Blank unique IDs are NULL so the per-nation unique constraints ignore them.
        field = models.CharField(max_length=spec.max_length, null=True, blank=True)
    else:
        field = models.CharField(max_length=spec.max_length, blank=True, default="")
    return {spec.name: field}


def catalog_columns() -> dict[str, models.Field]:
    out: dict[str, models.Field] = {}
    for spec in FIELDS:
        out.update(columns_for(spec))
    return out
