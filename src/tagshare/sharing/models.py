"""Tag shares (SPEC §5–§7): the share, its links between profiles, review items, notifications, jobs."""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.db import models
from django.utils.functional import cached_property

from tagshare.nations.models import Nation
from tagshare.people.models import Person
from tagshare.tags.models import Tag


class ShareStatus(models.TextChoices):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    STOPPED = "stopped"


ACTIVE_STATUSES = (ShareStatus.PENDING, ShareStatus.APPROVED)


class SyncOption(models.TextChoices):
    REVIEW = "review", "Always review each change"
    ACCEPT_ALL = "accept_all", "Accept all changes"
    BLANK_ONLY = "blank_only", "Accept only for blank fields"


class Side(models.TextChoices):
    SENDER = "sender"
    RECEIVER = "receiver"


class TagShare(models.Model):
    sender = models.ForeignKey(Nation, on_delete=models.CASCADE, related_name="outgoing_shares")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="shares")
    receiver = models.ForeignKey(Nation, on_delete=models.CASCADE, related_name="incoming_shares")
    status = models.CharField(
        max_length=10, choices=ShareStatus.choices, default=ShareStatus.PENDING
    )
    # The sender's settings (changed only while stopped, so the receiver approves what it gets).
    sync_data = models.BooleanField(default=False)
    optional_fields = models.JSONField(default=list, blank=True)
    create_profiles = models.BooleanField(default=False)
    # The receiver's choices, made when it accepts; they apply in both nations.
    sync_option = models.CharField(
        max_length=12, choices=SyncOption.choices, blank=True, default=""
    )
    accepted_create_profiles = models.BooleanField(default=False)
    as_prospects = models.BooleanField(default=True)
    # The `<sender slug>:<tag>` tag in the receiving nation, owned by this share.
    receiver_tag = models.ForeignKey(
        Tag, on_delete=models.SET_NULL, null=True, blank=True, related_name="owning_shares"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    stopped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    stopped_at = models.DateTimeField(null=True, blank=True)
    stopped_side = models.CharField(max_length=10, choices=Side.choices, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tag", "receiver"],
                condition=models.Q(status__in=["pending", "approved"]),
                name="one_active_share_per_tag_and_receiver",
            )
        ]

    def __str__(self) -> str:
        return f"{self.shared_tag_name} → {self.receiver.slug} ({self.status})"

    @property
    def shared_tag_name(self) -> str:
        return f"{self.sender.slug}:{self.tag.name}"

    @property
    def opt_in_ids(self) -> list[str]:
        from tagshare.people.catalog import OPT_IN_IDS

        return [name for name in OPT_IN_IDS if name in (self.optional_fields or [])]

    @property
    def synced_fields(self) -> list[str]:
        """The 37 always-synced fields plus the chosen optional ones, in catalog order."""
        from tagshare.people.catalog import FIELDS, Sync

        if not self.sync_data:
            return []
        chosen = set(self.optional_fields or [])
        return [f.name for f in FIELDS if f.sync is Sync.ALWAYS or f.name in chosen]

    @cached_property
    def synced_field_set(self) -> frozenset[str]:
        return frozenset(self.synced_fields)


class LinkState(models.TextChoices):
    MATCHED = "matched"  # linked, initial sync not yet done
    SYNCED = "synced"
    NOT_FOUND = "not_found"
    AMBIGUOUS = "ambiguous"
    ENDED = "ended"


LINKED_STATES = (LinkState.MATCHED, LinkState.SYNCED)


# A link's reason column: link_reason fits its notes into it.
REASON_LENGTH = 255


def link_reason(notes: Sequence[str], limit: int = REASON_LENGTH) -> str:
    """A link's notes as its `reason` (at most `limit` characters): whole notes, then how many
    more there are. Never a note cut short — "belongs to person 11" cut from "person 115"
    would name another profile. Only a first note longer than the limit itself is cut, and
    ends in "…" to say so."""
    text = ""
    for at, note in enumerate(notes):
        joined = f"{text}; {note}" if text else note
        left = len(notes) - at - 1
        more = f"; and {left} more" if left else ""
        if len(joined) + len(more) <= limit:
            text = joined
            continue
        if not text:
            return note[: limit - 1] + "…"
        return f"{text}; and {len(notes) - at} more"
    return text


class ShareLink(models.Model):
    """One sender profile carrying the shared tag, and what it is in the receiving nation."""

    # Indexes are chosen below: every foreign key's own index would duplicate one of them, and
    # each index is paid for by every one of the million link rows an initial sync writes.
    share = models.ForeignKey(
        TagShare,
        on_delete=models.CASCADE,
        related_name="links",
        db_index=False,
        db_constraint=False,
    )
    # Neither the share nor the two profiles have a database constraint: writing a million
    # links, PostgreSQL's check per row (a key-share lock on each row referred to, queued to the
    # commit) took longer than the cascade itself, and the share's alone made that commit 2.6 s.
    # Links are written only for a share being synced; a share goes only with its nation. Profiles are deleted only through the ORM (person_delete, merge),
    # whose on_delete below deletes or detaches the links; tests cover both sides.
    # Indexed by one_link_per_sender_person, which leads with it.
    sender_person = models.ForeignKey(
        Person,
        on_delete=models.CASCADE,
        related_name="outgoing_links",
        db_index=False,
        db_constraint=False,
    )
    receiver_person = models.ForeignKey(
        Person,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="incoming_links",
        db_index=False,
        db_constraint=False,
    )
    state = models.CharField(max_length=10, choices=LinkState.choices)
    rule = models.CharField(max_length=40, blank=True, default="")
    reason = models.CharField(max_length=REASON_LENGTH, blank=True, default="")
    candidates = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            # Sender profile first: it is also the index for "the links of this profile" (a
            # deletion, a merge), which was a fifth index on every link written.
            models.UniqueConstraint(
                fields=["sender_person", "share"], name="one_link_per_sender_person"
            )
        ]
        indexes = [
            # With the id last, "the next batch of matched links" is a range read of the index,
            # not a sort of every link still in that state.
            models.Index(fields=["share", "state", "id"], name="link_share_state_idx"),
            # Only links with a receiving profile: a big share's not-found and ambiguous links
            # (over half of them) have none, and nothing looks a link up by a missing profile
            # except the orphan check below.
            models.Index(
                fields=["receiver_person"],
                name="link_receiver_idx",
                condition=models.Q(receiver_person__isnull=False),
            ),
            # Live links that lost their receiving profile (on_person_deleted, across shares):
            # rare and short-lived, so a near-empty index rather than a read of every link.
            models.Index(
                fields=["id"],
                name="link_orphaned_idx",
                condition=models.Q(receiver_person__isnull=True, state__in=LINKED_STATES),
            ),
        ]


class ReviewStatus(models.TextChoices):
    PENDING = "pending"
    APPLIED = "applied"
    SKIPPED = "skipped"
    STALE = "stale"  # replaced by a newer proposal, or no longer newer than the target's value


class ReviewItem(models.Model):
    """A proposed change to one field of one profile, waiting for that profile's nation (§6.2)."""

    share = models.ForeignKey(TagShare, on_delete=models.CASCADE, related_name="review_items")
    nation = models.ForeignKey(Nation, on_delete=models.CASCADE, related_name="review_items")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="review_items")
    field = models.CharField(max_length=40)
    current_value = models.JSONField(null=True, blank=True)
    proposed_value = models.JSONField(null=True, blank=True)
    proposed_version = models.JSONField()
    # The target's version of the field when the item was queued. An initial sync proposes each
    # side the other's value, so one side's proposal is older than its own value: it may still be
    # applied (with a fresh version) as long as the target has not been written since.
    base_version = models.JSONField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.PENDING
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "field"],
                condition=models.Q(status="pending"),
                name="one_pending_review_per_field",
            )
        ]
        indexes = [
            models.Index(fields=["share", "nation", "status"], name="review_share_idx"),
            # The control panel counts a nation's pending items on every admin page.
            models.Index(fields=["nation", "status"], name="review_nation_idx"),
        ]


class Notification(models.Model):
    """Shown to a nation's admins: the control panel banner and GET /notifications (SPEC §5.2)."""

    nation = models.ForeignKey(Nation, on_delete=models.CASCADE, related_name="notifications")
    share = models.ForeignKey(
        TagShare, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=40)
    message = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]


class JobStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ShareSyncJob(models.Model):
    """An initial sync (or a reconciliation) of one share: the row both nations watch."""

    share = models.ForeignKey(TagShare, on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField(max_length=12, default="initial")
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    phase = models.CharField(max_length=40, blank=True, default="")
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    detail = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
