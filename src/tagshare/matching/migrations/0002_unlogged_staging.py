"""Staging tables are scratch space: on PostgreSQL they skip the write-ahead log.

A match run stages, decides and discards its rows inside one transaction. A crash loses an
UNLOGGED table's contents, which here is nothing a run could still want; what it saves is
writing every staged row twice (table and log) — a million rows per side of a big share.
"""

from django.db import migrations

TABLES = (
    "matching_matchincoming",
    "matching_matchincomingemail",
    "matching_matchcandidate",
    "matching_matchresult",
)


def set_logging(mode: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for table in TABLES:
            schema_editor.execute(f"ALTER TABLE {table} SET {mode}")

    return run


class Migration(migrations.Migration):
    dependencies = [("matching", "0001_initial")]

    operations = [migrations.RunPython(set_logging("UNLOGGED"), set_logging("LOGGED"))]
