"""Behaviour (B-card) features: how a customer has used and repaid their credit with us, and the
price it was drawn at, as of a day. One definition each, in the same `Feature` shape as the
application features, computed for many customers at once from a few set-based queries
(`behaviour_columns`) and numpy.

"As of" a day means at the close of that day: payments, limit changes and dues on that day
count. Days past due count from the due date of the oldest unpaid instalment (the platform
only marks an instalment overdue after the product's grace days, but then counts from its due
date too)."""

import json
from collections.abc import Sequence
from datetime import date

import numpy as np
from django.db import connection

from core.batch import ids_array
from lending.models import CreditLine, Instalment, LimitChange, Loan, LoanExtension, Repayment
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
    One query per chunk of 50,000 customers; a customer without a line has zeros and no
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


# One statement per chunk. The chunk's lines, loans and instalments are read once each (a CTE
# used twice is computed once); then one row per customer with a line ("customer": everything
# but the late instalments, each part summed in the database, so a chunk's 60,000 instalments
# come back as 5,000 rows), followed by one row per instalment that was late at some point up
# to the day and may still count in a window ("late": due before the day, settled after its due
# date or not at all, and not settled before the longest look-back began).
#
# An instalment an extension replaced (lending's "superseded") counts as it stood: one that
# fell due before the extension was due, and if it was unpaid, it was late until the extension
# settled it; one not yet due then never fell due. The limit as of the day is today's with the
# changes after the day undone. Only reductions count as limit changes: a raise (an accepted
# offer, the nightly rescoring's) is no sign of risk, and counting it would feed the B-card's
# own raises back into its next score.
_COLUMNS_SQL = f"""
    WITH chunk AS ({{ids}}),
    line AS (
        SELECT id, customer_id, opened_on, credit_limit FROM {CreditLine._meta.db_table}
        WHERE customer_id IN (SELECT id FROM chunk)),
    loan AS (
        SELECT loan.id, line.customer_id, loan.principal, loan.daily_rate, loan.disbursed_on
        FROM {Loan._meta.db_table} loan JOIN line ON line.id = loan.line_id),
    instalment AS (
        SELECT loan.customer_id, instalment.due_date, instalment.paid_on,
               COALESCE(instalment.paid_on, extension.business_date) AS settled_on
        FROM {Instalment._meta.db_table} instalment
        JOIN loan ON loan.id = instalment.loan_id
        LEFT JOIN {LoanExtension._meta.db_table} extension
               ON extension.id = instalment.superseded_by_id
        WHERE instalment.due_date <= %(as_of)s
          AND NOT (instalment.status = 'superseded'
                   AND instalment.due_date >= extension.business_date))
    SELECT 'customer' AS kind, line.customer_id, line.first_opened_on AS due_date,
           NULL AS settled_on, line.credit_limit, changes.undone, changes.reductions,
           drawn.principal, drawn.principal_x_rate, repaid.principal, due.instalments,
           due.on_time
    FROM (SELECT customer_id, MIN(opened_on) AS first_opened_on,
                 SUM(credit_limit) AS credit_limit
          FROM line WHERE opened_on <= %(as_of)s GROUP BY customer_id) line
    LEFT JOIN (
        SELECT line.customer_id,
               SUM(CASE WHEN change.business_date > %(as_of)s
                        THEN change.old_limit - change.new_limit END) AS undone,
               SUM(CASE WHEN change.business_date <= %(as_of)s
                         AND change.new_limit < change.old_limit THEN 1 ELSE 0 END) AS reductions
        FROM {LimitChange._meta.db_table} change JOIN line ON line.id = change.line_id
        WHERE line.opened_on <= %(as_of)s AND change.business_date > %(six_months_ago)s
        GROUP BY line.customer_id) changes ON changes.customer_id = line.customer_id
    LEFT JOIN (
        SELECT customer_id, SUM(principal) AS principal,
               SUM(principal * daily_rate) AS principal_x_rate
        FROM loan WHERE disbursed_on <= %(as_of)s
        GROUP BY customer_id) drawn ON drawn.customer_id = line.customer_id
    LEFT JOIN (
        SELECT loan.customer_id, SUM(repayment.principal) AS principal
        FROM {Repayment._meta.db_table} repayment JOIN loan ON loan.id = repayment.loan_id
        WHERE repayment.paid_on <= %(as_of)s
        GROUP BY loan.customer_id) repaid ON repaid.customer_id = line.customer_id
    LEFT JOIN (
        SELECT customer_id, COUNT(*) AS instalments,
               SUM(CASE WHEN paid_on <= due_date THEN 1 ELSE 0 END) AS on_time
        FROM instalment GROUP BY customer_id) due ON due.customer_id = line.customer_id
    UNION ALL
    SELECT 'late', customer_id, due_date, settled_on, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           NULL
    FROM instalment
    WHERE due_date < %(as_of)s
      AND (settled_on IS NULL OR (settled_on > due_date AND settled_on > %(lookback)s))
"""


def _chunk_ids(ids: list[int]) -> tuple[str, str]:
    """The chunk's customer ids as a one-column table `id` from one parameter, whatever their
    number: an array on PostgreSQL (whose planner then knows how many there are: from a JSON
    text it guesses 100, and picks plans for 100 customers where there are thousands), a JSON
    array on the embedded SQLite. Returns the table's SQL and the parameter."""
    if connection.vendor == "postgresql":
        return "SELECT unnest(%(ids)s::bigint[]) AS id", ids_array(ids)
    return "SELECT value AS id FROM json_each(%(ids)s)", json.dumps(ids)


def _dates(values) -> np.ndarray:
    """Dates from the database (date objects; ISO text from SQLite), None as NaT."""
    return np.array([None if v is None else np.datetime64(v, "D") for v in values],
                    dtype="datetime64[D]")


def columns_query(user_ids: Sequence[int], as_of: date) -> tuple[str, dict]:
    """The statement that reads these customers' raw columns as of `as_of`, and its
    parameters (`columns_from_rows` makes the columns of what it returns)."""
    ids_sql, ids_param = _chunk_ids(list(user_ids))
    return _COLUMNS_SQL.format(ids=ids_sql), {
        "ids": ids_param, "as_of": as_of, "six_months_ago": add_months_anchored(as_of, -6),
        "lookback": add_months_anchored(as_of, -LOOKBACK_MONTHS)}


def _columns_chunk(user_ids: np.ndarray, as_of: date) -> Columns:
    sql, params = columns_query(user_ids.tolist(), as_of)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return columns_from_rows(user_ids, cursor.fetchall())


def columns_from_rows(user_ids: np.ndarray, found: list[tuple]) -> Columns:
    """The raw columns of `user_ids` from the rows `columns_query`'s statement returned."""
    index = {u: i for i, u in enumerate(user_ids.tolist())}
    n = len(index)
    # (customer, first opened, -, limit, undone, reductions, drawn, at rate, repaid, due, on
    # time) and (customer, due date, settled on, ...): the two kinds share the date columns.
    rows = [row[1:] for row in found if row[0] == "customer"]
    late = [row[1:4] for row in found if row[0] == "late"]

    first_opened = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    limit, changes, outstanding, drawn, drawn_at_rate, due, on_time = (np.zeros(n)
                                                                       for _ in range(7))
    if rows:
        at = np.array([index[row[0]] for row in rows], dtype=np.int64)
        column = list(zip(*rows, strict=True))
        first_opened[at] = _dates(column[1])
        # Each sum is exact in the database and becomes a float once, as the features read it.
        limit[at] = [float(v) + (float(u) if u is not None else 0.0)
                     for v, u in zip(column[3], column[4], strict=True)]
        changes[at] = [v or 0 for v in column[5]]
        drawn[at] = [float(v or 0) for v in column[6]]
        drawn_at_rate[at] = [float(v or 0) for v in column[7]]
        outstanding[at] = drawn[at] - [float(v or 0) for v in column[8]]
        due[at] = [v or 0 for v in column[9]]
        on_time[at] = [v or 0 for v in column[10]]
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
        "late_due_date": _dates(r[1] for r in late),
        "late_paid_on": _dates(r[2] for r in late),
    }


def behaviour_matrix(columns: Columns, as_of: date) -> np.ndarray:
    """The B-card's input: one row per customer, one column per feature, float32 with NaN."""
    return np.column_stack([np.asarray(f.compute(columns, as_of), dtype=np.float64)
                            for f in BEHAVIOUR_FEATURES]).astype(np.float32)
