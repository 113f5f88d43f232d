"""The Celery application. Tasks live in each app's tasks.py and are found automatically."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

app = Celery("credit_platform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
