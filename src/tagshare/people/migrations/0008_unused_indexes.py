from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0007_documents_as_text"),
    ]

    operations = [
        # No query reads people in (last name, first name) order; matching has its own keys.
        migrations.RemoveIndex(
            model_name="person",
            name="person_name_idx",
        ),
    ]
