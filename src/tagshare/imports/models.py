"""Import jobs (SPEC §8): the row a user watches while a CSV file is imported (ARCHITECTURE rule 4)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tagshare.nations.models import Nation


class ImportStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"  # every valid row imported; rejected and ambiguous rows are listed
    REJECTED = "rejected"  # the file as a whole could not be read; nothing imported
    FAILED = "failed"  # an unexpected error; nothing imported


class ImportJob(models.Model):
    nation = models.ForeignKey(Nation, on_delete=models.CASCADE, related_name="imports")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    filename = models.CharField(max_length=255)
    path = models.CharField(max_length=500, help_text="Where the uploaded file is kept.")
    overwrite = models.BooleanField(default=False)
    # Queued for the background runner (the control panel's imports) rather than run by the
    # caller (the command line, the API): only such jobs are picked up, or resumed after a restart.
    background = models.BooleanField(default=False)
    tags = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    phase = models.CharField(max_length=40, blank=True, default="")
    detail = models.TextField(blank=True, default="")
    total_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    ambiguous_count = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    # [{"row": n, "field": name or "", "message": text}], capped; rejected_count is the full count.
    errors = models.JSONField(default=list, blank=True)
    # [{"row": n, "reason": text, "candidates": [person ids]}], capped like errors.
    ambiguous = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"Import {self.pk} of {self.filename} ({self.status})"
