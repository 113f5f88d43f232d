"""The business date (营业日): the lender's current day. Code asks `business_date_today()`,
never the wall clock; only the nightly close moves it (docs/architecture.md, "Business date")."""

from datetime import date

from django.db import transaction
from django.utils import timezone

from .models import BusinessDate

# Callables that say why the calendar may no longer be reset (a reason, or None). An app whose
# book would be falsified by a jump in time registers one in its AppConfig.ready(); core itself
# knows none of them.
_reset_guards = []


def business_date_reset_guard_register(guard):
    if guard not in _reset_guards:
        _reset_guards.append(guard)


def business_date_today() -> date:
    """The lender's current day."""
    return BusinessDate.objects.values_list("current", flat=True).get()


def business_date_ensure():
    """The business date row, started on today's calendar date if it does not exist yet."""
    BusinessDate.objects.get_or_create(singleton=True,
                                       defaults={"current": timezone.localdate()})


def business_date_reset(*, day):
    """Start the calendar on another day: only on a book with nothing in it yet (demo, tests)."""
    for guard in _reset_guards:
        if reason := guard():
            raise ValueError(f"The business date can only be reset on an empty book: {reason}")
    with transaction.atomic():
        business_date_ensure()
        BusinessDate.objects.update(current=day)


def business_date_advance(*, from_day) -> date:
    """Move the business date from `from_day` to the next day; the nightly close's last act.

    Refuses if another close already moved it, so two closes can never both advance."""
    next_day = date.fromordinal(from_day.toordinal() + 1)
    moved = BusinessDate.objects.filter(current=from_day).update(current=next_day)
    if moved != 1:
        raise RuntimeError(f"The business date is no longer {from_day}; another close moved it.")
    return next_day
