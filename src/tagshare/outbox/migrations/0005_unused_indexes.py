from django.db import migrations, models

# The index Django made for `db_index=True` (its name is derived from the table and column, the
# same on both databases). Dropped by name: on SQLite, Django's AlterField would copy the whole
# event table to drop one index.
INDEX = "outbox_outboxevent_nation_id_a4b40069"


class Migration(migrations.Migration):
    dependencies = [
        ("outbox", "0004_documents_as_text"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{INDEX}"',
                    reverse_sql=f'CREATE INDEX "{INDEX}" ON "outbox_outboxevent" ("nation_id")',
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="outboxevent",
                    name="nation_id",
                    field=models.BigIntegerField(),
                ),
            ],
        ),
    ]
