"""`tagshare worker [--until-idle]`: drain the outbox (the ongoing sync) and run the daily reconciliation."""

from __future__ import annotations

import signal
from typing import Any

from django.core.management.base import CommandError, CommandParser

from tagshare.console.base import TagshareCommand
from tagshare.outbox.drain import DrainFailed, Worker, run_ticks
from tagshare.sharing.reconcile import reconcile_due


class Command(TagshareCommand):
    help = "Run a background worker: apply change events over share links, reconcile daily."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--until-idle", action="store_true", help="drain what is pending, then exit"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        worker = Worker()
        if options["until_idle"]:
            try:
                processed = worker.run(until_idle=True)
            except DrainFailed as exc:
                raise CommandError(str(exc)) from exc
            reconciled = reconcile_due()
            run_ticks()  # what reconciling queued (webhook deliveries) goes out before exiting
            self.console().print(f"Processed {processed} events; reconciled {reconciled} shares.")
            return
        signal.signal(signal.SIGTERM, lambda *_: worker.stop())
        self.console().print("Worker running (Ctrl-C to stop).")
        run_with_daily_reconciliation(worker)


def run_with_daily_reconciliation(worker: Worker) -> None:
    import threading

    stop = threading.Event()

    def daily() -> None:
        while not stop.wait(300):  # checks every five minutes; each share at most once a day
            try:
                reconcile_due()
            except Exception:  # logged; the next check tries again
                import logging

                logging.getLogger(__name__).exception("reconciliation failed")

    threading.Thread(target=daily, name="tagshare-reconcile", daemon=True).start()
    try:
        worker.run()
    except KeyboardInterrupt:
        worker.stop()
    finally:
        stop.set()
