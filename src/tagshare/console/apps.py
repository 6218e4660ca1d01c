"""Django app holding the Tagshare management commands (`tagshare <command>`)."""

from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "tagshare.console"
    label = "console"
    verbose_name = "Tagshare command line"
