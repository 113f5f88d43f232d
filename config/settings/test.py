"""Test runs: the real PostgreSQL and Redis (make test sets DATABASE_URL and REDIS_URL)."""

import os
import urllib.parse

from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only; tests only
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Under pytest-xdist each worker has its own test database (pytest-django suffixes its name) and
# its own Redis database, so that one worker's cache, throttles and Celery queues never meet
# another's. Subprocesses a test starts inherit both variables and so land on the same one.
_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if REDIS_URL and _XDIST_WORKER.startswith("gw"):  # noqa: F405
    _redis = urllib.parse.urlsplit(REDIS_URL)  # noqa: F405
    _base_db = int(_redis.path.strip("/") or 0)
    REDIS_URL = urllib.parse.urlunsplit(  # noqa: F405
        _redis._replace(path=f"/{_base_db + int(_XDIST_WORKER[2:])}"))
    CACHES["default"]["LOCATION"] = REDIS_URL  # noqa: F405
    CELERY_BROKER_URL = CELERY_RESULT_BACKEND = REDIS_URL
