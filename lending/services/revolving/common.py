"""What the pay-later services share: locking a line, its open statement, a statement's
minimum and the bookkeeping that follows a change of its amounts."""

from decimal import Decimal

from django.db.models import F
from django.db.models.functions import Round
from django.utils.translation import gettext as _

from ...errors import LineNotUsable
from ...models import CreditLine, ProductKind, Statement, StatementCredit, StatementStatus
from ...rules.statements import minimum_payment

ZERO = Decimal("0.00")


def pay_later_line_lock(line_id: int) -> CreditLine:
    """The line, locked (the first lock of every pay-later change: docs/architecture.md,
    "Transactions and locks"); refused unless it is a pay-later line."""
    line = (CreditLine.objects.select_for_update(of=("self",)).select_related("product")
            .get(pk=line_id))
    if line.product.kind != ProductKind.PAY_LATER:
        raise LineNotUsable(_("This is not a pay-later line."), translated=True)
    return line


def open_statement_lock(line_id: int) -> Statement | None:
    return (Statement.objects.select_for_update().filter(line_id=line_id,
                                                          status=StatementStatus.OPEN).first())


def statement_minimum(statement: Statement, product) -> Decimal:
    """The statement's minimum payment with its amounts as they stand now (a refund or a
    conversion after the cut lowers it): `lending.rules.statements.minimum_payment`."""
    new_charges = {
        # What the statement billed itself: its amounts due less what it carried.
        "fees": statement.fees_due, "interest": statement.interest_due,
        "penalty": statement.penalty_due,
    }
    return minimum_payment(
        rate=product.minimum_payment_rate,
        new_purchases=max(statement.new_purchases - statement.refunded - statement.converted,
                          ZERO),
        revolved_principal=statement.revolved_principal, parts=statement.parts_due,
        carried_charges=statement.carried_charges,
        earlier_minimum_unpaid=statement.earlier_minimum_unpaid,
        balance=statement.total_due, **new_charges)


def statement_settle_if_paid(statement: Statement, day) -> None:
    """A statement whose balance reached zero is paid (on `day`: interest-free if that is by
    its due date) and current."""
    if statement.status == StatementStatus.OPEN and statement.balance == 0:
        statement.status = StatementStatus.PAID
        statement.paid_on = day
        statement.overdue_since = None
        statement.days_past_due = 0


def statement_principal_credit(statement: Statement, day, principal: Decimal) -> None:
    """Record principal off a statement on `day`: the revolving interest's base falls by it
    from the next day."""
    if principal > 0:
        StatementCredit.objects.create(statement=statement, business_date=day,
                                       principal=principal)


def cents(expression):
    """A money column's new value computed in the database, rounded to the cent: exact on
    PostgreSQL already; on SQLite (the demo), whose arithmetic is floating point, it keeps
    1,000.10 - 1,000.10 from being -0.0000000001 and failing a "not negative" check."""
    return Round(expression, 2)


def line_outstanding_lower(line_id: int, amount: Decimal) -> None:
    if amount:
        CreditLine.objects.filter(pk=line_id).update(
            outstanding_principal=cents(F("outstanding_principal") - amount))
