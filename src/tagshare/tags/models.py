"""Tags and taggings (SPEC §3)."""

from __future__ import annotations

from django.db import models

from tagshare.nations.models import Nation
from tagshare.people.models import Person


class Tag(models.Model):
    nation = models.ForeignKey(Nation, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=255)
    # A shared-in tag (`<sender slug>:<tag>`) is owned by the sending nation: only the share
    # may put it on or take it off a profile, rename or delete it (SPEC §3).
    shared_from = models.ForeignKey(
        Nation, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    source_tag = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="shared_copies"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["nation", "name"], name="tag_name_unique_per_nation")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_shared_in(self) -> bool:
        return self.shared_from_id is not None


class Tagging(models.Model):
    # No index of their own: tagging_unique leads with the tag, tagging_person_idx is the person's.
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="taggings", db_index=False)
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="taggings", db_index=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tag", "person"], name="tagging_unique"),
        ]
        indexes = [models.Index(fields=["person"], name="tagging_person_idx")]
