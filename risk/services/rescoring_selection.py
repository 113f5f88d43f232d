"""Which customers a night's rescoring scores (the close step `rescore_lines`'s ids).

A customer's B-card score and the review of their lines are fixed functions of what the
features read (`risk.features.behaviour`) and what the policy reads (`risk.rescoring_policy`)
as of the night's business date. Most of a book does nothing on a given day, so most of those
inputs are the same as the night before, and so is what the night before decided. A night
therefore scores only the customers for whom something listed below happened or came due since
the night before; for every other customer a full rescoring would give the same score and
decide nothing (`tests/risk/test_rescoring_selection.py` runs both side by side over months of
a simulated book and compares every score and review). What can move a customer:

- a line opened, or changed since the night before was planned: its limit, rate, officer's
  cap or drawn balance (every service that changes one stamps the line's `updated_at`); a
  limit change (any line: the features sum every line's limit); a loan drawn; a repayment; a
  term extension; a credit decision accepted (its income sets the limit's target); the profile
  changed (its income, for a line without a decision);
- an instalment falling due tonight (the share paid on time counts it), or unpaid after its
  due date (its days past due grow every night);
- the calendar: whole months on book turning over; an instalment paid late, or a limit
  reduction, leaving a look-back window (three, six or twelve months); a raise becoming ninety
  days old (the policy's interval).

Events are taken from the night before's business date on, so that one booked during the
last close, after its chunk read the customer, is seen. Every open line is scored instead on
a month's last business date (every line's score is kept then), when the night before was not
planned here, when another champion or challenger scores, when the products' terms or the code
of the features, the policy or this selection changed (a fingerprint of them is kept with each
night), and when a grade's price moved with the date (the reference quote's APR depends on the
start date). On the embedded demo database every line is scored every night.

The chosen customers are written to `RescoringNightCustomer` for the chunks to read (a chunk
is a range of customer ids, and rescores only the chosen ones in it); the list of the night
before is deleted then."""

import hashlib
import json
import sys
from datetime import date, timedelta
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import CustomerProfile
from lending.models import (
    CreditLine,
    CreditLineStatus,
    CreditProduct,
    Instalment,
    InstalmentStatus,
    LimitChange,
    Loan,
    LoanExtension,
    ProductKind,
    Repayment,
)
from lending.rules.schedule import add_months_anchored

from .. import pricing, rescoring_policy
from ..features import behaviour
from ..models import (
    Card,
    CreditDecision,
    Grade,
    ModelStatus,
    ModelVersion,
    RescoringNight,
    RescoringNightCustomer,
)
from ..rescoring_policy import ProductTerms, grade_price

REVIEWED_STATUSES = (CreditLineStatus.ACTIVE, CreditLineStatus.FROZEN)
# Changes stamped up to this long before the night before was planned count as new: a margin
# for clocks that differ between hosts, and for a transaction that stamped a line before that
# night's plan and committed after its chunk read the line.
STAMP_MARGIN = timedelta(hours=1)
# The look-back windows of the features (worst days past due over 3, 6 and 12 months; limit
# reductions over 6).
WINDOWS_MONTHS = (3, 6, 12)
REDUCTIONS_MONTHS = 6


def customers_to_rescore(day: date) -> list[int]:
    """The close step's ids: the customers with an open cash-loan line whose score or review can
    have moved since the night before, or all of them (see the module's doc); none while there
    is no B-card champion. Records the night's plan."""
    champion = behaviour_model_pk(ModelStatus.CHAMPION)
    if champion is None:
        return []
    challenger = behaviour_model_pk(ModelStatus.CHALLENGER)
    fingerprint = rules_fingerprint()
    with transaction.atomic():
        before = RescoringNight.objects.filter(business_date=day - timedelta(days=1)).first()
        reason = every_line_reason(day, before, champion=champion, challenger=challenger,
                                   fingerprint=fingerprint)
        night, _ = RescoringNight.objects.update_or_create(
            business_date=day,
            defaults={"every_line": bool(reason), "reason": reason, "customers": 0,
                      "champion_id": champion, "challenger_id": challenger,
                      "fingerprint": fingerprint, "planned_at": timezone.now()})
        # The lists of nights before the night before are read by no chunk any more.
        RescoringNightCustomer.objects.filter(night__business_date__lt=day - timedelta(days=1)
                                              ).delete()
        RescoringNightCustomer.objects.filter(night=night).delete()
        if reason:
            customers = _customers_with_open_lines(day)
        else:
            _moved_customers_record(night, day, before.planned_at - STAMP_MARGIN)
            customers = list(RescoringNightCustomer.objects.filter(night=night)
                             .order_by("customer_id").values_list("customer_id", flat=True))
        night.customers = len(customers)
        night.save(update_fields=["customers"])
    return customers


def chosen_customers(day: date) -> RescoringNight | None:
    """The night's plan when it scores only some customers (their ids in
    `RescoringNightCustomer`), None when every line is scored (or the night was not planned:
    a direct call scores every line in its range)."""
    night = RescoringNight.objects.filter(business_date=day).first()
    return None if night is None or night.every_line else night


def every_line_reason(day: date, before: RescoringNight | None, *, champion: int,
                      challenger: int | None, fingerprint: str) -> str:
    """Why every open line is scored on `day`, or "" when only the customers that moved are."""
    if connection.vendor != "postgresql":
        return "the embedded database"
    if is_month_end(day):
        return "the month's last business date"
    if before is None:
        return "no rescoring planned the night before"
    if before.champion_id != champion or before.challenger_id != challenger:
        return "another champion or challenger"
    if before.fingerprint != fingerprint:
        return "other product terms, features or rules"
    if _prices_moved(day):
        return "a grade's price moved with the date"
    return ""


def rules_fingerprint() -> str:
    """sha256 of the cash products' terms as the policy reads them and of the code that turns a
    customer's records into a score and a review, and of this selection."""
    terms = sorted((product.pk, [str(v) for v in vars(ProductTerms.of(product)).values()])
                   for product in CreditProduct.objects.filter(kind=ProductKind.CASH_LOAN))
    digest = hashlib.sha256(json.dumps(terms).encode())
    for module in (behaviour, rescoring_policy, pricing, sys.modules[__name__]):
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()


def _prices_moved(day: date) -> bool:
    """Whether any grade's daily rate for any cash product is another tonight than last night
    (the rate is stepped down until the reference quote's APR is within the cap, and that APR
    depends on the quote's start date)."""
    yesterday = day - timedelta(days=1)
    for product in CreditProduct.objects.filter(kind=ProductKind.CASH_LOAN):
        terms = ProductTerms.of(product)
        for grade in Grade.values:
            if grade == Grade.E:
                continue  # never priced (rescoring_policy: an E line keeps its rate)
            tonight, last_night = grade_price(grade, terms, day), grade_price(grade, terms,
                                                                               yesterday)
            if (tonight and tonight[0]) != (last_night and last_night[0]):
                return True
    return False


def behaviour_model_pk(status: str) -> int | None:
    """The key of the B-card in `status` (champion or challenger), None when there is none."""
    return (ModelVersion.objects.filter(card=Card.BEHAVIOUR, status=status)
            .values_list("pk", flat=True).first())


def open_cash_lines(day: date):
    """The lines the rescoring reviews on `day`: cash-loan lines open (active or frozen) by then."""
    return CreditLine.objects.filter(status__in=REVIEWED_STATUSES,
                                     product__kind=ProductKind.CASH_LOAN, opened_on__lte=day)


def is_month_end(day: date) -> bool:
    """Whether `day` is its month's last: every line's score is kept then."""
    return (day + timedelta(days=1)).month != day.month


def _customers_with_open_lines(day: date) -> list[int]:
    return list(open_cash_lines(day).values_list("customer_id", flat=True).distinct()
                .order_by("customer_id"))


def _months_on_book_sql(as_of: str) -> str:
    """The feature `months_on_book` in SQL for the customer's first line as of the date
    parameter `as_of`: whole months, less one while the day of the month is not reached."""
    first = "MIN(opened_on)"
    return (f"GREATEST((EXTRACT(YEAR FROM %({as_of})s::date) * 12 "
            f"+ EXTRACT(MONTH FROM %({as_of})s::date)) - (EXTRACT(YEAR FROM {first}) * 12 "
            f"+ EXTRACT(MONTH FROM {first})) - CASE WHEN EXTRACT(DAY FROM %({as_of})s::date) "
            f"< EXTRACT(DAY FROM {first}) THEN 1 ELSE 0 END, 0)")


def _window_sql(column: str) -> str:
    """`column` (a date) left one of the look-back windows tonight."""
    return " OR ".join(f"({column} > %(from_{m})s AND {column} <= %(to_{m})s)"
                       for m in WINDOWS_MONTHS)


_LINE, _INSTALMENT = CreditLine._meta.db_table, Instalment._meta.db_table
_STATUSES = ", ".join(f"'{s}'" for s in InstalmentStatus.values)

# One statement: each branch reads one kind of event through an index on its date or status
# (or reads a table once), so the night's cost follows its events; the loans' events are
# gathered first and their customers found once.
_MOVED_SQL = f"""
SELECT moved.customer_id FROM (
    SELECT l.customer_id FROM (
        SELECT id AS loan_id FROM {Loan._meta.db_table} WHERE disbursed_on >= %(yesterday)s
        UNION
        SELECT loan_id FROM {Repayment._meta.db_table} WHERE paid_on >= %(yesterday)s
        UNION
        SELECT loan_id FROM {LoanExtension._meta.db_table}
        WHERE business_date >= %(yesterday)s OR {_window_sql("business_date")}
        UNION
        SELECT loan_id FROM {_INSTALMENT}
        WHERE status IN ({_STATUSES}) AND due_date = %(day)s
        UNION
        SELECT loan_id FROM {_INSTALMENT}
        WHERE status = '{InstalmentStatus.PENDING}' AND due_date < %(day)s
        UNION
        SELECT loan_id FROM {_INSTALMENT} WHERE status = '{InstalmentStatus.OVERDUE}'
        UNION
        SELECT loan_id FROM {_INSTALMENT}
        WHERE paid_on > due_date AND ({_window_sql("paid_on")})
    ) loans
    JOIN {Loan._meta.db_table} n ON n.id = loans.loan_id JOIN {_LINE} l ON l.id = n.line_id
    UNION
    SELECT customer_id FROM {_LINE}
    WHERE opened_on >= %(yesterday)s OR updated_at >= %(since)s
    UNION
    SELECT customer_id FROM {_LINE}
    WHERE customer_id IN (SELECT customer_id FROM {_LINE}
                          WHERE EXTRACT(DAY FROM opened_on) = ANY(%(turning_days)s))
    GROUP BY customer_id
    HAVING {_months_on_book_sql("day")} <> {_months_on_book_sql("yesterday")}
    UNION
    SELECT l.customer_id FROM {LimitChange._meta.db_table} x JOIN {_LINE} l ON l.id = x.line_id
    WHERE x.business_date >= %(yesterday)s OR x.business_date = %(raise_day)s
       OR (x.business_date > %(from_reductions)s AND x.business_date <= %(to_reductions)s)
    UNION
    SELECT customer_id FROM {CreditDecision._meta.db_table} WHERE accepted_at >= %(since)s
    UNION
    SELECT user_id FROM {CustomerProfile._meta.db_table} WHERE updated_at >= %(since)s
) moved
WHERE EXISTS (
    SELECT 1 FROM {_LINE} l JOIN {CreditProduct._meta.db_table} p ON p.id = l.product_id
    WHERE l.customer_id = moved.customer_id AND p.kind = '{ProductKind.CASH_LOAN}'
      AND l.status IN ({", ".join(f"'{s}'" for s in REVIEWED_STATUSES)})
      AND l.opened_on <= %(day)s)
"""


def turning_days(day: date) -> list[int]:
    """The days of the month a first line can have opened on for its customer's whole months
    on book to turn over on `day`: the day itself; on the 1st, also the days the month before
    did not have (a line opened on the 31st turns over on the 1st after a 30-day month)."""
    if day.day != 1:
        return [day.day]
    return [1, *range((day - timedelta(days=1)).day + 1, 32)]


def moved_customers_query(day: date, since) -> tuple[str, dict]:
    """The statement that reads the customers with an open cash line whose score or review can
    have moved since the night before (`since`: when it was planned, less the margin), and its
    parameters."""
    yesterday = day - timedelta(days=1)
    params = {"day": day, "yesterday": yesterday, "since": since,
              "turning_days": turning_days(day),
              "raise_day": day - timedelta(days=rescoring_policy.RAISE_INTERVAL_DAYS),
              "from_reductions": add_months_anchored(yesterday, -REDUCTIONS_MONTHS),
              "to_reductions": add_months_anchored(day, -REDUCTIONS_MONTHS)}
    for months in WINDOWS_MONTHS:
        params[f"from_{months}"] = add_months_anchored(yesterday, -months)
        params[f"to_{months}"] = add_months_anchored(day, -months)
    return _MOVED_SQL, params


def _moved_customers_record(night: RescoringNight, day: date, since) -> None:
    sql, params = moved_customers_query(day, since)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {RescoringNightCustomer._meta.db_table} "
                       f"(night_id, customer_id) SELECT %(night)s, customer_id FROM ({sql}) s",
                       {**params, "night": night.pk})
