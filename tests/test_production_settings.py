"""Production settings must pass Django's deployment checklist with only the three required
variables supplied (SECRET_KEY, ALLOWED_HOSTS and a PostgreSQL DATABASE_URL), and refuse to
start without them."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Never connected to: `check --deploy` runs no database checks, so an unresolvable host proves
# the settings only need the URL to be PostgreSQL's.
POSTGRES_URL = "postgres://credit:not-a-password@db.invalid:5432/credit"

# What a production host would not have: this test run's own settings, and the browser tests'
# permission to call the ORM from Playwright's event loop.
NOT_IN_PRODUCTION = {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ALLOWED_HOSTS",
                     "DJANGO_ALLOW_ASYNC_UNSAFE"}


def _check_deploy(**env):
    clean = {k: v for k, v in os.environ.items() if k not in NOT_IN_PRODUCTION}
    clean.update(DJANGO_SETTINGS_MODULE="config.settings.production", **env)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120,
    )


def _required(**overrides):
    env = {"SECRET_KEY": secrets.token_urlsafe(60), "ALLOWED_HOSTS": "credit.example",
           "DATABASE_URL": POSTGRES_URL, **overrides}
    return {k: v for k, v in env.items() if v is not None}


def _refusal(result):
    """The ImproperlyConfigured message, the last line of the traceback."""
    assert result.returncode != 0, result.stdout
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("django.core.exceptions.ImproperlyConfigured: "), result.stderr
    return last


def test_check_deploy_is_clean_with_only_the_required_variables():
    result = _check_deploy(**_required())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = _check_deploy(**_required(SECRET_KEY=None))
    assert "SECRET_KEY" in _refusal(result)


def test_production_refuses_to_start_without_allowed_hosts():
    result = _check_deploy(**_required(ALLOWED_HOSTS=None))
    assert "ALLOWED_HOSTS" in _refusal(result)


@pytest.mark.parametrize("database_url", [None, "", "sqlite:////tmp/credit.sqlite3",
                                          "mysql://credit@db.invalid:3306/credit"])
def test_production_refuses_to_start_without_a_postgresql_database_url(database_url):
    message = _refusal(_check_deploy(**_required(DATABASE_URL=database_url)))
    assert "DATABASE_URL must point at a PostgreSQL database" in message
    # It says why: the ledger's rules are triggers that only PostgreSQL runs.
    for reason in ("balance check", "append-only", "no-overdraw", "PostgreSQL triggers",
                   "SQLite does not have"):
        assert reason in message


def test_the_refusal_names_the_scheme_but_never_the_credentials():
    message = _refusal(_check_deploy(**_required(
        DATABASE_URL="mysql://credit:s3cret-pass@db.invalid:3306/credit")))
    assert "mysql" in message
    assert "s3cret-pass" not in message


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_either_postgresql_scheme_is_accepted(scheme):
    result = _check_deploy(**_required(DATABASE_URL=POSTGRES_URL.replace("postgres", scheme, 1)))
    assert result.returncode == 0, result.stdout + result.stderr
