"""The pay-later line's statements, worked by hand (lending/rules/statements.py, plans.py and
lending/services/revolving/).

Every story: a 花呗 line with a 5,000.00 limit, statement day 1, due 9 days later (the 10th),
3 grace days, minimum 10 %, revolving interest 0.05 % a day; merchant fee 0.6 %. The close of
business date D cuts the statement dated D (purchases up to and including D)."""

from datetime import date
from decimal import Decimal

import pytest
from django.db.models import Sum

from core.calendar import business_date_today
from lending.errors import LendingError, Overpayment
from lending.models import (
    CreditLine,
    PlanPart,
    PlanPartStatus,
    Posting,
    Statement,
    StatementStatus,
)
from lending.selectors import unbalanced_entry_ids
from lending.services import (
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
)
from operations.nightly_close import business_days_advance
from tests.factories import MerchantFactory, PayLaterLineFactory, set_business_date

pytestmark = pytest.mark.django_db
D = Decimal


def close_through(day):
    """Run the nightly close of every business date up to and including `day`."""
    days = (day - business_date_today()).days + 1
    business_days_advance(days=days)


def on(day):
    set_business_date(day)


@pytest.fixture
def shop(db):
    return MerchantFactory()


@pytest.fixture
def card(db):
    on(date(2026, 1, 10))
    return PayLaterLineFactory(opened_on=date(2026, 1, 10))


_orders = iter(range(1, 10_000))


def buy(card, shop, amount, day):
    on(day)
    return purchase_create(line=card, merchant=shop, amount=amount,
                           order_reference=f"order-{next(_orders)}")


def pay(card, amount, day, key=None):
    on(day)
    return line_pay(line=card, amount=amount, scope="test",
                    idempotency_key=key or f"pay-{day}-{amount}")


def receivable(card, code=ledger.PAY_LATER_RECEIVABLE):
    return (Posting.objects.filter(line=card, account__code=code)
            .aggregate(total=Sum("amount"))["total"] or D("0"))


def statement(card, seq):
    return Statement.objects.get(line=card, seq=seq)


def assert_books(card):
    card.refresh_from_db()
    assert unbalanced_entry_ids() == []
    assert receivable(card) == card.outstanding_principal
    assert card.available == max(D("0"), card.credit_limit - card.outstanding_principal)


@pytest.fixture
def january(card, shop):
    """1,000.00 on Jan 15 and 500.00 on Jan 20: the statement of Feb 1 bills 1,500.00, due
    Feb 10, minimum 10 % = 150.00."""
    buy(card, shop, "1000.00", date(2026, 1, 15))
    buy(card, shop, "500.00", date(2026, 1, 20))
    close_through(date(2026, 2, 1))
    return statement(card, 1)


def test_a_purchase_uses_the_limit_and_pays_the_merchant_less_its_fee(card, shop):
    buy(card, shop, "1000.00", date(2026, 1, 15))
    card.refresh_from_db()
    assert card.outstanding_principal == D("1000.00")
    assert card.available == D("4000.00")
    # The merchant is paid 1,000.00 less 0.6 % = 994.00; the platform keeps 6.00.
    assert receivable(card, ledger.CASH) == D("-994.00")
    assert receivable(card, ledger.MERCHANT_FEE_INCOME) == D("-6.00")
    assert receivable(card, ledger.MERCHANT_PAYABLE) == D("0")
    assert_books(card)


def test_the_statement_bills_the_cycle_with_its_due_date_and_minimum(january):
    assert january.statement_date == date(2026, 2, 1)
    assert january.period_start == date(2026, 1, 10)
    assert january.due_date == date(2026, 2, 10)
    assert january.new_purchases == D("1500.00")
    assert january.minimum_due == D("150.00")
    assert january.balance == D("1500.00")


def test_a_purchase_on_the_statement_day_is_on_that_statement_and_the_next_day_on_the_next(
        card, shop):
    buy(card, shop, "100.00", date(2026, 2, 1))
    close_through(date(2026, 2, 1))
    buy(card, shop, "200.00", date(2026, 2, 2))
    close_through(date(2026, 3, 1))
    assert statement(card, 1).new_purchases == D("100.00")
    assert statement(card, 2).new_purchases == D("200.00")


def test_paid_in_full_by_the_due_date_costs_nothing(card, january):
    pay(card, "1500.00", date(2026, 2, 10))
    january.refresh_from_db()
    assert january.status == StatementStatus.PAID
    assert january.paid_on == date(2026, 2, 10)
    close_through(date(2026, 3, 1))
    # Nothing new and nothing owed: no statement in March, no interest anywhere.
    assert not Statement.objects.filter(line=card, seq=2).exists()
    assert receivable(card, ledger.REVOLVING_INTEREST_INCOME) == 0
    assert_books(card)
    assert card.outstanding_principal == 0


def test_paid_at_the_minimum_the_rest_revolves_with_interest_from_the_statement_day(
        card, january):
    """150.00 paid on Feb 5 (the minimum). Interest from Feb 1: 1,500.00 for Feb 1..5 (5 days)
    and 1,350.00 for Feb 6..28 (23 days): (7,500 + 31,050) x 0.0005 = 19.275 -> 19.28, charged
    on the statement of Mar 1 with the 1,350.00 revolved. Its minimum: 10 % x 1,350.00 = 135.00
    + the interest 19.28 = 154.28 (the February minimum was paid)."""
    pay(card, "150.00", date(2026, 2, 5))
    january.refresh_from_db()
    assert january.overdue_since is None
    close_through(date(2026, 3, 1))
    january.refresh_from_db()
    assert january.status == StatementStatus.ROLLED
    march = statement(card, 2)
    assert march.revolved_principal == D("1350.00")
    assert march.interest_due == D("19.28")
    assert march.minimum_due == D("154.28")
    assert march.balance == D("1369.28")
    assert march.overdue_since is None
    assert receivable(card, ledger.INTEREST_RECEIVABLE) == D("19.28")
    assert_books(card)


def test_revolving_interest_follows_each_partial_payment(card, january):
    """Paid 150.00 on Feb 5 and 1,000.00 on Feb 20 (after the due date), then the rest,
    350.00, on Feb 25: 1,500.00 x 5 days (Feb 1..5) + 1,350.00 x 15 (Feb 6..20) + 350.00 x 5
    (Feb 21..25) + 0 x 3 (Feb 26..28) = 7,500 + 20,250 + 1,750 = 29,500 x 0.0005 = 14.75."""
    pay(card, "150.00", date(2026, 2, 5))
    pay(card, "1000.00", date(2026, 2, 20))
    pay(card, "350.00", date(2026, 2, 25))
    january.refresh_from_db()
    assert january.status == StatementStatus.PAID and january.paid_on == date(2026, 2, 25)
    close_through(date(2026, 3, 1))
    march = statement(card, 2)
    assert march.interest_due == D("14.75")
    assert march.revolved_principal == 0
    assert march.minimum_due == D("14.75")
    assert_books(card)


def test_below_the_minimum_the_statement_turns_overdue_after_the_grace_days(card, january):
    """100.00 of the 150.00 minimum paid by Feb 10: with 3 grace days it is overdue from the
    close of Feb 13 (business date Feb 14), days past due counted from Feb 10."""
    pay(card, "100.00", date(2026, 2, 10))
    close_through(date(2026, 2, 12))
    january.refresh_from_db()
    assert january.overdue_since is None
    close_through(date(2026, 2, 13))
    january.refresh_from_db()
    assert january.overdue_since == date(2026, 2, 10)
    assert january.days_past_due == 4
    # Penalty on the 1,400.00 unpaid: 0.70 a day for Feb 11..14, the grace days included.
    assert january.penalty_due == D("2.80")
    assert receivable(card, ledger.PENALTY_INCOME) == D("-2.80")
    card.refresh_from_db()
    assert card.status == "frozen"
    # 50.00 more: the penalty first (2.80), then 47.20 of principal; 150.00 paid in all, the
    # minimum, so it is current at once and the freeze is lifted by the next close.
    payment = pay(card, "50.00", date(2026, 2, 14))
    assert (payment.penalty, payment.purchases) == (D("2.80"), D("47.20"))
    january.refresh_from_db()
    assert january.overdue_since is None and january.days_past_due == 0
    close_through(date(2026, 2, 14))
    card.refresh_from_db()
    assert card.status == "active"
    assert_books(card)


def test_more_than_owed_is_refused(card, january, shop):
    buy(card, shop, "200.00", date(2026, 2, 3))
    with pytest.raises(Overpayment, match="1700.00"):
        pay(card, "1700.01", date(2026, 2, 4))
    # All of it, the statement and the unbilled purchase, is accepted.
    pay(card, "1700.00", date(2026, 2, 4))
    assert_books(card)
    assert card.outstanding_principal == 0


def test_a_replayed_payment_pays_once(card, january):
    first = pay(card, "150.00", date(2026, 2, 5), key="same")
    again = pay(card, "150.00", date(2026, 2, 5), key="same")
    assert first.pk == again.pk
    january.refresh_from_db()
    assert january.balance == D("1350.00")


def test_a_statement_converted_into_three_parts(card, january):
    """1,500.00 in 3 at 2.5 %: fee 37.50; parts 500.00 + 12.50 each; APR by IRR of
    (-1500, 512.50 x 3) x 12 = 14.94 % (numpy_financial.irr, not the code under test:
    14.9384). The statement is paid by the conversion, so it is interest-free; each part falls
    on a following statement."""
    on(date(2026, 2, 5))
    quote = plan_quote_for_statement(statement=january, term_months=3)
    assert quote.fee_total == D("37.50")
    assert [(p.principal, p.fee) for p in quote.parts] == [(D("500.00"), D("12.50"))] * 3
    assert quote.apr == D("14.94")
    plan = statement_convert(statement=january, term_months=3,
                             shown=plan_quote_fingerprint(quote))
    january.refresh_from_db()
    assert january.status == StatementStatus.PAID and january.converted == D("1500.00")
    close_through(date(2026, 3, 1))
    march = statement(card, 2)
    assert march.interest_due == 0
    assert (march.parts_due, march.fees_due) == (D("500.00"), D("12.50"))
    assert march.minimum_due == D("512.50")
    assert receivable(card, ledger.PLAN_FEE_INCOME) == D("-12.50")
    pay(card, "512.50", date(2026, 3, 10))
    close_through(date(2026, 5, 1))
    assert PlanPart.objects.filter(plan=plan, status=PlanPartStatus.BILLED).count() == 3
    plan.refresh_from_db()
    assert plan.status == "completed"
    assert receivable(card, ledger.PLAN_FEE_INCOME) == D("-37.50")
    assert_books(card)


def test_a_purchase_converted_into_twelve_parts_with_the_remainders_on_the_last(card, shop):
    """1,000.00 in 12 at 8.8 %: fee 88.00; principal 83.33 x 11 + 83.37, fee 7.33 x 11 + 7.37;
    APR = IRR(-1000, 90.66 x 11, 90.74) x 12 = 15.86 % (numpy_financial: 15.8633)."""
    purchase = buy(card, shop, "1000.00", date(2026, 1, 15))
    quote = plan_quote_for_purchase(purchase=purchase, term_months=12)
    assert quote.fee_total == D("88.00")
    assert [p.principal for p in quote.parts] == [D("83.33")] * 11 + [D("83.37")]
    assert [p.fee for p in quote.parts] == [D("7.33")] * 11 + [D("7.37")]
    assert quote.apr == D("15.86")
    purchase_convert(purchase=purchase, term_months=12, shown=plan_quote_fingerprint(quote))
    close_through(date(2026, 2, 1))
    february = statement(card, 1)
    assert february.new_purchases == 0
    assert (february.parts_due, february.fees_due) == (D("83.33"), D("7.33"))
    assert february.minimum_due == D("90.66")
    card.refresh_from_db()
    assert card.outstanding_principal == D("1000.00")  # the plan's principal still uses the limit
    assert_books(card)


def test_a_stale_conversion_preview_is_refused(card, january):
    on(date(2026, 2, 5))
    quote = plan_quote_for_statement(statement=january, term_months=3)
    pay(card, "100.00", date(2026, 2, 5))
    with pytest.raises(LendingError, match="changed"):
        statement_convert(statement=january, term_months=3, shown=plan_quote_fingerprint(quote))


def test_settling_a_plan_early_pays_principal_only(card, shop):
    """1,200.00 in 3 at 2.5 % (fee 30.00: 10.00 a part). Part 1 billed Feb 1; settled early on
    Feb 3: 800.00, the fees of parts 2 and 3 (20.00) never billed."""
    purchase = buy(card, shop, "1200.00", date(2026, 1, 15))
    quote = plan_quote_for_purchase(purchase=purchase, term_months=3)
    plan = purchase_convert(purchase=purchase, term_months=3, shown=plan_quote_fingerprint(quote))
    close_through(date(2026, 2, 1))
    on(date(2026, 2, 3))
    payment = plan_settle_early(plan=plan, scope="test", idempotency_key="settle")
    assert payment.amount == D("800.00")
    card.refresh_from_db()
    assert card.outstanding_principal == D("400.00")  # part 1, billed and unpaid
    close_through(date(2026, 3, 1))
    assert receivable(card, ledger.PLAN_FEE_INCOME) == D("-10.00")
    assert_books(card)


def test_a_refund_of_an_unbilled_purchase_leaves_the_next_statement(card, shop):
    purchase = buy(card, shop, "1000.00", date(2026, 1, 15))
    on(date(2026, 1, 20))
    refund = purchase_refund(purchase=purchase, amount="300.00", reference="r1")
    assert refund.unbilled == D("300.00")
    close_through(date(2026, 2, 1))
    first = statement(card, 1)
    assert first.new_purchases == D("700.00")
    assert first.minimum_due == D("70.00")
    assert_books(card)


def test_a_refund_of_a_billed_purchase_lowers_the_balance_and_the_minimum(card, shop):
    purchase = buy(card, shop, "1000.00", date(2026, 1, 15))
    close_through(date(2026, 2, 1))
    on(date(2026, 2, 3))
    refund = purchase_refund(purchase=purchase, amount="400.00", reference="r1")
    assert refund.to_statement == D("400.00")
    first = statement(card, 1)
    assert first.balance == D("600.00")
    assert first.minimum_due == D("60.00")
    assert_books(card)


def test_a_refund_on_a_paid_statement_is_a_credit_that_pays_the_next_first(card, shop):
    """1,000.00 billed Feb 1 and paid Feb 5; 250.00 refunded Feb 7 becomes a credit balance.
    400.00 bought Feb 10: the Mar 1 statement bills 400.00 and the credit pays 250.00 of it."""
    purchase = buy(card, shop, "1000.00", date(2026, 1, 15))
    close_through(date(2026, 2, 1))
    pay(card, "1000.00", date(2026, 2, 5))
    on(date(2026, 2, 7))
    refund = purchase_refund(purchase=purchase, amount="250.00", reference="r1")
    assert refund.to_credit == D("250.00")
    card.refresh_from_db()
    assert card.credit_balance == D("250.00")
    buy(card, shop, "400.00", date(2026, 2, 10))
    close_through(date(2026, 3, 1))
    march = statement(card, 2)
    assert march.new_purchases == D("400.00")
    assert march.purchases_paid == D("250.00")
    assert march.balance == D("150.00")
    card.refresh_from_db()
    assert card.credit_balance == 0
    assert receivable(card, ledger.CUSTOMER_CREDIT) == 0
    assert_books(card)


def test_a_refund_on_a_purchase_in_a_plan_shortens_it_and_waives_unbilled_fees(card, shop):
    """1,200.00 in 3 at 2.5 %: 400.00 + 10.00 a part. Part 1 billed Feb 1. 600.00 refunded
    Feb 3: part 3 loses 400.00 (cancelled), part 2 200.00; their fees (20.00) are waived."""
    purchase = buy(card, shop, "1200.00", date(2026, 1, 15))
    quote = plan_quote_for_purchase(purchase=purchase, term_months=3)
    plan = purchase_convert(purchase=purchase, term_months=3, shown=plan_quote_fingerprint(quote))
    close_through(date(2026, 2, 1))
    on(date(2026, 2, 3))
    refund = purchase_refund(purchase=purchase, amount="600.00", reference="r1")
    assert (refund.to_plan, refund.fees_waived) == (D("600.00"), D("20.00"))
    parts = {p.seq: p for p in PlanPart.objects.filter(plan=plan)}
    assert (parts[2].principal, parts[2].fee, parts[2].status) == (D("200.00"), 0, "scheduled")
    assert parts[3].status == PlanPartStatus.CANCELLED
    card.refresh_from_db()
    assert card.outstanding_principal == D("600.00")
    # March: part 2 (200.00, no fee); part 1 and its fee, unpaid, carried over.
    close_through(date(2026, 3, 1))
    march = statement(card, 2)
    assert (march.parts_due, march.revolved_principal, march.fees_due) == (
        D("200.00"), D("400.00"), D("10.00"))
    assert_books(card)


def test_a_refund_is_never_above_what_is_left_and_replays_by_reference(card, shop):
    purchase = buy(card, shop, "100.00", date(2026, 1, 15))
    first = purchase_refund(purchase=purchase, amount="60.00", reference="r1")
    assert purchase_refund(purchase=purchase, amount="60.00", reference="r1").pk == first.pk
    with pytest.raises(LendingError, match="40.00"):
        purchase_refund(purchase=purchase, amount="40.01", reference="r2")


def test_a_purchase_above_available_is_refused(card, shop):
    buy(card, shop, "4000.00", date(2026, 1, 15))
    with pytest.raises(LendingError, match="available"):
        buy(card, shop, "1000.01", date(2026, 1, 16))
    assert CreditLine.objects.get(pk=card.pk).outstanding_principal == D("4000.00")


def test_cutting_twice_changes_nothing(card, january):
    from lending.services import statements_cut
    assert statements_cut(day=date(2026, 2, 1)) == 0
    assert Statement.objects.filter(line=card).count() == 1



def test_an_unpaid_statement_carries_its_lateness_into_the_next(card, january):
    """Nothing paid on the Feb 1 statement (1,500.00, minimum 150.00): past due from Feb 10,
    penalty 1,500.00 x 0.05 % = 0.75 a day for Feb 11 .. Mar 1 (19 days, charged through the
    close of Feb 28) = 14.25. The Mar 1 cut charges interest on 1,500.00 for Feb 1..28:
    28 x 0.75 = 21.00, carries 1,500.00 and the penalty; its minimum is 10 % x 1,500.00 =
    150.00 + interest 21.00 + penalty 14.25 + what is left of the earlier minimum beyond the
    charges carried (150.00 - 14.25 = 135.75) = 321.00. The same night the carried lateness
    counts on: 20 days past due on Mar 2, and one more day of penalty on 1,521.00 (principal
    and interest): 0.7605 -> 0.76."""
    close_through(date(2026, 3, 1))
    january.refresh_from_db()
    assert january.status == StatementStatus.ROLLED
    assert january.penalty_due == D("14.25")
    march = statement(card, 2)
    assert (march.revolved_principal, march.interest_due) == (D("1500.00"), D("21.00"))
    assert march.carried_charges == D("14.25")
    assert march.earlier_minimum_unpaid == D("150.00")
    assert march.minimum_due == D("321.00")
    assert march.overdue_since == date(2026, 2, 10)
    assert march.days_past_due == 20
    assert march.penalty_due == D("15.01")
    assert receivable(card, ledger.PENALTY_RECEIVABLE) == D("15.01")
    # 150.00 pays what was past due (penalty first): current again, though the March minimum
    # is not paid yet, as its own due date has not come.
    pay(card, "150.00", date(2026, 3, 2))
    march.refresh_from_db()
    assert march.overdue_since is None and march.days_past_due == 0
    assert_books(card)


def test_a_refund_of_a_purchase_paid_early_comes_back_as_a_credit_balance(card, shop):
    """100.00 bought Jan 15 and paid Jan 16, before any statement; the merchant refunds 40.00
    on Jan 17: nothing is left to bill on it, so the 40.00 is the customer's credit balance,
    and no longer counts as paid early."""
    purchase = buy(card, shop, "100.00", date(2026, 1, 15))
    pay(card, "100.00", date(2026, 1, 16))
    on(date(2026, 1, 17))
    refund = purchase_refund(purchase=purchase, amount="40.00", reference="r1")
    assert (refund.unbilled, refund.to_credit) == (0, D("40.00"))
    purchase.refresh_from_db()
    assert (purchase.refunded, purchase.paid_before_billing) == (D("40.00"), D("60.00"))
    card.refresh_from_db()
    assert card.credit_balance == D("40.00")
    assert_books(card)
    assert receivable(card, ledger.CUSTOMER_CREDIT) == D("-40.00")


def test_a_refund_of_a_billed_purchase_paid_in_part_early_credits_the_part_paid_early(
        card, shop):
    """100.00 bought Jan 15, 30.00 of it paid Jan 16, 500.00 bought Jan 18: the Feb 1
    statement bills 70.00 + 500.00 = 570.00. The merchant refunds the whole 100.00 on Feb 3:
    the 70.00 billed comes off the statement (balance 500.00, minimum 10 % = 50.00) and the
    30.00 paid early is the customer's credit balance; the other purchase keeps its 500.00
    owed."""
    purchase = buy(card, shop, "100.00", date(2026, 1, 15))
    pay(card, "30.00", date(2026, 1, 16))
    buy(card, shop, "500.00", date(2026, 1, 18))
    close_through(date(2026, 2, 1))
    assert statement(card, 1).balance == D("570.00")
    on(date(2026, 2, 3))
    refund = purchase_refund(purchase=purchase, amount="100.00", reference="r1")
    assert (refund.to_statement, refund.to_credit) == (D("70.00"), D("30.00"))
    first = statement(card, 1)
    assert (first.balance, first.minimum_due) == (D("500.00"), D("50.00"))
    purchase.refresh_from_db()
    assert (purchase.refunded, purchase.paid_before_billing) == (D("100.00"), D("0.00"))
    card.refresh_from_db()
    assert (card.credit_balance, card.outstanding_principal) == (D("30.00"), D("500.00"))
    assert_books(card)
