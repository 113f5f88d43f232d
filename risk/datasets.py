"""What the scorecards are trained on, read from the platform's own records.

Labels come from the instalments: an instalment reached N days past due on the day
`due_date + N` if it was still unpaid then (`paid_on` empty, or on or after that day: the day a
payment arrives still counts as past due, as the loan's days-past-due showed that morning).
Simulated customers' hidden truth is read only for the ceiling (`true_probability`)."""

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
from django.db.models import F, Min, Q

from core.calendar import business_date_today
from lending.models import CreditLine, Instalment
from lending.rules.schedule import add_months_anchored

from .features.application import APPLICATION_FEATURE_NAMES, application_columns, application_matrix
from .features.behaviour import BEHAVIOUR_FEATURE_NAMES, behaviour_columns, behaviour_matrix
from .models import SimulatedCustomer

BAD_DAYS_PAST_DUE = 90


@dataclass
class TrainingSet:
    X: np.ndarray  # float32, one row per customer
    y: np.ndarray  # int8: 1 = bad
    user_ids: np.ndarray
    feature_names: tuple
    true_probability: np.ndarray | None  # the simulator's truth, when every row has one
    summary: dict = field(default_factory=dict)


def bad_days(customer_ids, days_past_due: int = BAD_DAYS_PAST_DUE) -> dict:
    """Customer id -> the days on which one of their instalments reached `days_past_due`
    (sorted), as far as the business date; customers who never did are absent."""
    today = business_date_today()
    reached = {}
    rows = (Instalment.objects
            .filter(loan__line__customer_id__in=list(customer_ids),
                    due_date__lte=today - timedelta(days=days_past_due))
            .filter(Q(paid_on__isnull=True) | Q(paid_on__gt=F("due_date")))
            .values_list("loan__line__customer_id", "due_date", "paid_on"))
    for customer_id, due_date, paid_on in rows:
        day = due_date + timedelta(days=days_past_due)
        if paid_on is None or paid_on >= day:
            reached.setdefault(customer_id, []).append(day)
    return {customer_id: sorted(days) for customer_id, days in reached.items()}


def _went_bad_within(days: list, after: date, until: date) -> bool:
    return any(after < day <= until for day in days)


def _truth(user_ids) -> np.ndarray | None:
    truths = dict(SimulatedCustomer.objects.filter(user_id__in=list(user_ids))
                  .values_list("user_id", "true_probability"))
    if len(user_ids) == 0 or len(truths) < len(user_ids):
        return None
    return np.array([truths[u] for u in user_ids], dtype=np.float64)


def _summary(user_ids, y, first: date | None, last: date | None, **extra) -> dict:
    return {"rows": int(len(y)), "bads": int(y.sum()),
            "bad_rate": float(y.mean()) if len(y) else 0.0,
            "first_day": first.isoformat() if first else None,
            "last_day": last.isoformat() if last else None, **extra}


def application_training_set(window_months: int = 12) -> TrainingSet:
    """One row per customer with a credit line and a profile, as of their application day
    (the day their first line opened).

    y = 1 (bad) when an instalment of any of their loans reached 90 days past due on a day
    within `window_months` months after the application day (after it, up to and including
    application day + window). Customers whose window has not ended by the business date are
    left out unless they are already bad: a good outcome is only known once the window is over.
    Features are the profile and signals as they are now (the platform keeps no history of
    them; for simulated customers they never change)."""
    today = business_date_today()
    applied = dict(CreditLine.objects.filter(customer__profile__isnull=False)
                   .values("customer_id").annotate(first=Min("opened_on"))
                   .values_list("customer_id", "first"))
    customers = sorted(applied)
    bad = bad_days(customers)
    rows, labels, days = [], [], []
    for customer_id in customers:
        start = applied[customer_id]
        window_end = add_months_anchored(start, window_months)
        is_bad = _went_bad_within(bad.get(customer_id, []), start, window_end)
        if is_bad or window_end <= today:
            rows.append(customer_id)
            labels.append(int(is_bad))
            days.append(start)
    user_ids = np.array(rows, dtype=np.int64)
    y = np.array(labels, dtype=np.int8)
    as_of = np.array(days, dtype="datetime64[D]")
    X = (application_matrix(application_columns(rows), as_of) if rows
         else np.zeros((0, len(APPLICATION_FEATURE_NAMES)), dtype=np.float32))
    return TrainingSet(X=X, y=y, user_ids=user_ids, feature_names=APPLICATION_FEATURE_NAMES,
                       true_probability=_truth(rows),
                       summary=_summary(rows, y, min(days, default=None),
                                        max(days, default=None), card="application",
                                        window_months=window_months,
                                        bad_days_past_due=BAD_DAYS_PAST_DUE,
                                        as_of=today.isoformat()))


def behaviour_training_set(snapshot: date, horizon_months: int = 6) -> TrainingSet:
    """One row per customer with a line opened by `snapshot` who had not yet been bad by then,
    with behaviour features as of the close of `snapshot`.

    y = 1 when an instalment reached 90 days past due after the snapshot, up to and including
    snapshot + `horizon_months` months. The horizon must have ended by the business date for a
    customer to count as good (bads are known as soon as they happen)."""
    today = business_date_today()
    if snapshot > today:
        raise ValueError(f"The snapshot {snapshot} is after the business date {today}.")
    horizon_end = add_months_anchored(snapshot, horizon_months)
    customers = sorted(set(CreditLine.objects.filter(opened_on__lte=snapshot)
                           .values_list("customer_id", flat=True)))
    bad = bad_days(customers)
    rows, labels = [], []
    for customer_id in customers:
        days = bad.get(customer_id, [])
        if any(day <= snapshot for day in days):
            continue
        is_bad = _went_bad_within(days, snapshot, horizon_end)
        if is_bad or horizon_end <= today:
            rows.append(customer_id)
            labels.append(int(is_bad))
    y = np.array(labels, dtype=np.int8)
    X = (behaviour_matrix(behaviour_columns(rows, snapshot), snapshot) if rows
         else np.zeros((0, len(BEHAVIOUR_FEATURE_NAMES)), dtype=np.float32))
    return TrainingSet(X=X, y=y, user_ids=np.array(rows, dtype=np.int64),
                       # The simulator's truth is a probability at application, not over this
                       # horizon: no ceiling for the B-card.
                       feature_names=BEHAVIOUR_FEATURE_NAMES, true_probability=None,
                       summary=_summary(rows, y, snapshot, snapshot, card="behaviour",
                                        horizon_months=horizon_months,
                                        bad_days_past_due=BAD_DAYS_PAST_DUE,
                                        as_of=today.isoformat()))
