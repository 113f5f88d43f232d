"""Celery tasks: thin, id-taking, safe to run twice."""

from datetime import date

from celery import shared_task

from .nightly_close import business_dates_catch_up, business_day_close


@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_nightly_close(business_date=None):
    """Close one business date (ISO string), or, from the beat schedule, every date that the
    calendar has left behind. A date already closed is a no-op, so redelivery is harmless."""
    if business_date is not None:
        steps = business_day_close(business_date=date.fromisoformat(business_date))
        return {step.step: step.rows for step in steps}
    closed = business_dates_catch_up()
    return {"dates_closed": len(closed)}
