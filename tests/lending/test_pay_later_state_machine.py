"""The pay-later line's invariants under any sequence of what customers, merchants and the close
do: purchases, refunds, payments, conversions (statement and purchase), early settlements and
nights of the close (statement cut, past-due statements, freezes, write-off at 30 or 180 days
past due, after which a payment is a recovery). After every step:

- every journal entry balances;
- the line's principal receivable in the ledger equals its `outstanding_principal`, which is
  never above the limit, never below zero, and equals what the rows say is owed: purchases not
  yet billed, the open statement's unpaid principal, the plans' parts not yet billed;
- `available == max(0, limit - outstanding)`;
- the customers' credit balances in the ledger equal the line's `credit_balance`;
- interest, fees and penalty receivable in the ledger equal what the open statement leaves
  unpaid of them (a paid, rolled or written-off statement owes nothing);
- a written-off line owes what was written off less what was recovered.

Each example opens its own line and runs the close's pay-later steps for that line only, so
examples never see each other's rows."""

from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from core.calendar import business_date_ensure, business_date_today
from lending.errors import LendingError
from lending.models import (
    CreditLine,
    InstalmentPlan,
    LedgerAccount,
    PlanPart,
    Posting,
    Purchase,
    Statement,
    StatementStatus,
)
from lending.models.revolving import LineWriteOff
from lending.selectors import unbalanced_entry_ids
from lending.services import (
    chart_of_accounts_ensure,
    ledger,
    line_pay,
    plan_quote_fingerprint,
    plan_quote_for_purchase,
    plan_quote_for_statement,
    plan_settle_early,
    purchase_convert,
    purchase_create,
    purchase_refund,
    statement_convert,
    statements_cut,
)
from lending.services.freezes import lines_freeze_or_cure
from lending.services.revolving import (
    line_write_off_owed,
    lines_write_off,
    statements_past_due_set,
)
from tests.factories import (
    MerchantFactory,
    PayLaterLineFactory,
    PayLaterProductFactory,
    set_business_date,
)

D = Decimal
ZERO = D("0.00")
cents = st.integers(min_value=1, max_value=250_000).map(lambda c: D(c) / 100)


def line_sum(line_id, code):
    return (Posting.objects.filter(line_id=line_id, account__code=code)
            .aggregate(total=Sum("amount"))["total"] or ZERO)


class PayLaterMachine(RuleBasedStateMachine):
    keys = iter(range(1, 10**9))

    @initialize(statement_day=st.integers(min_value=1, max_value=28),
                write_off_days=st.sampled_from([30, 180]))
    def open_line(self, statement_day, write_off_days):
        set_business_date(date(2026, 1, 5))
        self.shop = MerchantFactory()
        product = PayLaterProductFactory(code=f"paylater-{write_off_days}",
                                         write_off_days=write_off_days)
        self.line = PayLaterLineFactory(product=product, statement_day=statement_day,
                                        opened_on=date(2026, 1, 5))

    def key(self):
        return f"k{next(self.keys)}"

    def fresh_line(self):
        return CreditLine.objects.get(pk=self.line.pk)

    def open_statement(self):
        return Statement.objects.filter(line=self.line, status=StatementStatus.OPEN).first()

    def attempt(self, action):
        """A refusal is an answer, never a broken book: the invariants still hold after it."""
        try:
            return action()
        except LendingError:
            return None

    @rule(amount=cents)
    def buy(self, amount):
        self.attempt(lambda: purchase_create(line=self.line, merchant=self.shop, amount=amount,
                                             order_reference=self.key()))

    @rule(data=st.data())
    def refund(self, data):
        purchases = list(Purchase.objects.filter(line=self.line).order_by("pk"))
        if not purchases:
            return
        purchase = data.draw(st.sampled_from(purchases))
        if purchase.refundable <= 0:
            return
        amount = data.draw(st.integers(min_value=1, max_value=int(purchase.refundable * 100))
                           .map(lambda c: D(c) / 100))
        self.attempt(lambda: purchase_refund(purchase=purchase, amount=amount,
                                             reference=self.key()))

    @rule(share=st.sampled_from(["minimum", "all", "some"]), data=st.data())
    def pay(self, share, data):
        line = self.fresh_line()
        if LineWriteOff.objects.filter(line=line).exists():
            owed = line_write_off_owed(line)
            if owed > 0:
                amount = data.draw(st.integers(min_value=1, max_value=int(owed * 100))
                                   .map(lambda c: D(c) / 100))
                line_pay(line=line, amount=amount, scope="machine", idempotency_key=self.key())
            return
        statement = self.open_statement()
        owed = (statement.balance if statement else ZERO) + sum(
            (p.amount - p.refunded - p.paid_before_billing for p in Purchase.objects.filter(
                line=self.line, statement__isnull=True, plan__isnull=True)), ZERO)
        if owed <= 0:
            return
        amount = {"minimum": statement.minimum_due - statement.total_paid if statement else ZERO,
                  "all": owed,
                  "some": data.draw(st.integers(min_value=1, max_value=int(owed * 100))
                                    .map(lambda c: D(c) / 100))}[share]
        if amount > 0:
            self.attempt(lambda: line_pay(line=self.line, amount=amount, scope="machine",
                                          idempotency_key=self.key()))

    @rule(term=st.sampled_from([3, 6, 9, 12]))
    def convert_statement(self, term):
        statement = self.open_statement()
        if statement is None:
            return
        quote = self.attempt(lambda: plan_quote_for_statement(statement=statement,
                                                              term_months=term))
        if quote is not None:
            self.attempt(lambda: statement_convert(statement=statement, term_months=term,
                                                   shown=plan_quote_fingerprint(quote)))

    @rule(term=st.sampled_from([3, 6, 12]), data=st.data())
    def convert_purchase(self, term, data):
        purchases = list(Purchase.objects.filter(line=self.line, plan__isnull=True)
                         .order_by("pk"))
        if not purchases:
            return
        purchase = data.draw(st.sampled_from(purchases))
        quote = self.attempt(lambda: plan_quote_for_purchase(purchase=purchase,
                                                             term_months=term))
        if quote is not None:
            self.attempt(lambda: purchase_convert(purchase=purchase, term_months=term,
                                                  shown=plan_quote_fingerprint(quote)))

    @rule(data=st.data())
    def settle_plan_early(self, data):
        plans = list(InstalmentPlan.objects.filter(line=self.line, status="active")
                     .order_by("pk"))
        if plans:
            plan = data.draw(st.sampled_from(plans))
            self.attempt(lambda: plan_settle_early(plan=plan, scope="machine",
                                                   idempotency_key=self.key()))

    @rule(days=st.integers(min_value=1, max_value=40))
    def nights_pass(self, days):
        """The close's pay-later steps for this line, night after night."""
        for _ in range(days):
            day = business_date_today()
            statements_cut(day=day, first_id=self.line.pk, last_id=self.line.pk)
            statement = self.open_statement()
            if statement is not None:
                statements_past_due_set(day=day, first_id=statement.pk, last_id=statement.pk)
                lines_write_off(day=day, first_id=statement.pk, last_id=statement.pk)
            customer = self.line.customer_id
            lines_freeze_or_cure(day=day, first_id=customer, last_id=customer)
            set_business_date(day + timedelta(days=1))

    @precondition(lambda self: hasattr(self, "line"))
    @invariant()
    def books_agree(self):
        line = self.fresh_line()
        assert unbalanced_entry_ids() == []
        assert ZERO <= line.outstanding_principal <= line.credit_limit
        assert line.available == max(ZERO, line.credit_limit - line.outstanding_principal)
        assert line_sum(line.pk, ledger.PAY_LATER_RECEIVABLE) == line.outstanding_principal
        assert line_sum(line.pk, ledger.CUSTOMER_CREDIT) == -line.credit_balance
        statement = self.open_statement()
        unbilled = sum((p.amount - p.refunded - p.paid_before_billing
                        for p in Purchase.objects.filter(line=line, statement__isnull=True,
                                                         plan__isnull=True)), ZERO)
        scheduled = (PlanPart.objects.filter(plan__line=line, status="scheduled")
                     .aggregate(total=Sum("principal"))["total"] or ZERO)
        billed = statement.principal_unpaid if statement else ZERO
        assert line.outstanding_principal == unbilled + scheduled + billed
        for code, name in ((ledger.INTEREST_RECEIVABLE, "interest"),
                           (ledger.PLAN_FEE_RECEIVABLE, "fees"),
                           (ledger.PENALTY_RECEIVABLE, "penalty")):
            unpaid = (getattr(statement, f"{name}_due") - getattr(statement, f"{name}_paid")
                      if statement else ZERO)
            assert line_sum(line.pk, code) == unpaid, name
        write_off = LineWriteOff.objects.filter(line=line).first()
        if write_off is not None:
            assert line.status == "closed" and statement is None
            assert (line_write_off_owed(line) - line_sum(line.pk, ledger.RECOVERY_INCOME)
                    == write_off.total)


class PayLaterStateMachineTest(TestCase):
    @classmethod
    def setUpTestData(cls):
        # The rows the migrations make, which a transactional test before this one in the same
        # process may have emptied (tests/conftest.py's fixture does not reach a TestCase).
        if not LedgerAccount.objects.exists():
            business_date_ensure()
            chart_of_accounts_ensure()

    def test_the_books_hold_whatever_happens(self):
        run_state_machine_as_test(PayLaterMachine, settings=settings(
            max_examples=25, stateful_step_count=25, deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]))
