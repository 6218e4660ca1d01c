"""People (SPEC §2): profiles with every catalog field, their emails index and their history."""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models

from tagshare.jsontext import JSONTextField
from tagshare.nations.models import Nation
from tagshare.people.catalog import FIELDS, UNIQUE_IDS
from tagshare.people.columns import catalog_columns


def _unique_id_constraints() -> list[models.BaseConstraint]:
    constraints: list[models.BaseConstraint] = []
    for spec in FIELDS:
        if spec.name not in UNIQUE_IDS:
            continue
        constraints.append(
            # Partial: most profiles have none of these IDs, and a row a partial index leaves
            # out costs nothing to insert or update — 18 fewer index entries per profile write.
            models.UniqueConstraint(
                fields=["nation", spec.name, *spec.unique_with],
                condition=models.Q(**{f"{spec.name}__isnull": False}),
                name=f"person_{spec.name}_unique",
            )
        )
    return constraints


class Person(models.Model):
    """One profile in one nation. Catalog columns are added from people.catalog below.

    Write through tagshare.people.services only: every write bumps field versions, records
    history and emits an outbox event in the same transaction.
    """

    # No index of its own: every composite index below starts with nation_id.
    nation = models.ForeignKey(
        Nation, on_delete=models.CASCADE, related_name="people", db_index=False
    )
    is_supporter = models.BooleanField(default=False)
    is_prospect = models.BooleanField(default=False)
    # Match keys (SPEC §4), kept by the write path: normalised names and E.164 phones.
    first_key = models.CharField(max_length=255, blank=True, default="")
    last_key = models.CharField(max_length=255, blank=True, default="")
    phone_key = models.CharField(max_length=20, blank=True, default="")
    mobile_key = models.CharField(max_length=20, blank=True, default="")
    work_phone_key = models.CharField(max_length=20, blank=True, default="")
    # Field name -> [hlc timestamp, origin nation id] of the write that set its current value.
    field_versions = JSONTextField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Indexed with the nation (person_updated_idx): `updated_since` is always asked per nation.
    updated_at = models.DateTimeField(auto_now=True)

    if TYPE_CHECKING:
        first_name: str
        last_name: str
        email1: str

        def __getattr__(self, name: str) -> Any: ...

    class Meta:
        ordering = ["id"]
        # Each index is paid for on every insert and every (never HOT: updated_at changes)
        # update, so only indexes a query uses: `updated_since` lists, and the matching keys.
        # Search is by substring and lists go by id; nothing reads people by raw name order.
        indexes = [
            models.Index(fields=["nation", "updated_at"], name="person_updated_idx"),
            models.Index(fields=["nation", "last_key", "first_key"], name="person_name_key_idx"),
        ]
        constraints = _unique_id_constraints()

    def __str__(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.email1 or f"Person {self.pk}"

    @property
    def display_name(self) -> str:
        return str(self)


for _name, _column in catalog_columns().items():
    Person.add_to_class(_name, _column)


class PersonEmail(models.Model):
    """The email index: one row per email of a profile, normalised (trimmed, lower-cased).

    The unique constraint is what enforces "an email is in at most one profile per nation".
    """

    # The two constraints below lead with the nation and the person: their own indexes would
    # only be two more entries to write per email. No database check of the nation either:
    # the row's person is checked, and its nation is the person's (written only by the
    # people services); one check less per email at commit (docs/benchmarks.md). Deleting a
    # nation removes these rows through their person (DO_NOTHING here: no second lookup).
    nation = models.ForeignKey(
        Nation, on_delete=models.DO_NOTHING, db_index=False, db_constraint=False
    )
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="email_index", db_index=False
    )
    slot = models.CharField(max_length=6)
    address = models.CharField(max_length=254)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["nation", "address"], name="email_unique_per_nation"),
            models.UniqueConstraint(fields=["person", "slot"], name="email_slot_unique"),
        ]


class Source(models.TextChoices):
    USER = "user", "Control panel user"
    API = "api", "API"
    IMPORT = "import", "Import"
    SHARE = "share", "Tag share"
    SYSTEM = "system", "System"


class PersonChange(models.Model):
    """One write of a profile: which fields changed, old and new values, and their versions.

    `changes` maps field -> {"old": value, "new": value, "version": [ts, origin nation id]}.
    History per field is read from here; a losing value stays here and can be restored.
    """

    # Never looked up by nation (history is read per person), and always the person's nation:
    # neither an index nor a database check, which every imported profile paid for. Deleting
    # a nation removes these rows through their person: without the index, a lookup by nation
    # would read the whole table, hence DO_NOTHING.
    nation = models.ForeignKey(
        Nation, on_delete=models.DO_NOTHING, db_index=False, db_constraint=False
    )
    # change_person_idx (person, -id) serves every lookup by person. No database check: it ran
    # per history row at commit (a key-share lock on the profile each time; 3.6 s per 412,000
    # rows on PostgreSQL, more than the insert itself), and a profile is deleted through the
    # ORM, which removes its history first; person_delete locks the profile before that, so a
    # writer holding it commits its history before the delete reads it.
    person = models.ForeignKey(
        Person,
        on_delete=models.CASCADE,
        related_name="changes",
        db_index=False,
        db_constraint=False,
    )
    kind = models.CharField(max_length=10, default="update")  # create / update / merge / restore
    source = models.CharField(max_length=10, choices=Source.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    # The share whose sync made this write, and the nation it came from (SPEC §2.3).
    share_id = models.BigIntegerField(null=True, blank=True)
    changes = JSONTextField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["person", "-id"], name="change_person_idx")]

    def entries(self) -> dict[str, dict[str, Any]]:
        """Each changed field's entry — {"old", "new", "version", …} — however it was stored.

        The bulk path stores a creation compactly (`SHARED_VERSION`): the old values are the
        blanks every new profile starts from, and the fields share the write's version, so an
        entry holds its new value and, only when it differs, its own version (a share's copy
        keeps the sender's). That is 45% of the bytes of a million-profile import's history.
        """
        shared = self.changes.get(SHARED_VERSION)
        if shared is None:
            return dict(self.changes)
        return {
            name: {"old": fresh_json(name), "version": list(shared), **entry}
            for name, entry in self.changes.items()
            if name != SHARED_VERSION
        }


# The key, in a compact creation document, of the version its fields share; not a field name
# (catalog names are identifiers), so a field's history found by the text `"name":` is unmoved.
SHARED_VERSION = "*version"


def fresh_json(name: str) -> Any:
    """A field's value on a profile never written, as history records it."""
    if not _FRESH:
        from tagshare.people import values  # values reads Person: imported once models are

        # The columns' defaults, read as a profile's values (no Person is built: see
        # tests/test_architecture.py, people are only made by the services).
        blank = SimpleNamespace(
            **{f.attname: f.get_default() for f in Person._meta.concrete_fields}
        )
        _FRESH.update((f.name, values.to_json(values.read(blank, f.name))) for f in FIELDS)
    blank = _FRESH[name]
    return dict(blank) if isinstance(blank, dict) else blank  # an address: the caller's own


_FRESH: dict[str, Any] = {}
