"""Seed the database beat schedule (django-celery-beat) with the nightly close: shortly after
midnight, close every business date the calendar has left behind. An administrator can move or
pause it in the admin without a deploy."""

from django.db import migrations

TASK_NAME = "nightly-close"


def seed(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    schedule, _ = CrontabSchedule.objects.get_or_create(
        minute="30", hour="0", day_of_week="*", day_of_month="*", month_of_year="*",
        timezone="Asia/Shanghai")
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={"task": "operations.tasks.run_nightly_close", "crontab": schedule,
                  "description": "The nightly close (日终) of every business date the "
                                 "calendar has left behind; a date already closed is skipped."})


def unseed(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("operations", "0002_close_runs_and_chunks"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
