"""The nightly close (日终): run every declared step for the business date, then advance it.

Each step runs in its own durable transaction and is recorded under (business date, step), so a
rerun, or a task delivered twice, finds it done and changes nothing."""

import time

from django.db import transaction
from django.utils import timezone

from core.audit import actor_system, audit_event_append
from core.calendar import business_date_advance, business_date_today
from core.close import close_steps

from .models import CloseStep

ADVANCE_STEP = "advance_business_date"


def _run_step(day, name, work):
    with transaction.atomic(durable=True):
        # Claiming the step first makes a concurrent close wait here, then find it done.
        step, created = CloseStep.objects.get_or_create(business_date=day, step=name)
        if not created:
            return None
        started = time.perf_counter()
        step.rows = work(day)
        step.seconds = time.perf_counter() - started
        step.save(update_fields=["rows", "seconds"])
        audit_event_append(actor=actor_system(name), action=f"close.{name}",
                           subject_kind="close", subject_id=day.isoformat(),
                           payload={"rows": step.rows})
    return step


def _advance(day):
    business_date_advance(from_day=day)
    return 1


def business_day_close(*, business_date=None):
    """Run every step of the close for the current business date, then advance it.

    Given a date that is already closed, it does nothing: a redelivered task is harmless."""
    current = business_date_today()
    day = business_date or current
    if day < current:
        return []
    if day > current:
        raise ValueError(f"Cannot close {day}: the business date is {current}.")
    steps = [(spec.name, spec.run) for spec in close_steps()] + [(ADVANCE_STEP, _advance)]
    return [step for name, work in steps if (step := _run_step(day, name, work)) is not None]


def business_days_advance(*, days: int):
    """Close `days` business dates in a row: a month of life in a minute."""
    if days < 1:
        raise ValueError("days must be at least 1")
    return [business_day_close() for _ in range(days)]


def business_dates_catch_up(*, calendar_date=None):
    """Close every business date before `calendar_date` (today's by default): what the
    scheduled close does. The scheduler is the one place where the wall clock meets the
    business date."""
    calendar_date = calendar_date or timezone.localdate()
    closed = []
    while business_date_today() < calendar_date:
        closed.append(business_day_close())
    return closed
