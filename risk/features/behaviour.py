"""Behaviour (B-card) features: how a customer has used and repaid their credit with us, and the
price it was drawn at, as of a day. One definition each, in the same `Feature` shape as the
application features, computed for many customers at once from a few set-based queries
(`behaviour_columns`) and numpy.

"As of" a day means at the close of that day: payments, limit changes and dues on that day
count. Days past due count from the due date of the oldest unpaid instalment (the platform
only marks an instalment overdue after the product's grace days, but then counts from its due
date too)."""

from collections.abc import Sequence
from datetime import date

import numpy as np
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce

from core.batch import field_in
from lending.models import CreditLine, Instalment, LimitChange, Loan, Repayment
from lending.rules.schedule import add_months_anchored

from .application import Columns, Feature, features_hash, ratio

CHUNK = 50_000
LOOKBACK_MONTHS = 12  # the longest window a feature looks back over


def _day(value: date) -> np.datetime64:
    return np.datetime64(value, "D")


def _months_before(as_of: date, months: int) -> np.datetime64:
    return _day(add_months_anchored(as_of, -months))


def _late_days(c: Columns, as_of) -> tuple[np.ndarray, np.ndarray]:
    """For each late instalment (one row each in the late_* columns): the last day it was still
    unpaid, up to `as_of`, and how many days past due it was then."""
    unpaid_until = np.where(np.isnat(c["late_paid_on"]) | (c["late_paid_on"] > _day(as_of)),
                            _day(as_of), c["late_paid_on"])
    return unpaid_until, (unpaid_until - c["late_due_date"]).astype(np.int64)


def _worst_days_past_due(months: int):
    def compute(c: Columns, as_of) -> np.ndarray:
        """The most days past due any instalment reached within the last `months` months."""
        unpaid_until, days = _late_days(c, as_of)
        counted = (days > 0) & (unpaid_until > _months_before(as_of, months))
        worst = np.zeros(len(c["customer_id"]))
        np.maximum.at(worst, c["late_customer"][counted], days[counted])
        return worst
    return compute


def _days_past_due_now(c: Columns, as_of) -> np.ndarray:
    unpaid_until, days = _late_days(c, as_of)
    counted = (unpaid_until == _day(as_of)) & (days > 0)
    now = np.zeros(len(c["customer_id"]))
    np.maximum.at(now, c["late_customer"][counted], days[counted])
    return now


def _on_time_share(c: Columns, as_of) -> np.ndarray:
    """Share of instalments due by `as_of` that were paid by their due date; NaN: none due yet."""
    due = c["instalments_due"]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(due > 0, c["instalments_on_time"] / due, np.nan)


def _daily_rate_drawn(c: Columns, as_of) -> np.ndarray:
    """The daily rate of the loans drawn by `as_of`, weighted by their principal; NaN: none
    drawn. A loan keeps the rate it was drawn at, which the line's grade set (its price for
    the customer's risk as the lender judged it then), so later repricing cannot reach back."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(c["drawn_principal"] > 0,
                        c["drawn_principal_x_rate"] / c["drawn_principal"], np.nan)


def _months_on_book(c: Columns, as_of) -> np.ndarray:
    """Whole months since the customer's first line opened; NaN: no line yet."""
    opened = c["first_opened_on"]
    months = (_day(as_of).astype("datetime64[M]").astype(np.int64)
              - opened.astype("datetime64[M]").astype(np.int64))
    day_of_month = (opened - opened.astype("datetime64[M]")).astype(np.int64)
    as_of_day = (_day(as_of) - _day(as_of).astype("datetime64[M]")).astype(np.int64)
    months = np.maximum(months - (as_of_day < day_of_month), 0).astype(np.float64)
    return np.where(np.isnat(opened), np.nan, months)


BEHAVIOUR_FEATURES: tuple[Feature, ...] = (
    Feature("utilisation", "Credit used / limit",
            lambda c, d: ratio(c["outstanding_principal"], c["credit_limit"], 2.0), 1,
            "You are using most of your credit limit.",
            "You use a small part of your credit limit."),
    Feature("on_time_share", "Instalments paid on time", _on_time_share, -1,
            "Some of your instalments were paid after their due date.",
            "You pay your instalments on time."),
    Feature("worst_dpd_3m", "Most days past due, last 3 months", _worst_days_past_due(3), 1,
            "A payment was overdue in the last 3 months.",
            "No payment was overdue in the last 3 months."),
    Feature("worst_dpd_6m", "Most days past due, last 6 months", _worst_days_past_due(6), 1,
            "A payment was overdue in the last 6 months.",
            "No payment was overdue in the last 6 months."),
    Feature("worst_dpd_12m", "Most days past due, last 12 months", _worst_days_past_due(12), 1,
            "A payment was overdue in the last year.",
            "No payment was overdue in the last year."),
    Feature("days_past_due_now", "Days past due now", _days_past_due_now, 1,
            "A payment is overdue now.",
            "Nothing is overdue."),
    Feature("months_on_book", "Months as a customer", _months_on_book, -1,
            "You have been a customer for a short time.",
            "You have been a customer for a long time."),
    Feature("limit_changes_6m", "Limit reductions, last 6 months",
            lambda c, d: c["limit_changes_6m"], 1,
            "Your limit was lowered recently.",
            "Your limit has not been lowered recently."),
    Feature("daily_rate_drawn", "Daily rate of the credit drawn", _daily_rate_drawn, 1,
            "Your credit was priced for a higher risk when you drew it.",
            "Your credit was priced for a lower risk when you drew it."),
)

BEHAVIOUR_FEATURE_NAMES = tuple(f.name for f in BEHAVIOUR_FEATURES)
BEHAVIOUR_FEATURES_HASH = features_hash(BEHAVIOUR_FEATURES)


def behaviour_columns(user_ids: Sequence[int], as_of: date) -> Columns:
    """Raw columns for these customers as of the close of `as_of`, in the order of `user_ids`.
    Six queries per chunk of 50,000 customers; a customer without a line has zeros and no
    first_opened_on (NaT)."""
    user_ids = np.asarray(list(user_ids), dtype=np.int64)
    parts = [_columns_chunk(user_ids[i:i + CHUNK], as_of)
             for i in range(0, len(user_ids), CHUNK)] or [_columns_chunk(user_ids, as_of)]
    columns: Columns = {}
    offset = 0
    for part in parts:
        for name, values in part.items():
            if name == "late_customer":
                values = values + offset
            columns.setdefault(name, []).append(values)
        offset += len(part["customer_id"])
    return {name: np.concatenate(values) for name, values in columns.items()}


def _columns_chunk(user_ids: np.ndarray, as_of: date) -> Columns:
    ids = user_ids.tolist()
    index = {u: i for i, u in enumerate(ids)}
    n = len(ids)
    first_opened = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    limit = np.zeros(n)
    lines = {}
    for line_id, customer_id, opened_on, credit_limit in (
            CreditLine.objects.filter(field_in("customer_id", ids), opened_on__lte=as_of)
            .values_list("pk", "customer_id", "opened_on", "credit_limit")):
        lines[line_id] = customer_id
        i = index[customer_id]
        if np.isnat(first_opened[i]) or _day(opened_on) < first_opened[i]:
            first_opened[i] = _day(opened_on)
        limit[i] += float(credit_limit)

    changes = np.zeros(n)
    six_months_ago = add_months_anchored(as_of, -6)
    for line_id, business_date, old_limit, new_limit in (
            LimitChange.objects.filter(field_in("line_id", lines), business_date__gt=six_months_ago)
            .order_by("-pk").values_list("line_id", "business_date", "old_limit", "new_limit")):
        i = index[lines[line_id]]
        if business_date <= as_of:
            # Reductions only, as the feature says: a raise (an accepted offer, the nightly
            # rescoring's) is no sign of risk, and counting it would feed the B-card's own
            # raises back into its next score.
            changes[i] += new_limit < old_limit
        else:
            # Undo later changes, newest first, to get back to the limit as of that day.
            limit[i] += float(old_limit) - float(new_limit)

    outstanding = np.zeros(n)
    drawn = np.zeros(n)
    drawn_at_rate = np.zeros(n)
    for customer_id, principal, at_rate in (
            Loan.objects.filter(field_in("line__customer_id", ids), disbursed_on__lte=as_of)
            .values("line__customer_id")
            .annotate(total=Sum("principal"), at_rate=Sum(F("principal") * F("daily_rate")))
            .values_list("line__customer_id", "total", "at_rate")):
        outstanding[index[customer_id]] += float(principal)
        drawn[index[customer_id]] += float(principal)
        drawn_at_rate[index[customer_id]] += float(at_rate)
    for customer_id, repaid in (
            Repayment.objects.filter(field_in("loan__line__customer_id", ids), paid_on__lte=as_of)
            .values("loan__line__customer_id").annotate(total=Sum("principal"))
            .values_list("loan__line__customer_id", "total")):
        outstanding[index[customer_id]] -= float(repaid)

    # An instalment an extension replaced (lending's "superseded") counts as it stood: one that
    # fell due before the extension was due, and if it was unpaid, it was late until the
    # extension settled it; one not yet due then never fell due.
    instalments = (Instalment.objects.filter(field_in("loan__line__customer_id", ids))
                   .exclude(status="superseded", due_date__gte=F("superseded_by__business_date"))
                   .annotate(settled_on=Coalesce("paid_on", "superseded_by__business_date")))
    due = np.zeros(n)
    on_time = np.zeros(n)
    for customer_id, count_due, count_on_time in (
            instalments.filter(due_date__lte=as_of)
            .values("loan__line__customer_id")
            .annotate(due=Count("pk"), on_time=Count("pk", filter=Q(paid_on__lte=F("due_date"))))
            .values_list("loan__line__customer_id", "due", "on_time")):
        due[index[customer_id]] = count_due
        on_time[index[customer_id]] = count_on_time

    late = list(
        instalments.filter(due_date__lt=as_of)
        .filter(Q(settled_on__isnull=True) | Q(settled_on__gt=F("due_date")))
        # Not `exclude`: on an expression that may be NULL it would drop the unpaid rows too.
        .filter(Q(settled_on__isnull=True)
                | Q(settled_on__gt=add_months_anchored(as_of, -LOOKBACK_MONTHS)))
        .values_list("loan__line__customer_id", "due_date", "settled_on"))
    return {
        "customer_id": user_ids,
        "first_opened_on": first_opened,
        "credit_limit": limit,
        "outstanding_principal": outstanding,
        "drawn_principal": drawn,
        "drawn_principal_x_rate": drawn_at_rate,
        "limit_changes_6m": changes,
        "instalments_due": due,
        "instalments_on_time": on_time,
        "late_customer": np.array([index[r[0]] for r in late], dtype=np.int64),
        "late_due_date": np.array([r[1] for r in late], dtype="datetime64[D]"),
        "late_paid_on": np.array([r[2] for r in late], dtype="datetime64[D]"),
    }


def behaviour_matrix(columns: Columns, as_of: date) -> np.ndarray:
    """The B-card's input: one row per customer, one column per feature, float32 with NaN."""
    return np.column_stack([np.asarray(f.compute(columns, as_of), dtype=np.float64)
                            for f in BEHAVIOUR_FEATURES]).astype(np.float32)
