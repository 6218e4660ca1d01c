"""Staging tables for set-based matching (SPEC §4).

A MatchRun holds a batch of incoming profiles (import rows or a sender's tagged profiles) as
normalised keys; the cascade resolves them all with a fixed number of SQL statements per step and
leaves one MatchResult per incoming profile. Rows of a finished run are deleted by its owner.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from tagshare.nations.models import Nation
from tagshare.people.catalog import UNIQUE_IDS


class MatchRun(models.Model):
    nation = models.ForeignKey(Nation, on_delete=models.CASCADE, related_name="+")
    # The unique IDs that take part (public identifiers plus the opt-in IDs in play).
    id_fields = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)


def _run_key() -> Any:
    """A staging row's run. No database constraint and no index of its own: every staging
    table has an index leading with the run, and a foreign-key check per staged row (queued
    to the commit on PostgreSQL) made that commit the slowest step of matching a million
    profiles. Rows go with their run through `engine.run_discard`."""
    return models.ForeignKey(
        MatchRun, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )


class MatchIncoming(models.Model):
    """One incoming profile's keys. `ref` is the caller's handle: a sender person id or a row number."""

    run = _run_key()
    seq = models.BigIntegerField()
    ref = models.BigIntegerField()
    first_key = models.CharField(max_length=255, blank=True, default="")
    last_key = models.CharField(max_length=255, blank=True, default="")
    birthdate = models.DateField(null=True)
    phone_key = models.CharField(max_length=20, blank=True, default="")
    mobile_key = models.CharField(max_length=20, blank=True, default="")
    work_phone_key = models.CharField(max_length=20, blank=True, default="")
    registered_state = models.CharField(max_length=120, blank=True, default="")
    registered_county = models.CharField(max_length=120, blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "seq"], name="match_incoming_seq")]


for _name in UNIQUE_IDS:
    MatchIncoming.add_to_class(_name, models.CharField(max_length=255, null=True, blank=True))


class MatchIncomingEmail(models.Model):
    run = _run_key()
    seq = models.BigIntegerField()
    address = models.CharField(max_length=254)

    class Meta:
        indexes = [models.Index(fields=["run", "seq"], name="match_email_seq_idx")]


class MatchCandidate(models.Model):
    """A profile one cascade step found for an incoming profile."""

    run = _run_key()
    seq = models.BigIntegerField()
    step = models.SmallIntegerField()
    person_id = models.BigIntegerField()
    rule = models.CharField(max_length=40)

    class Meta:
        indexes = [models.Index(fields=["run", "step", "seq"], name="match_candidate_idx")]


class MatchStatus(models.TextChoices):
    MATCHED = "matched"
    AMBIGUOUS = "ambiguous"
    NOT_FOUND = "not_found"


class MatchResult(models.Model):
    run = _run_key()
    seq = models.BigIntegerField()
    status = models.CharField(max_length=10, choices=MatchStatus.choices)
    person_id = models.BigIntegerField(null=True)
    rule = models.CharField(max_length=40, blank=True, default="")
    step = models.SmallIntegerField(null=True)
    reason = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "seq"], name="match_result_seq")]
        indexes = [
            models.Index(fields=["run", "status", "person_id"], name="match_result_person_idx")
        ]
