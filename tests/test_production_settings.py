"""Production settings must pass Django's deployment checklist with only the two required
variables supplied, and refuse to start without them."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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


def test_check_deploy_is_clean_with_only_secret_key_and_allowed_hosts():
    result = _check_deploy(SECRET_KEY=secrets.token_urlsafe(60), ALLOWED_HOSTS="credit.example")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = _check_deploy(ALLOWED_HOSTS="credit.example")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
