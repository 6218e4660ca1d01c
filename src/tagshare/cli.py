"""The `tagshare` console script: Django's management commands under Tagshare's settings."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from importlib import metadata

SETTINGS_MODULE = "tagshare.settings"

# The commands people need day to day; Django's own long list stays behind `help --commands`.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("migrate", "Create or update the database tables."),
    (
        "serve [--host H] [--port P] [--threads N] [--no-worker]",
        "Serve the control panel and API (waitress).",
    ),
    ("demo [--people N] [--no-serve]", "Set up demo nations, users and people, then serve."),
    ("nation create SLUG --name N --plan P [--region US]", "Add a nation."),
    ("nation list", "List nations with their user and people counts."),
    ("user create --nation SLUG --email E --role admin|staff [--password P]", "Add a user."),
    ("token create --nation SLUG --email E [--name N]", "Print a new API token, alone."),
    ("import FILE --nation SLUG [--overwrite] [--tag T]...", "Import people from a CSV file."),
    ("export FILE --nation SLUG [--tag T]", "Export people as CSV ('-' for stdout)."),
    ("duplicates --nation SLUG", "List possible duplicate profiles."),
    ("merge --nation SLUG KEEP OTHER", "Fold profile OTHER into KEEP."),
    ("worker [--until-idle]", "Apply share syncs from the outbox; reconcile daily."),
    ("reconcile [--share ID]", "Reconcile approved shares now."),
    ("outbox failed | outbox retry ID...|--all", "List or retry sync events set aside."),
    ("webhooks list|add URL|remove ID --nation SLUG", "Manage a nation's webhooks."),
)


def usage() -> str:
    lines = [
        "Tagshare: a people database for coalitions that share tags.",
        "",
        "Usage: tagshare <command> [options]",
        "",
        "Commands:",
    ]
    for command, summary in COMMANDS:
        lines += [f"  {command}", f"      {summary}"]
    lines += [
        "",
        "`tagshare <command> --help` explains a command's options.",
        "Every Django management command works too (`tagshare help --commands` lists them).",
        "Settings come from the environment: DATABASE_URL, SECRET_KEY, TAGSHARE_DATA_DIR, DEBUG.",
    ]
    return "\n".join(lines)


def version() -> str:
    try:
        return metadata.version("tagshare")
    except metadata.PackageNotFoundError:
        return "unknown"


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args in (["-h"], ["--help"], ["help"]):
        print(usage())
        return
    if args in (["--version"], ["version"]):
        print(f"tagshare {version()}")
        return
    # setdefault, so a deployment can point at its own settings module built on ours.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)
    _load_settings()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["tagshare", *args])


def _load_settings() -> None:
    """Report a settings problem (say, SECRET_KEY missing in production) in one line."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        settings.INSTALLED_APPS  # noqa: B018 - touching it loads the settings module
    except (ImproperlyConfigured, RuntimeError, ValueError) as exc:
        print(f"Error: cannot load the settings: {exc}", file=sys.stderr)
        sys.exit(1)
