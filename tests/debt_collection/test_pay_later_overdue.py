"""Pay-later statements through the overdue processing, worked by hand: reminders
(debt_collection/statement_notices.py), write-off and recovery
(lending/services/revolving/write_off.py), the bucket snapshot (debt_collection/snapshots.py)
and the policy's standing (risk/selectors.py).

Every story: a 花呗 line with a 5,000.00 limit opened on 2026-01-10, statement day 1, due 9 days
later (the 10th), 3 grace days, minimum 10 %, revolving interest and penalty 0.05 % a day, the
default reminder points (-3, 0, 1, 7, 30, 60, 90) and write-off at 180 days past due. The close
of business date D speaks of D+1."""

from datetime import date
from decimal import Decimal

import pytest
from django.db.models import Sum

from accounts.models import Notice, NoticeKind
from core.audit import audit_trail_of
from core.calendar import business_date_today
from core.close import close_step_named
from debt_collection.models import BucketSnapshot
from lending.errors import LendingError, Overpayment
from lending.models import (
    CreditLine,
    InstalmentPlan,
    JournalEntry,
    PlanPart,
    Posting,
    Purchase,
    Statement,
    StatementStatus,
)
from lending.models.revolving import LineRecovery, LineWriteOff
from lending.selectors import unbalanced_entry_ids
from lending.services import (
    ledger,
    line_pay,
    plan_quote_fingerprint,
    plan_quote_for_purchase,
    purchase_convert,
    purchase_create,
)
from lending.services.revolving import line_write_off_owed, lines_write_off
from operations.nightly_close import business_days_advance
from risk.policy import policy_evaluate
from risk.selectors import applicant as applicant_read
from tests.factories import (
    CashLoanProductFactory,
    CreditLineFactory,
    MerchantFactory,
    PayLaterLineFactory,
    PayLaterProductFactory,
    set_business_date,
)
from tests.risk.champion import applicant

pytestmark = pytest.mark.django_db
D = Decimal
ZERO = D("0.00")
_orders = iter(range(1, 10_000))


def close_through(day):
    """Run the nightly close of every business date up to and including `day`."""
    business_days_advance(days=(day - business_date_today()).days + 1)


@pytest.fixture
def shop(db):
    return MerchantFactory()


@pytest.fixture
def card(db):
    set_business_date(date(2026, 1, 10))
    return PayLaterLineFactory(opened_on=date(2026, 1, 10))


def buy(card, shop, amount, day):
    set_business_date(day)
    return purchase_create(
        line=card, merchant=shop, amount=amount, order_reference=f"order-{next(_orders)}"
    )


def pay(card, amount, key):
    return line_pay(line=card, amount=amount, scope="test", idempotency_key=key)


def on_line(card, code):
    return (
        Posting.objects.filter(line=card, account__code=code).aggregate(total=Sum("amount"))[
            "total"
        ]
        or ZERO
    )


def reminders(card):
    return {
        n.key.removeprefix(f"dunning:line:{card.pk}:"): n
        for n in Notice.objects.filter(
            kind=NoticeKind.DUNNING, key__startswith=f"dunning:line:{card.pk}:"
        )
    }


# Reminders (催收提醒) -----------------------------------------------------------------------------


def test_each_reminder_point_once_before_on_and_after_the_due_date(card, shop):
    """1,000.00 on Jan 15 and 500.00 on Jan 20: the statement of Feb 1 is 1,500.00, minimum
    150.00, due Feb 10. Nothing is paid. Past due from Feb 14 (after 3 grace days); penalty
    round_half_up(1,500.00 x 0.05 %) = 0.75 a day from Feb 11, so on Feb 17 (7 days past due)
    1,500.00 + 7 x 0.75 = 1,505.25 is owed; the minimum left stays 150.00."""
    buy(card, shop, "1000.00", date(2026, 1, 15))
    buy(card, shop, "500.00", date(2026, 1, 20))
    close_through(date(2026, 2, 16))
    found = reminders(card)
    assert sorted(found) == ["-3:2026-02-10", "0:2026-02-10", "1:2026-02-10", "7:2026-02-10"]
    assert {point: n.business_date for point, n in found.items()} == {
        "-3:2026-02-10": date(2026, 2, 7),
        "0:2026-02-10": date(2026, 2, 10),
        "1:2026-02-10": date(2026, 2, 11),
        "7:2026-02-10": date(2026, 2, 17),
    }
    assert {n.customer_id for n in found.values()} == {card.customer_id}
    assert found["-3:2026-02-10"].body.startswith(
        "Your pay-later statement of ¥1,500.00 is due on 10 February, in 3 days. Pay at least "
        "the minimum of ¥150.00 by then"
    )
    assert "¥1,500.00 is due today, 10 February" in found["0:2026-02-10"].body
    # Day 1 is within the grace days: no penalty yet.
    assert found["1:2026-02-10"].body.startswith(
        "Your pay-later payment was due on 10 February and is now 1 day late. You owe "
        "¥1,500.00; please pay at least ¥150.00"
    )
    assert found["7:2026-02-10"].body.startswith(
        "Your pay-later payment was due on 10 February and is now 7 days late. You owe "
        "¥1,505.25; please pay at least ¥150.00"
    )


def test_the_minimum_carried_to_the_next_statement_keeps_its_reminders_and_never_repeats(
    card, shop
):
    """The 1,000.00 statement of Feb 1 (minimum 100.00) is never paid. The cut of Mar 1 carries
    it into statement 2, still counting from Feb 10: day 30 is Mar 12 and speaks of Feb 10;
    statement 2's own due date, Mar 10, has its -3 and 0 reminders. Rerunning a night's step
    writes nothing."""
    buy(card, shop, "1000.00", date(2026, 1, 15))
    close_through(date(2026, 3, 11))
    assert Statement.objects.get(line=card, seq=2).overdue_since == date(2026, 2, 10)
    assert sorted(reminders(card)) == [
        "-3:2026-02-10",
        "-3:2026-03-10",
        "0:2026-02-10",
        "0:2026-03-10",
        "1:2026-02-10",
        "30:2026-02-10",
        "7:2026-02-10",
    ]
    before = Notice.objects.filter(customer=card.customer).count()
    step = close_step_named("send_statement_reminders")
    assert step.run(date(2026, 3, 11), None, None) == 0
    assert Notice.objects.filter(customer=card.customer).count() == before


def test_a_statement_paid_to_its_minimum_gets_no_more_reminders(card, shop):
    buy(card, shop, "1000.00", date(2026, 1, 15))
    close_through(date(2026, 2, 6))
    assert sorted(reminders(card)) == ["-3:2026-02-10"]
    set_business_date(date(2026, 2, 7))
    pay(card, "100.00", "minimum")
    close_through(date(2026, 2, 20))
    assert sorted(reminders(card)) == ["-3:2026-02-10"]


def test_a_reminder_is_in_the_customers_language(card, shop):
    card.customer.language = "zh-hans"
    card.customer.save(update_fields=["language"])
    buy(card, shop, "1000.00", date(2026, 1, 15))
    close_through(date(2026, 2, 6))
    [notice] = reminders(card).values()
    # Until the catalogue translates the words, the figures already follow the language.
    assert "2月10日" in notice.body


# Write-off (核销) and recovery --------------------------------------------------------------------


def test_written_off_at_180_days_past_due_with_every_receivable_reversed(card, shop):
    """1,000.00 on Jan 15, billed Feb 1 (due Feb 10), never paid: past due from Feb 10; day 180
    is Aug 9, the close of Aug 8.

    Revolving interest, charged at each cut on the 1,000.00 billed the month before (0.50 a
    day): Feb 1-Mar 1 28 days 14.00, Mar 31 days 15.50, Apr 30 days 15.00, May 15.50, Jun 15.00,
    Jul 15.50: 90.50.

    Penalty, round_half_up(principal and interest unpaid x 0.05 %) a day, the base rising with
    each cut's interest:
      Feb 11-Mar 1  19 days x 0.50 (1,000.00)  =  9.50
      Mar 2-Apr 1   31 days x 0.51 (1,014.00)  = 15.81
      Apr 2-May 1   30 days x 0.51 (1,029.50)  = 15.30
      May 2-Jun 1   31 days x 0.52 (1,044.50)  = 16.12
      Jun 2-Jul 1   30 days x 0.53 (1,060.00)  = 15.90
      Jul 2-Aug 1   31 days x 0.54 (1,075.00)  = 16.74
      Aug 2-Aug 9    8 days x 0.55 (1,090.50)  =  4.40
                                                 93.77"""
    buy(card, shop, "1000.00", date(2026, 1, 15))
    close_through(date(2026, 8, 7))
    assert not LineWriteOff.objects.filter(line=card).exists()
    assert Statement.objects.get(line=card, status=StatementStatus.OPEN).days_past_due == 179
    close_through(date(2026, 8, 8))

    write_off = LineWriteOff.objects.get(line=card)
    assert (write_off.business_date, write_off.days_past_due) == (date(2026, 8, 8), 180)
    assert (
        write_off.principal,
        write_off.interest_reversed,
        write_off.fees_reversed,
        write_off.penalty_reversed,
    ) == (D("1000.00"), D("90.50"), ZERO, D("93.77"))
    entry = JournalEntry.objects.get(line=card, kind="write_off")
    assert dict(entry.postings.values_list("account__code", "amount")) == {
        ledger.CREDIT_LOSS: D("1000.00"),
        ledger.PAY_LATER_RECEIVABLE: D("-1000.00"),
        ledger.REVOLVING_INTEREST_INCOME: D("90.50"),
        ledger.INTEREST_RECEIVABLE: D("-90.50"),
        ledger.PENALTY_INCOME: D("93.77"),
        ledger.PENALTY_RECEIVABLE: D("-93.77"),
    }
    for code in (
        ledger.PAY_LATER_RECEIVABLE,
        ledger.INTEREST_RECEIVABLE,
        ledger.PLAN_FEE_RECEIVABLE,
        ledger.PENALTY_RECEIVABLE,
    ):
        assert on_line(card, code) == ZERO, code
    statement = write_off.statement
    assert statement.status == StatementStatus.WRITTEN_OFF
    assert statement.balance == D("1184.27") == write_off.total
    card.refresh_from_db()
    assert (card.status, card.outstanding_principal) == ("closed", ZERO)
    [event] = [e for e in audit_trail_of("line", card.pk) if e.action == "line.write_off"]
    assert event.payload["principal"] == "1000.00"
    assert unbalanced_entry_ids() == []
    # The next closes change nothing: the line is closed and its statement no longer open.
    close_through(date(2026, 8, 10))
    assert LineWriteOff.objects.filter(line=card).count() == 1
    assert lines_write_off(day=date(2026, 8, 8)) == 0


@pytest.fixture
def short_product(db):
    """The pay-later product writing off at 10 days past due, so that a write-off finds a
    purchase not yet billed and a plan's parts not yet billed."""
    return PayLaterProductFactory(code="paylater-short", write_off_days=10)


def test_a_write_off_takes_unbilled_purchases_and_plan_parts_then_payments_are_recoveries(
    short_product, shop
):
    """1,000.00 on Jan 15; 600.00 on Jan 20 converted at once into 3 parts (fee 2.5 % = 15.00:
    200.00 + 5.00 a part). The statement of Feb 1 bills 1,000.00, part 1 (200.00) and its fee
    (5.00), due Feb 10; 300.00 is bought on Feb 5. Nothing is paid: past due from Feb 14,
    penalty 0.60 a day on 1,200.00 from Feb 11; day 10 is Feb 20 (the close of Feb 19):
    penalty 10 x 0.60 = 6.00.

    Written off: principal 1,000.00 + 200.00 billed, 300.00 unbilled, 400.00 of parts not yet
    billed = 1,900.00; fees 5.00 and penalty 6.00 reversed (the parts' unbilled fees, never
    booked, are waived). All of it, 1,911.00, falls due on the written-off statement."""
    set_business_date(date(2026, 1, 10))
    card = PayLaterLineFactory(product=short_product, opened_on=date(2026, 1, 10))
    cash_line = CreditLineFactory(customer=card.customer, product=CashLoanProductFactory())
    buy(card, shop, "1000.00", date(2026, 1, 15))
    in_plan = buy(card, shop, "600.00", date(2026, 1, 20))
    quote = plan_quote_for_purchase(purchase=in_plan, term_months=3)
    plan = purchase_convert(purchase=in_plan, term_months=3, shown=plan_quote_fingerprint(quote))
    close_through(date(2026, 2, 4))
    unbilled = buy(card, shop, "300.00", date(2026, 2, 5))
    close_through(date(2026, 2, 19))

    write_off = LineWriteOff.objects.get(line=card)
    assert (
        write_off.principal,
        write_off.interest_reversed,
        write_off.fees_reversed,
        write_off.penalty_reversed,
        write_off.days_past_due,
    ) == (D("1900.00"), ZERO, D("5.00"), D("6.00"), 10)
    entry = JournalEntry.objects.get(line=card, kind="write_off")
    assert dict(entry.postings.values_list("account__code", "amount")) == {
        ledger.CREDIT_LOSS: D("1900.00"),
        ledger.PAY_LATER_RECEIVABLE: D("-1900.00"),
        ledger.PLAN_FEE_INCOME: D("5.00"),
        ledger.PLAN_FEE_RECEIVABLE: D("-5.00"),
        ledger.PENALTY_INCOME: D("6.00"),
        ledger.PENALTY_RECEIVABLE: D("-6.00"),
    }
    statement = write_off.statement
    assert (
        statement.purchases_due,
        statement.parts_due,
        statement.fees_due,
        statement.penalty_due,
        statement.balance,
    ) == (D("1300.00"), D("600.00"), D("5.00"), D("6.00"), D("1911.00"))
    assert Purchase.objects.get(pk=unbilled.pk).statement_id == statement.pk
    assert set(PlanPart.objects.filter(plan=plan).values_list("status", "statement_id")) == {
        ("billed", Statement.objects.get(line=card, seq=1).pk),
        ("billed", statement.pk),
    }
    assert InstalmentPlan.objects.get(pk=plan.pk).status == "completed"
    card.refresh_from_db()
    assert (card.status, card.outstanding_principal) == ("closed", ZERO)
    for code in (
        ledger.PAY_LATER_RECEIVABLE,
        ledger.PLAN_FEE_RECEIVABLE,
        ledger.PENALTY_RECEIVABLE,
    ):
        assert on_line(card, code) == ZERO, code

    # Nothing more can be bought; the customer's cash line stays frozen as for a written-off
    # loan, night after night.
    with pytest.raises(LendingError):
        buy(card, shop, "10.00", date(2026, 2, 20))
    close_through(date(2026, 2, 21))
    cash_line.refresh_from_db()
    assert cash_line.status == "frozen"

    # Money received afterwards is a recovery: Dr cash, Cr recovery income, the platform's all.
    set_business_date(date(2026, 2, 22))
    recovery = pay(card, "500.00", "after")
    assert isinstance(recovery, LineRecovery) and recovery.amount == D("500.00")
    entry = JournalEntry.objects.get(line=card, kind="recovery")
    assert dict(entry.postings.values_list("account__code", "amount")) == {
        ledger.CASH: D("500.00"),
        ledger.RECOVERY_INCOME: D("-500.00"),
    }
    assert pay(card, "500.00", "after") == recovery  # the same key replays it
    assert line_write_off_owed(CreditLine.objects.get(pk=card.pk)) == D("1411.00")
    with pytest.raises(Overpayment):
        pay(card, "1411.01", "too-much")
    pay(card, "1411.00", "rest")
    with pytest.raises(Overpayment):
        pay(card, "0.01", "nothing-left")
    assert LineRecovery.objects.filter(line=card).count() == 2
    assert on_line(card, ledger.RECOVERY_INCOME) == D("-1911.00")
    assert on_line(card, ledger.PAY_LATER_RECEIVABLE) == ZERO
    assert unbalanced_entry_ids() == []


# Buckets and standing ----------------------------------------------------------------------------


def test_the_bucket_snapshot_counts_pay_later_statements_beside_loans(shop, short_product):
    """Three pay-later lines: one current (its Feb 1 statement of 400.00 paid to its minimum,
    40.00, so 360.00 outstanding), one past due (800.00, 6 days past due on Feb 16) and one
    written off (the short product, 10 days past due on Feb 20: 500.00). Snapshots of the
    closes of Feb 15 and Feb 19."""
    set_business_date(date(2026, 1, 10))
    current = PayLaterLineFactory(opened_on=date(2026, 1, 10))
    late = PayLaterLineFactory(opened_on=date(2026, 1, 10))
    gone = PayLaterLineFactory(opened_on=date(2026, 1, 10), product=short_product)
    buy(current, shop, "400.00", date(2026, 1, 15))
    buy(late, shop, "800.00", date(2026, 1, 15))
    buy(gone, shop, "500.00", date(2026, 1, 15))
    close_through(date(2026, 2, 9))
    set_business_date(date(2026, 2, 10))
    pay(current, "40.00", "minimum")
    close_through(date(2026, 2, 15))

    def snapshot(day, product):
        return {
            s.bucket: (s.loans, s.outstanding_principal)
            for s in BucketSnapshot.objects.filter(business_date=day, product=product)
        }

    assert snapshot(date(2026, 2, 15), current.product) == {
        "current": (1, D("360.00")),
        "M1": (1, D("800.00")),
    }
    assert snapshot(date(2026, 2, 15), short_product) == {"M1": (1, D("500.00"))}
    close_through(date(2026, 2, 19))
    assert snapshot(date(2026, 2, 19), short_product) == {"written_off": (1, D("500.00"))}


def test_a_past_due_statement_or_a_written_off_line_declines_by_policy(shop, short_product):
    customer = applicant()
    set_business_date(date(2026, 1, 10))
    card = PayLaterLineFactory(
        customer=customer, product=short_product, opened_on=date(2026, 1, 10)
    )
    cash = CashLoanProductFactory()

    def failed():
        today = business_date_today()
        profile = applicant_read(customer_id=customer.pk, product=cash, today=today)
        return [
            r.name
            for r in policy_evaluate(profile=profile, product=cash, today=today)
            if not r.passed
        ]

    buy(card, shop, "500.00", date(2026, 1, 15))
    close_through(date(2026, 2, 12))
    assert "nothing_overdue" not in failed()  # within the grace days
    close_through(date(2026, 2, 13))
    assert {"nothing_overdue", "no_frozen_line"} <= set(failed())
    close_through(date(2026, 2, 19))
    assert "nothing_written_off" in failed()
    assert "nothing_overdue" not in failed()  # written off is its own reason
