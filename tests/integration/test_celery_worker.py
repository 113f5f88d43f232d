"""The nightly close through a real Celery worker and the Redis broker."""

from datetime import date

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from config.celery import app
from core.calendar import business_date_today
from lending.services import loan_originate
from operations.models import CloseStep
from operations.tasks import run_nightly_close
from tests.factories import CreditLineFactory, partner_bank, set_business_date

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker():
    if settings.CELERY_TASK_ALWAYS_EAGER:
        pytest.fail("REDIS_URL must be set: this test needs the real broker (make test sets it).")
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30) as w:
        yield w


def test_nightly_close_runs_on_a_real_worker_and_a_redelivery_changes_nothing(worker):
    partner_bank()
    line = CreditLineFactory()
    set_business_date(date(2026, 1, 31))
    loan_originate(line_id=line.pk, principal="10000", term_months=12,
                   method="equal_instalment", idempotency_key="k", scope="test")
    set_business_date(date(2026, 3, 3))

    result = run_nightly_close.delay("2026-03-03").get(timeout=60)
    assert result["mark_overdue"] == 1
    assert result["accrue_penalty"] == 1
    assert business_date_today() == date(2026, 3, 4)
    assert CloseStep.objects.filter(business_date=date(2026, 3, 3)).count() == 5

    # The same message delivered again (acks_late redelivery) finds the date closed.
    assert run_nightly_close.delay("2026-03-03").get(timeout=60) == {}
    assert business_date_today() == date(2026, 3, 4)
    assert CloseStep.objects.count() == 5


def test_the_close_is_on_the_beat_schedule():
    entry = settings.CELERY_BEAT_SCHEDULE["nightly-close"]
    assert entry["task"] == run_nightly_close.name
    assert run_nightly_close.name in app.tasks
    assert run_nightly_close.acks_late and run_nightly_close.reject_on_worker_lost
