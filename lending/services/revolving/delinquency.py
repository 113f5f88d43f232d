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

from django.db import transaction

from core.batch import rows_update

from ...models import Statement, StatementStatus
from ...rules.delinquency import days_past_due
from ...rules.statements import overdue_since
from .. import ledger
from .common import ZERO

CENT = Decimal("0.01")


def statements_past_their_due_date(day) -> list[int]:
    """The step's ids: open statements whose due date has passed (a small slice: a statement
    stays open past its due date only when it was not paid in full)."""
    return list(Statement.objects.filter(status=StatementStatus.OPEN, due_date__lt=day)
                .order_by("pk").values_list("pk", flat=True))


def statements_past_due_set(*, day, first_id=None, last_id=None) -> int:
    """Days past due and penalty of the open statements from `first_id` to `last_id` (see the
    module's doc); returns how many statements changed."""
    tomorrow = day + timedelta(days=1)
    statements = Statement.objects.filter(status=StatementStatus.OPEN, due_date__lt=day)
    if first_id is not None:
        statements = statements.filter(pk__gte=first_id, pk__lte=last_id)
    with transaction.atomic():
        changed, batch = [], ledger.JournalBatch(day)
        for statement in (statements.select_for_update(of=("self",))
                          .select_related("line__product").order_by("pk")):
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
                batch.add(kind="penalty_accrual", line_id=statement.line_id,
                          memo="Penalty interest on a past-due statement",
                          legs=[(ledger.PENALTY_RECEIVABLE, penalty),
                                (ledger.PENALTY_INCOME, -penalty)])
        rows_update(Statement, ["overdue_since", "days_past_due", "penalty_due",
                                "penalty_charged_through"], changed)
        batch.post()
    return len(changed)


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
