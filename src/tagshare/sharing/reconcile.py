"""Reconciliation (SPEC §7): at least daily and on demand, per share.

It matches tagged profiles still not found, recreates deleted ones where the share creates
profiles, re-checks ambiguous ones, and repairs drift a missed event could leave (a link whose
sender profile lost the tag, a shared tag on a profile with no live link). It never re-decides
values that differed before the share began: only newly linked pairs are reconciled.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from tagshare.nations.actors import Actor
from tagshare.people.models import Person
from tagshare.sharing.initial_sync import (
    create_missing,
    match_and_link,
    reconcile_matched,
    tag_linked,
)
from tagshare.sharing.models import (
    LINKED_STATES,
    JobStatus,
    ShareLink,
    ShareStatus,
    ShareSyncJob,
    TagShare,
)
from tagshare.sharing.webhook_events import end_links
from tagshare.tags.models import Tagging

DAILY = dt.timedelta(hours=24)


def share_reconcile(share: TagShare, *, timings: dict[str, float] | None = None) -> ShareSyncJob:
    """Run every repair step; `timings` (if given) receives each step's seconds."""
    job = ShareSyncJob.objects.create(
        share=share, kind="reconcile", status=JobStatus.RUNNING, started_at=timezone.now()
    )
    steps: list[tuple[str, Callable[[], object]]] = [
        ("drift", lambda: _repair_drift(share)),
        ("matching", lambda: match_and_link(share)),
    ]
    if share.sync_data and share.accepted_create_profiles:
        steps.append(("creating", lambda: create_missing(share)))
    steps.append(("tagging", lambda: tag_linked(share)))
    if share.sync_data:
        steps.append(("reconciling", lambda: reconcile_matched(share)))
    try:
        for name, step in steps:
            started = time.perf_counter()
            step()
            if timings is not None:
                timings[name] = time.perf_counter() - started
    except Exception as exc:
        ShareSyncJob.objects.filter(pk=job.pk).update(
            status=JobStatus.FAILED, detail=str(exc)[:2000], finished_at=timezone.now()
        )
        raise
    ShareSyncJob.objects.filter(pk=job.pk).update(status=JobStatus.DONE, finished_at=timezone.now())
    job.refresh_from_db()
    return job


def _repair_drift(share: TagShare) -> None:
    with transaction.atomic():
        # NOT EXISTS, not NOT IN: PostgreSQL turns it into an anti-join, where NOT IN over a
        # million-row subquery that outgrows work_mem is re-scanned for every link.
        tagged = Tagging.objects.filter(tag_id=share.tag_id, person_id=OuterRef("sender_person_id"))
        lost = ShareLink.objects.filter(share=share, state__in=LINKED_STATES).filter(
            ~Exists(tagged)
        )
        lost_receivers = list(
            lost.exclude(receiver_person__isnull=True).values_list("receiver_person_id", flat=True)
        )
        end_links(lost, reason="tag_removed", updated_at=timezone.now())
        # Links have no database constraint on their profiles: one deleted while the share was
        # matching can leave a link naming it. Such a link ends (and goes, for a sender's).
        gone_sender = ShareLink.objects.filter(share=share).filter(
            ~Exists(Person.objects.filter(pk=OuterRef("sender_person_id")))
        )
        end_links(gone_sender, reason="profile_deleted", updated_at=timezone.now())
        gone_sender.delete()
        gone_receiver = ShareLink.objects.filter(share=share, receiver_person__isnull=False).filter(
            ~Exists(Person.objects.filter(pk=OuterRef("receiver_person_id")))
        )
        end_links(
            gone_receiver, reason="profile_deleted", receiver_person=None, updated_at=timezone.now()
        )
        # A live link whose receiving profile is gone (merged away, or deleted while no worker
        # ran) ends; the sender's profile is then matched again below.
        orphaned = ShareLink.objects.filter(
            share=share, state__in=LINKED_STATES, receiver_person__isnull=True
        )
        end_links(orphaned, reason="profile_deleted", updated_at=timezone.now())
        if share.receiver_tag_id is None:
            return
        live = ShareLink.objects.filter(
            share=share, state__in=LINKED_STATES, receiver_person_id=OuterRef("person_id")
        )
        stray = Tagging.objects.filter(tag_id=share.receiver_tag_id).filter(~Exists(live))
        if lost_receivers or stray.exists():
            from tagshare.tags.services import tag_remove

            for tagging in stray.select_related("person"):
                tag_remove(
                    nation=share.receiver,
                    actor=Actor.share(share.pk),
                    person=tagging.person,
                    name=share.shared_tag_name,
                )


def reconcile_due(*, now: dt.datetime | None = None, force: bool = False) -> int:
    """Reconcile every approved share not reconciled in the last day (all of them with `force`)."""
    now = now or timezone.now()
    done = 0
    for share in TagShare.objects.filter(status=ShareStatus.APPROVED).select_related(
        "sender", "receiver", "tag", "receiver_tag"
    ):
        last = (
            ShareSyncJob.objects.filter(share=share, status=JobStatus.DONE)
            .order_by("-finished_at")
            .first()
        )
        if force or last is None or last.finished_at is None or now - last.finished_at >= DAILY:
            share_reconcile(share)
            done += 1
    return done
