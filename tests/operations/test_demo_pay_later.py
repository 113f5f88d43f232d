"""The demo's pay-later stories (operations/demo_pay_later.py), aged by the real nightly close
on their own: the same checks run on the whole demo in test_seed_demo.py."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum

from core.calendar import business_date_today
from lending.models import (
    CreditLine,
    CreditLineStatus,
    PayLaterPaymentKind,
    PlanSource,
    Posting,
    Refund,
    StatementStatus,
)
from lending.selectors import unbalanced_entry_ids
from lending.services import ledger
from operations.demo_merchant import demo_merchant_seed
from operations.demo_pay_later import LIMITS, PayLaterDemo, statement_day_for
from operations.nightly_close import business_days_advance
from tests.factories import UserFactory, set_business_date


def pay_later_stories_check():
    """Each demo customer's pay-later story is on the book as the demo tells it."""
    lines = {
        line.customer.username: line
        for line in CreditLine.objects.filter(product__code="paylater").select_related("customer")
    }
    assert set(lines) == set(LIMITS)
    today = business_date_today()

    # Paid in full by every due date: three statements, no interest ever.
    full = lines["customer01"].statements.order_by("seq")
    assert full.count() == 3
    for statement in full:
        assert statement.status == StatementStatus.PAID
        assert statement.paid_on <= statement.due_date and statement.interest_due == 0

    # The minimum only: the rest revolves, with interest on the next statement, never late.
    minimum = list(lines["customer02"].statements.order_by("seq"))
    assert len(minimum) == 3
    for statement in minimum[1:]:
        assert statement.revolved_principal > 0 and statement.interest_due > 0
    assert all(s.days_past_due == 0 and s.overdue_since is None for s in minimum)

    # A statement converted into six parts (账单分期); its parts billed on the next one.
    plan = lines["customer03"].plans.get()
    assert (plan.source, plan.term_months, plan.statement.seq) == (PlanSource.STATEMENT, 6, 2)
    assert plan.parts.filter(status="billed").count() == 1 and plan.fee_total > 0

    # The demo customer: purchases, a purchase converted (交易分期), statements paid, and
    # the last one to pay by a due date still ahead.
    demo = lines["demo"]
    assert demo.purchases.count() >= 10
    plan = demo.plans.get()
    assert (plan.source, plan.term_months) == (PlanSource.PURCHASE, 6)
    assert plan.parts.filter(status="billed").count() == 2
    statements = list(demo.statements.order_by("seq"))
    assert [s.status for s in statements[-3:]] == [
        StatementStatus.PAID,
        StatementStatus.PAID,
        StatementStatus.OPEN,
    ]
    last = statements[-1]
    assert last.due_date >= today and last.minimum_due > 0 and last.parts_due > 0

    # Refunds: off a billed purchase on an open statement, on a paid statement (a credit
    # balance that paid the next statement, 200.00 left over), before billing.
    refunds = Refund.objects.filter(purchase__line=lines["customer04"])
    assert refunds.filter(to_statement=Decimal("200.00")).exists()
    assert refunds.filter(to_credit=Decimal("1099.00")).exists()
    assert refunds.filter(unbilled=Decimal("259.00")).exists()
    assert lines["customer04"].credit_balance == Decimal("200.00")
    assert (
        lines["customer04"]
        .payments.filter(kind=PayLaterPaymentKind.CREDIT_APPLIED, amount=Decimal("899.00"))
        .exists()
    )

    # Past due: penalty, more than a month late, the customer's lines frozen.
    late = lines["customer20"]
    statement = late.statements.get(status=StatementStatus.OPEN)
    assert statement.days_past_due > 30 and statement.penalty_due > 0
    assert set(
        CreditLine.objects.filter(customer=late.customer).values_list("status", flat=True)
    ) == {CreditLineStatus.FROZEN}

    # The ledger: balanced, and each line's principal owed is its receivable.
    assert unbalanced_entry_ids() == []
    for line in lines.values():
        receivable = Posting.objects.filter(
            line=line, account__code=ledger.PAY_LATER_RECEIVABLE
        ).aggregate(s=Sum("amount"))["s"]
        assert receivable == line.outstanding_principal


@pytest.mark.parametrize("end", [date(2026, 12, 5), date(2027, 3, 31)], ids=["5th", "31st"])
def test_a_statement_day_leaves_the_last_cut_a_week_before_the_end(end):
    day = statement_day_for(end)
    assert 1 <= day <= 28
    last_cut = max(
        end - timedelta(days=n) for n in range(1, 32) if (end - timedelta(days=n)).day == day
    )
    assert 6 <= (end - last_cut).days <= 9  # its due date, 9 days on, is not behind the end


@pytest.mark.django_db
def test_the_pay_later_stories_aged_by_the_close():
    first_day, days = date(2026, 6, 20), 100
    set_business_date(first_day)
    for username in LIMITS:
        UserFactory(username=username)
    demo_merchant_seed()
    stories = PayLaterDemo(first_day=first_day, end=first_day + timedelta(days=days))
    for _ in range(days):
        stories.work_day(business_date_today())
        business_days_advance(days=1)
    assert not stories.agenda  # every step ran
    pay_later_stories_check()
