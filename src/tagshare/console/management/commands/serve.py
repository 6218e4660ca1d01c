"""`tagshare serve`: the control panel and API behind waitress, a production-grade WSGI server.

It refuses to start on a database with unapplied migrations rather than migrating by itself:
with several servers starting at once, schema changes belong to one deliberate `tagshare migrate`.
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from django.db import connections
from rich.console import Console

from tagshare.console.base import TagshareCommand, unapplied_migrations

ALL_INTERFACES = {"0.0.0.0", "::", ""}


class Command(TagshareCommand):
    help = "Serve the control panel and the REST API with waitress (static files by WhiteNoise)."

    def add_arguments(self, parser: CommandParser) -> None:
        add_server_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        pending = unapplied_migrations()
        if pending:
            shown = pending[0] if len(pending) == 1 else f"{pending[0]}, …"
            raise CommandError(
                f"The database has {len(pending)} unapplied migration(s) ({shown}). "
                "Run `tagshare migrate` first."
            )
        server, urls = open_server(
            host=options["host"], port=options["port"], threads=options["threads"]
        )
        run_server(
            server,
            urls,
            console=self.console(),
            all_interfaces=options["host"] in ALL_INTERFACES,
            embedded_worker=not options["no_worker"],
        )


def open_server(*, host: str, port: int, threads: int) -> tuple[Any, list[str]]:
    """Bind the listening socket(s); return the server and the URLs it answers on."""
    # collectstatic's target; WhiteNoise warns at start-up when it does not exist.
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    from waitress import create_server

    from tagshare.wsgi import application

    # Request threads open their own connections; don't hold this one for the server's life.
    connections.close_all()
    try:
        server = create_server(application, host=host, port=port, threads=threads, ident="tagshare")
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise CommandError(f"Cannot listen on {host}:{port}: {reason}") from exc
    listening = getattr(server, "effective_listen", None) or [
        (server.effective_host, server.effective_port)
    ]
    return server, [url_for(bound_host, bound_port) for bound_host, bound_port in listening]


def start_embedded_worker() -> None:
    """The embedded default: drain the outbox and reconcile daily in this process's threads."""
    from tagshare.console.management.commands.worker import run_with_daily_reconciliation
    from tagshare.outbox.drain import Worker

    worker = Worker()
    threading.Thread(
        target=run_with_daily_reconciliation, args=(worker,), name="tagshare-worker", daemon=True
    ).start()


def run_server(
    server: Any,
    urls: list[str],
    *,
    console: Console,
    all_interfaces: bool,
    embedded_worker: bool = True,
) -> None:
    note = " (all interfaces)" if all_interfaces else ""
    for url in urls:
        console.print(f"Tagshare is serving on [bold]{url}[/bold]{note}")
    if embedded_worker:
        start_embedded_worker()
        console.print("An in-process worker applies share syncs and the daily reconciliation.")
    if not settings.CELERY_BROKER_URL:
        # The control panel's imports run in this process: those a previous run left queued
        # (or cut off mid-import) start now.
        from tagshare.imports.runner import embedded_runner

        embedded_runner.wake()
    console.print("Press Ctrl-C to stop.")
    console.file.flush()
    if threading.current_thread() is threading.main_thread():
        # `docker stop` and systemd send SIGTERM: finish in-flight requests like on Ctrl-C.
        signal.signal(signal.SIGTERM, _exit_quietly)
    server.run()


def add_server_arguments(parser: CommandParser) -> None:
    parser.add_argument(
        "--no-worker",
        action="store_true",
        help="don't drain the outbox in this process (run `tagshare worker` or Celery instead)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (8000)")
    parser.add_argument("--threads", type=int, default=8, help="request threads (8)")


def url_for(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def _exit_quietly(signum: int, frame: Any) -> None:
    sys.exit(0)
