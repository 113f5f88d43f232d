"""The business date and idempotency records become the platform's (core's) models.

They were lending's; their tables keep their names and rows, so this only changes Django's
state, and repoints their content types so that permissions granted on them still hold. On a
new database, lending's first migration has created the tables already."""

from django.db import migrations, models


def repoint_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in ("businessdate", "idempotencyrecord"):
        if not ContentType.objects.filter(app_label="core", model=model).exists():
            ContentType.objects.filter(app_label="lending", model=model).update(app_label="core")


def point_content_types_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in ("businessdate", "idempotencyrecord"):
        ContentType.objects.filter(app_label="core", model=model).update(app_label="lending")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("lending", "0003_repayment_allocation_trigger"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="BusinessDate",
                    fields=[
                        ("singleton", models.BooleanField(default=True, primary_key=True,
                                                          serialize=False)),
                        ("current", models.DateField()),
                    ],
                    options={
                        "db_table": "lending_businessdate",
                        "constraints": [models.CheckConstraint(
                            condition=models.Q(("singleton", True)), name="one_business_date")],
                    },
                ),
                migrations.CreateModel(
                    name="IdempotencyRecord",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True,
                                                   serialize=False, verbose_name="ID")),
                        ("scope", models.CharField(
                            help_text="Who called: a user or partner client.", max_length=80)),
                        ("key", models.CharField(max_length=128)),
                        ("request_hash", models.CharField(max_length=64)),
                        ("result", models.JSONField()),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                    ],
                    options={
                        "db_table": "lending_idempotencyrecord",
                        "constraints": [models.UniqueConstraint(fields=("scope", "key"),
                                                                name="one_result_per_key")],
                    },
                ),
            ],
        ),
        migrations.RunPython(repoint_content_types, point_content_types_back),
    ]
