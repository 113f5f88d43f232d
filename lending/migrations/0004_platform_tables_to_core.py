"""The business date and idempotency records now belong to core (core 0001): lending forgets
them without touching their tables."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("lending", "0003_repayment_allocation_trigger"),
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="BusinessDate"),
                migrations.DeleteModel(name="IdempotencyRecord"),
            ],
        ),
    ]
