"""Production: secrets and hosts must come from the environment; HTTPS everywhere."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env_bool

DEBUG = False
# Never the demo merchant shop: it signs in with credentials published in the README.
DEMO_SHOP = False
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be set to a random string of 50+ characters.")
if not os.environ.get("ALLOWED_HOSTS"):
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set (comma-separated host names).")

# base.py falls back to an embedded SQLite file when DATABASE_URL is missing; production never
# may. The ledger's guarantees live in the database as PostgreSQL triggers (django-pgtrigger):
# that every journal entry balances, that entries, postings and repayments are append-only, and
# that a draw never takes a credit line over its limit. SQLite has none of them.
_database_url = os.environ.get("DATABASE_URL", "").strip()
_POSTGRES_ENGINES = {"django.db.backends.postgresql", "django.contrib.gis.db.backends.postgis"}
if not _database_url or DATABASES["default"]["ENGINE"] not in _POSTGRES_ENGINES:  # noqa: F405
    _given = (f"it is a {_database_url.partition(':')[0] or 'non-PostgreSQL'} URL"
              if _database_url else "it is not set")
    raise ImproperlyConfigured(
        "DATABASE_URL must point at a PostgreSQL database "
        f"(postgres://USER:PASSWORD@HOST:5432/NAME), but {_given}. The ledger's balance check, "
        "its append-only rules and the no-overdraw rule on credit lines are PostgreSQL triggers, "
        "which SQLite does not have: on SQLite the ledger would accept unbalanced, edited or "
        "deleted entries and overdrawn lines."
    )

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 31536000))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
# Sign-up links must reach customers' mailboxes, not the console: SMTP (EMAIL_HOST and the
# others in base.py) unless another backend is named.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
X_FRAME_OPTIONS = "DENY"
# WhiteNoise serves the collected static files (manage.py collectstatic) from the app server.
MIDDLEWARE = [MIDDLEWARE[0], "whitenoise.middleware.WhiteNoiseMiddleware", *MIDDLEWARE[1:]]  # noqa: F405
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
