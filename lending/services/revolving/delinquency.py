"""Pay-later statements past due (逾期), for the nightly close (debt_collection/close/overdue.py,
step `set_statements_past_due`, beside the loans' overdue steps and before the freezes).

The rules are the loans' (`lending/rules/delinquency.py`) read for a statement: for the close
of business date D, as of D+1,

* a statement is past due when less than its minimum was paid by its due date plus the
  product's grace days (`rules.statements.overdue_since`, which also carries a minimum left
  unpaid on the statement before until it is paid); days past due count from that due date,
  in the loans' buckets;
* penalty interest (罚息) on its unpaid principal and interest (never on penalty: it does not
  compound) at the product's penalty rate, each day rounded half-up on its own, from the day
  after the due date days past due count from, every day once: on the night it turns past due
  the grace days are charged too, as for an instalment (lending/services/penalty.py); booked
  Dr penalty receivable, Cr penalty income, one entry per line;
* a payment of what was past due makes it current at once (`line_pay`); the night after, the
  freeze rule lifts its freeze.

Idempotent per (statement, D): `penalty_charged_through` becomes D+1 with the penalty, and a
statement charged through D+1 already is charged nothing more."""

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection, transaction
from django.db.models import F, Q

from core.batch import ids_array, rows_update

from ...models import LedgerAccount, Statement, StatementStatus
from ...rules.delinquency import days_past_due
from ...rules.statements import overdue_since
from .. import ledger
from .common import ZERO

CENT = Decimal("0.01")
PENALTY_KIND = "penalty_accrual"
PENALTY_MEMO = "Penalty interest on a past-due statement"


def _needing_a_look(day):
    """Open statements past due already (carried from the statement before, too, before their
    own due date), or past their due date and short of their minimum: a statement paid at
    least its minimum (the revolving ones) needs nothing."""
    return (Statement.objects.filter(status=StatementStatus.OPEN)
            .annotate(paid=F("penalty_paid") + F("interest_paid") + F("fees_paid")
                      + F("parts_paid") + F("purchases_paid"))
            .filter(Q(overdue_since__isnull=False)
                    | Q(due_date__lt=day, paid__lt=F("minimum_due"))))


def statements_past_their_due_date(day) -> list[int]:
    """The step's ids: the statements `_needing_a_look` (a small slice: most statements are
    paid in full, or at their minimum)."""
    return list(_needing_a_look(day).order_by("pk").values_list("pk", flat=True))


def statements_past_due_set(*, day, first_id=None, last_id=None, in_python=False) -> int:
    """Days past due and penalty of the open statements from `first_id` to `last_id` (see the
    module's doc); returns how many statements changed. PostgreSQL runs a few set-based
    statements; the embedded demo database (SQLite), or `in_python` (the test that compares
    both), the same rules in Python."""
    statements = _needing_a_look(day)
    if first_id is not None:
        statements = statements.filter(pk__gte=first_id, pk__lte=last_id)
    with transaction.atomic():
        ids = list(statements.select_for_update(of=("self",)).order_by("pk")
                   .values_list("pk", flat=True))
        if not ids:
            return 0
        if connection.vendor == "postgresql" and not in_python:
            return _past_due_sql(day, ids)
        changed, batch = [], ledger.JournalBatch(day)
        tomorrow = day + timedelta(days=1)
        for statement in (Statement.objects.filter(pk__in=ids).select_related("line__product")
                          .order_by("pk")):
            product = statement.line.product
            carried = (statement.overdue_since
                       if statement.overdue_since and statement.overdue_since < statement.due_date
                       else None)
            since = overdue_since(
                carried_since=carried, earlier_minimum_unpaid=statement.earlier_minimum_unpaid,
                minimum_due=statement.minimum_due, paid=statement.total_paid,
                due_date=statement.due_date, grace_days=product.grace_days, day=tomorrow)
            penalty = _penalty(statement, since, tomorrow, product.penalty_daily_rate)
            dpd = days_past_due(since, tomorrow)
            if (since, dpd, penalty) == (statement.overdue_since, statement.days_past_due, ZERO):
                continue
            statement.overdue_since, statement.days_past_due = since, dpd
            statement.penalty_due += penalty
            if since is not None:
                statement.penalty_charged_through = tomorrow
            changed.append((since, dpd, statement.penalty_due,
                            statement.penalty_charged_through, statement.pk))
            if penalty:
                batch.add(kind=PENALTY_KIND, line_id=statement.line_id, memo=PENALTY_MEMO,
                          legs=[(ledger.PENALTY_RECEIVABLE, penalty),
                                (ledger.PENALTY_INCOME, -penalty)])
        rows_update(Statement, ["overdue_since", "days_past_due", "penalty_due",
                                "penalty_charged_through"], changed)
        batch.post()
    return len(changed)


# The same rules as the Python path above, for PostgreSQL: `rules.statements.overdue_since`
# (a carried date holds while less than the earlier minimum is paid; then the statement's own
# due date once past due with less than its minimum paid), days past due from it, and the
# penalty of every day not yet charged, each day rounded half-up on its own.
_PAST_DUE_SQL = """
CREATE TEMP TABLE past_due ON COMMIT DROP AS
SELECT s.id, s.line_id, x.since,
       CASE WHEN x.since IS NULL THEN 0 ELSE %(tomorrow)s::date - x.since END AS dpd,
       CASE WHEN x.since IS NULL THEN 0
            ELSE ROUND((s.parts_due - s.parts_paid + s.purchases_due - s.purchases_paid
                        + s.interest_due - s.interest_paid) * p.penalty_daily_rate, 2)
                 * GREATEST(%(tomorrow)s::date
                            - COALESCE(s.penalty_charged_through, x.since), 0) END AS penalty
FROM lending_statement s
JOIN lending_creditline l ON l.id = s.line_id
JOIN lending_creditproduct p ON p.id = l.product_id
CROSS JOIN LATERAL (SELECT s.penalty_paid + s.interest_paid + s.fees_paid + s.parts_paid
                           + s.purchases_paid AS paid) t
CROSS JOIN LATERAL (SELECT CASE
    WHEN s.overdue_since < s.due_date AND t.paid < s.earlier_minimum_unpaid THEN s.overdue_since
    WHEN s.due_date <= %(tomorrow)s::date - p.grace_days - 1 AND t.paid < s.minimum_due
        THEN s.due_date
    END AS since) x
WHERE s.id = ANY(%(ids)s::bigint[]);

DELETE FROM past_due d USING lending_statement s
WHERE s.id = d.id AND d.since IS NOT DISTINCT FROM s.overdue_since
  AND d.dpd = s.days_past_due AND d.penalty = 0;

UPDATE lending_statement s
SET overdue_since = d.since, days_past_due = d.dpd, penalty_due = s.penalty_due + d.penalty,
    penalty_charged_through = CASE WHEN d.since IS NULL THEN s.penalty_charged_through
                                   ELSE %(tomorrow)s::date END
FROM past_due d WHERE s.id = d.id;

WITH entries AS (
    INSERT INTO lending_journalentry (kind, business_date, line_id, memo, created_at)
    SELECT %(kind)s, %(day)s, line_id, %(memo)s, now() FROM past_due WHERE penalty > 0
    RETURNING id, line_id
)
INSERT INTO lending_posting (entry_id, account_id, line_id, amount)
SELECT e.id, leg.account, e.line_id, leg.amount
FROM entries e JOIN past_due d ON d.line_id = e.line_id
CROSS JOIN LATERAL (VALUES (%(receivable)s::bigint, d.penalty),
                           (%(income)s::bigint, -d.penalty)) AS leg(account, amount);
"""


def _past_due_sql(day, ids) -> int:
    accounts = dict(LedgerAccount.objects.filter(
        code__in=[ledger.PENALTY_RECEIVABLE, ledger.PENALTY_INCOME]).values_list("code", "pk"))
    with connection.cursor() as cursor:
        cursor.execute(_PAST_DUE_SQL, {
            "day": day, "tomorrow": day + timedelta(days=1), "ids": ids_array(ids),
            "kind": PENALTY_KIND, "memo": PENALTY_MEMO,
            "receivable": accounts[ledger.PENALTY_RECEIVABLE],
            "income": accounts[ledger.PENALTY_INCOME]})
        cursor.execute("SELECT count(*) FROM past_due")
        (changed,) = cursor.fetchone()
        cursor.execute("DROP TABLE past_due")
    return changed


def _penalty(statement, since, tomorrow, rate) -> Decimal:
    """The days not yet charged up to `tomorrow`, each at round_half_up(base x rate)."""
    if since is None:
        return ZERO
    first_day = (statement.penalty_charged_through + timedelta(days=1)
                 if statement.penalty_charged_through else since + timedelta(days=1))
    days = (tomorrow - first_day).days + 1
    if days <= 0:
        return ZERO
    base = (statement.parts_due - statement.parts_paid + statement.purchases_due
            - statement.purchases_paid + statement.interest_due - statement.interest_paid)
    return (base * rate).quantize(CENT, ROUND_HALF_UP) * days
