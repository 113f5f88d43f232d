"""The record of close steps now belongs to operations (operations 0001): lending forgets it
without touching its table."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("lending", "0004_platform_tables_to_core"),
        ("operations", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="CloseStep")],
        ),
    ]
