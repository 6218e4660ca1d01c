"""`tagshare reconcile [--share ID]`: reconcile shares now (SPEC §7), whatever the last run."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from tagshare.console.base import TagshareCommand
from tagshare.sharing.models import ShareStatus, TagShare
from tagshare.sharing.reconcile import reconcile_due, share_reconcile
from tagshare.sharing.selectors import share_counts


class Command(TagshareCommand):
    help = "Reconcile approved shares now: match new and not-found profiles, repair drift."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--share", type=int, help="only this share (default: every approved share)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        console = self.console()
        if options["share"] is None:
            console.print(f"Reconciled {reconcile_due(force=True)} shares.")
            return
        share = TagShare.objects.filter(pk=options["share"], status=ShareStatus.APPROVED).first()
        if share is None:
            raise CommandError(f"No approved share with id {options['share']}.")
        share_reconcile(share)
        console.print(f"Reconciled share {share.pk}: {share_counts(share)}")
