"""Two ways of writing the simulated history onto the platform, with one interface.

`ServiceBook` calls the lending services one request at a time, exactly as the customer pages
would. `BulkBook` books a whole business day at once through lending's set-based path
(`lending.services.batch`), which is what a population of tens of thousands needs.
`tests/operations/test_simulation.py` runs the same small population through both and compares
every row. Both take the business date from the platform; neither moves it (the close does)."""

from dataclasses import dataclass
from decimal import Decimal

from core.calendar import business_date_today
from core.idempotency import scope_of_user
from lending import services
from lending.models import CreditLine, Loan, LoanStatus
from lending.selectors import amount_due_on
from lending.services.batch import (
    DrawRequest,
    PaymentRequest,
    credit_lines_limit_lower_many,
    loans_originate_many,
    loans_repay_many,
)


@dataclass(frozen=True)
class Draw:
    line: CreditLine
    principal: Decimal
    term_months: int
    method: str


@dataclass(frozen=True)
class Payment:
    """A payment on a loan today: what is due by today, or (payoff) everything that settles it."""

    loan_id: int
    customer_id: int
    payoff: bool = False


def originate_key(line_id):
    return f"sim-loan-{line_id}"


def repay_key(loan_id, day):
    return f"sim-pay-{loan_id}-{day.isoformat()}"


class ServiceBook:
    """One service call per draw, per payment and per limit cut: the reference the bulk book
    must match."""

    def originate(self, draws):
        return [services.loan_originate(
            line_id=d.line.pk, principal=d.principal, term_months=d.term_months,
            method=d.method, idempotency_key=originate_key(d.line.pk),
            scope=scope_of_user(d.line.customer_id)) for d in draws]

    def repay(self, payments):
        today = business_date_today()
        for p in payments:
            loan = Loan.objects.get(pk=p.loan_id)
            if loan.status != LoanStatus.ACTIVE:
                continue
            amount = (services.loan_payoff_amount(loan) if p.payoff
                      else amount_due_on(loan, today))
            if amount > 0:
                services.loan_repay(loan_id=p.loan_id, amount=amount,
                                    idempotency_key=repay_key(p.loan_id, today),
                                    scope=scope_of_user(p.customer_id))

    def limits_lower(self, cuts, *, reason, actor):
        for line_id, new_limit in cuts:
            services.line_limit_lower(line_id=line_id, new_limit=new_limit, reason=reason,
                                      actor=actor)


class BulkBook:
    """A day's draws, payments or limit cuts in one transaction of set-based writes."""

    def originate(self, draws):
        return loans_originate_many([
            DrawRequest(line=d.line, principal=d.principal, term_months=d.term_months,
                        method=d.method, idempotency_key=originate_key(d.line.pk),
                        scope=scope_of_user(d.line.customer_id)) for d in draws])

    def limits_lower(self, cuts, *, reason, actor):
        credit_lines_limit_lower_many(cuts=cuts, reason=reason, actor=actor)

    def repay(self, payments):
        today = business_date_today()
        return loans_repay_many([
            PaymentRequest(loan_id=p.loan_id, idempotency_key=repay_key(p.loan_id, today),
                           scope=scope_of_user(p.customer_id), payoff=p.payoff)
            for p in payments])
