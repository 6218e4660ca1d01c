"""Shared benchmark plumbing: point Django at a throwaway database, measure memory, describe the machine."""

from __future__ import annotations

import os
import platform
import resource
import secrets
import shutil
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse


def add_database_arguments(parser: Any) -> None:
    parser.add_argument("--database-url", default="", help="default: SQLite in a temporary folder")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--allow-wipe", action="store_true", help="wipe a database whose name lacks 'bench'"
    )


def open_fresh_database(args: Any) -> tuple[str, Path] | None:
    """Point Django at the benchmark database and wipe it; None (after saying why) if refused."""
    import atexit
    import shutil
    import tempfile

    data_dir = Path(tempfile.mkdtemp(prefix="tagshare-bench-"))
    # The SQLite database and generated files of a 1M run take gigabytes: gone when it ends.
    atexit.register(shutil.rmtree, data_dir, ignore_errors=True)
    url = args.database_url or f"sqlite:///{data_dir / 'bench.sqlite3'}"
    if not may_wipe(url, args.allow_wipe):
        print(
            f"Refusing to wipe {url}: its name lacks 'bench' (or pass --allow-wipe).",
            file=sys.stderr,
        )
        return None
    setup_django(url, data_dir)
    fresh_database()
    return url, data_dir


def may_wipe(url: str, allowed: bool) -> bool:
    """Only SQLite temp files and databases named for benchmarks are wiped without --allow-wipe."""
    return allowed or url.startswith("sqlite") or "bench" in urlparse(url).path


def setup_django(url: str, data_dir: Path) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["TAGSHARE_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "tagshare.settings"
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ["DEBUG"] = "0"  # no query log growing in memory
    (data_dir / "static").mkdir(parents=True, exist_ok=True)
    import django

    django.setup()


def fresh_database() -> None:
    """Drop everything and migrate: benchmarks start from an empty, current schema."""
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    elif connection.vendor == "sqlite":
        path = Path(connection.settings_dict["NAME"])
        connection.close()
        for file in _sqlite_files(str(path)):
            file.unlink(missing_ok=True)
    call_command("migrate", verbosity=0, interactive=False)


def snapshot_name(url: str, label: str) -> str:
    """Where a benchmark keeps its loaded people: a template database on PostgreSQL
    (<name>_loaded_<label>); on SQLite a file beside the database (<stem>_loaded_<label>.sqlite3)
    — or in the system's temporary folder when the database is the run's own throwaway one."""
    if url.startswith("sqlite"):
        path = Path(urlparse(url).path)
        folder = path.parent
        if folder.name.startswith("tagshare-bench-"):  # open_fresh_database's, removed at exit
            import tempfile

            folder = Path(tempfile.gettempdir())
        return str(folder / f"{path.stem}_loaded_{label}.sqlite3")
    return f"{urlparse(url).path.lstrip('/')}_loaded_{label}"


def _admin_connection(url: str) -> Any:
    import psycopg

    parts = urlparse(url)
    return psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True)


def _sqlite_files(path: str) -> list[Path]:
    return [Path(f"{path}{suffix}") for suffix in ("", "-wal", "-shm")]


def snapshot_restore(url: str, label: str) -> bool:
    """Recreate the benchmark database from its snapshot; False when there is none.

    Loading two million people through the bulk path takes ~10 minutes here; a template copy
    (or, on SQLite, a file copy) takes well under one, so repeated runs of the same size
    measure only what they are about — on the same data, for an A/B of two versions.
    """
    from django.db import connection

    template = snapshot_name(url, label)
    connection.close()
    if url.startswith("sqlite"):
        if not Path(template).exists():
            return False
        database = connection.settings_dict["NAME"]
        for file in _sqlite_files(database):
            file.unlink(missing_ok=True)
        shutil.copyfile(template, database)
        os.sync()  # the copy's writes are not charged to the run that follows
        return True
    name = urlparse(url).path.lstrip("/")
    with _admin_connection(url) as admin:
        found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template]).fetchone()
        if not found:
            return False
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return True


def snapshot_save(url: str, label: str) -> None:
    from django.db import connection

    template = snapshot_name(url, label)
    if url.startswith("sqlite"):
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the file alone is the database
        connection.close()
        shutil.copyfile(connection.settings_dict["NAME"], f"{template}.partial")
        os.replace(f"{template}.partial", template)  # never a half-copied snapshot
        return
    name = urlparse(url).path.lstrip("/")
    connection.close()
    with _admin_connection(url) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{template}"')
        admin.execute(f'CREATE DATABASE "{template}" TEMPLATE "{name}"')


def peak_rss_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def rss_mib() -> float:
    try:
        with open("/proc/self/statm") as handle:
            pages = int(handle.read().split()[1])
        return round(pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)
    except OSError:
        return peak_rss_mib()


def environment() -> dict[str, Any]:
    import django
    from django.db import connection

    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
        else:
            cursor.execute("SELECT sqlite_version()")
        db_version = cursor.fetchone()[0]
    return {
        "python": platform.python_version(),
        "django": django.get_version(),
        "database": f"{connection.vendor} {db_version}",
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
    }


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def accepted_share(
    sender: Any, receiver: Any, admins: tuple[Any, Any], *, tag: str, initial_sync: bool
) -> Any:
    """A data-syncing share of `tag`, accepted with `accept_all` (initial sync run or not)."""
    from tagshare.nations.actors import Actor
    from tagshare.sharing import services

    [share] = services.share_create(
        nation=sender,
        actor=Actor.for_user(admins[0]),
        tag_name=tag,
        nations=receiver.slug,
        sync_data=True,
    )
    services.share_accept(
        nation=receiver,
        actor=Actor.for_user(admins[1]),
        share=share,
        sync_option="accept_all",
        run_initial_sync=initial_sync,
    )
    share.refresh_from_db()
    return share
