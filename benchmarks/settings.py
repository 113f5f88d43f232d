"""Settings for the benchmark server: the product's own settings, as production would run them
(DEBUG off), plus a benchmark-only URLconf serving the one-INSERT baseline view beside the
product's pages. Never used by the product itself."""

from config.settings.base import *  # noqa: F403
from config.settings.base import INSTALLED_APPS

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [*INSTALLED_APPS, "benchmarks"]
ROOT_URLCONF = "benchmarks.urls"
# The customers made for a run sign in once each; what is timed is the decision, not the hash.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Request logs would be written once per timed request; errors are still reported.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
