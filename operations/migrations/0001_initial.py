"""The record of close steps becomes operations' model (it was lending's): the table keeps its
name and rows, this only changes Django's state and repoints the content type."""

from django.db import migrations, models


def repoint_content_type(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="operations", model="closestep").exists():
        ContentType.objects.filter(app_label="lending", model="closestep").update(
            app_label="operations")


def point_content_type_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="operations", model="closestep").update(
        app_label="lending")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("lending", "0004_platform_tables_to_core"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="CloseStep",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True,
                                                   serialize=False, verbose_name="ID")),
                        ("business_date", models.DateField()),
                        ("step", models.CharField(max_length=40)),
                        ("rows", models.PositiveIntegerField(default=0)),
                        ("seconds", models.FloatField(default=0)),
                        ("finished_at", models.DateTimeField(auto_now_add=True)),
                    ],
                    options={
                        "db_table": "lending_closestep",
                        "constraints": [models.UniqueConstraint(
                            fields=("business_date", "step"),
                            name="one_run_per_step_and_date")],
                    },
                ),
            ],
        ),
        migrations.RunPython(repoint_content_type, point_content_type_back),
    ]
