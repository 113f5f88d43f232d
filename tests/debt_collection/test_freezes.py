"""The overdue rule's freezes and their cure (lending/services/freezes.py), run by the close step
`freeze_or_cure_lines`.

The loan of tests/operations/test_close.py: 10,000 over 12 monthly instalments from 2026-01-31;
instalment 1 (916.80) falls due 2026-02-28 and, with 3 grace days, is overdue in the close of
Mar 3 (4 days past due on Mar 4)."""

from datetime import date

import pytest

from accounts.models import Notice, NoticeKind
from core.audit import actor_user, audit_chain_verify, audit_trail_of
from core.calendar import business_date_today
from lending.errors import LineNotUsable
from lending.models import CreditLineStatus, Loan
from lending.models.lines import FreezeSource
from lending.selectors import amount_due_on
from lending.services import (
    credit_line_close,
    credit_line_freeze,
    credit_line_unfreeze,
    loan_originate,
    loan_repay,
)
from lending.services.freezes import lines_freeze_or_cure
from operations.nightly_close import business_days_advance
from tests.factories import (
    CashLoanProductFactory,
    CreditLineFactory,
    UserFactory,
    set_business_date,
)

pytestmark = pytest.mark.django_db


def draw(line, key, principal="10000", term=12):
    return loan_originate(line_id=line.pk, principal=principal, term_months=term,
                          method="equal_instalment", idempotency_key=key, scope="test")


@pytest.fixture
def lines(line):
    """The customer's cash line, with a loan from 2026-01-31, and a second line on another
    product, unused."""
    other = CreditLineFactory(customer=line.customer,
                              product=CashLoanProductFactory(code="cash-b", name="Cash plus"))
    set_business_date(date(2026, 1, 31))
    loan = draw(line, "loan")
    return line, other, loan


def states(*lines):
    for line in lines:
        line.refresh_from_db()
    return [(line.status, line.frozen_by, line.freeze_reason) for line in lines]


def pay_what_is_due(loan, key):
    loan_repay(loan_id=loan.pk, amount=amount_due_on(loan, business_date_today()),
               idempotency_key=key, scope="test")


def overdue_freeze(loan):
    return (CreditLineStatus.FROZEN, FreezeSource.OVERDUE, f"Payment overdue on loan {loan.pk}")


def test_an_overdue_loan_freezes_every_line_of_its_customer_with_a_reason(lines):
    line, other, loan = lines
    bystander = CreditLineFactory()
    set_business_date(date(2026, 3, 2))
    business_days_advance(days=1)  # close of Mar 2: still within the grace days
    assert states(line, other) == [(CreditLineStatus.ACTIVE, "", "")] * 2
    business_days_advance(days=1)  # close of Mar 3: overdue on Mar 4
    assert states(line, other) == [overdue_freeze(loan)] * 2
    assert states(bystander) == [(CreditLineStatus.ACTIVE, "", "")]
    with pytest.raises(LineNotUsable):
        draw(other, "refused", principal="1000", term=3)
    for frozen in (line, other):
        [event] = [e for e in audit_trail_of("line", frozen.pk) if e.action == "line.freeze"]
        assert (event.actor_kind, event.actor_id) == ("system", "freeze_overdue")
        assert event.payload["reason"] == f"Payment overdue on loan {loan.pk}"
        assert event.payload["frozen_by"] == "overdue"
        assert event.payload["business_date"] == "2026-03-03"
    notice = Notice.objects.get(customer=line.customer, kind=NoticeKind.ACCOUNT)
    assert notice.key == "lines:frozen:2026-03-03"
    assert notice.business_date == date(2026, 3, 4)
    assert f"loan {loan.pk} is overdue" in notice.body
    assert "Cash loan and Cash plus lines are frozen" in notice.body
    assert audit_chain_verify() is None


def test_the_step_run_again_changes_nothing(lines):
    line, other, loan = lines
    set_business_date(date(2026, 3, 3))
    business_days_advance(days=1)
    events = len(audit_trail_of("line", line.pk))
    assert lines_freeze_or_cure(day=date(2026, 3, 3)) == 0
    assert lines_freeze_or_cure(day=date(2026, 3, 4)) == 0
    assert len(audit_trail_of("line", line.pk)) == events
    assert Notice.objects.filter(customer=line.customer).count() == 1


def test_lines_frozen_by_the_rule_open_again_when_nothing_is_overdue(lines):
    line, other, loan = lines
    set_business_date(date(2026, 3, 3))
    business_days_advance(days=2)  # frozen in the close of Mar 3, still on Mar 4
    assert states(line, other) == [overdue_freeze(loan)] * 2
    pay_what_is_due(loan, "pay")
    business_days_advance(days=1)  # close of Mar 5: nothing overdue any more
    assert states(line, other) == [(CreditLineStatus.ACTIVE, "", "")] * 2
    event = list(audit_trail_of("line", other.pk))[-1]
    assert (event.action, event.actor_id) == ("line.unfreeze", "freeze_overdue")
    assert event.payload["was_frozen_by"] == "overdue"
    notice = Notice.objects.get(customer=line.customer, key="lines:unfrozen:2026-03-05")
    assert "open again" in notice.body
    assert draw(other, "after-cure", principal="1000", term=3).line_id == other.pk


def test_an_officers_freeze_holds_after_the_cure(lines):
    line, other, loan = lines
    officer = UserFactory(username="officer-f")
    credit_line_freeze(line_id=other.pk, reason="Suspected fraud", actor=actor_user(officer))
    set_business_date(date(2026, 3, 3))
    business_days_advance(days=1)
    # The officer's freeze is left as it is; the active line is frozen by the rule.
    assert states(line, other) == [
        overdue_freeze(loan), (CreditLineStatus.FROZEN, FreezeSource.OFFICER, "Suspected fraud")]
    # An officer's freeze takes over the rule's.
    credit_line_freeze(line_id=line.pk, reason="Customer under review",
                       actor=actor_user(officer))
    assert states(line)[0] == (CreditLineStatus.FROZEN, FreezeSource.OFFICER,
                               "Customer under review")
    event = list(audit_trail_of("line", line.pk))[-1]
    assert (event.action, event.payload["was_frozen_by"]) == ("line.freeze", "overdue")
    pay_what_is_due(loan, "pay")
    business_days_advance(days=3)
    assert states(line, other) == [
        (CreditLineStatus.FROZEN, FreezeSource.OFFICER, "Customer under review"),
        (CreditLineStatus.FROZEN, FreezeSource.OFFICER, "Suspected fraud")]
    assert not Notice.objects.filter(key__startswith="lines:unfrozen").exists()
    # Only an officer lifts it, and that clears who froze it and why.
    credit_line_unfreeze(line_id=other.pk, reason="Cleared", actor=actor_user(officer))
    assert states(other) == [(CreditLineStatus.ACTIVE, "", "")]


def test_an_officer_lifting_the_rules_freeze_early_sees_it_return_while_overdue(lines):
    line, other, loan = lines
    officer = UserFactory(username="officer-g")
    set_business_date(date(2026, 3, 3))
    business_days_advance(days=1)
    credit_line_unfreeze(line_id=line.pk, reason="Goodwill", actor=actor_user(officer))
    assert states(line) == [(CreditLineStatus.ACTIVE, "", "")]
    business_days_advance(days=1)
    assert states(line) == [overdue_freeze(loan)]


def test_closing_a_frozen_line_clears_who_froze_it(lines):
    line, other, loan = lines
    set_business_date(date(2026, 3, 3))
    business_days_advance(days=1)
    credit_line_close(line_id=other.pk, reason="Customer asked", actor=actor_user(UserFactory()))
    assert states(other) == [(CreditLineStatus.CLOSED, "", "")]


def test_a_written_off_loan_keeps_the_lines_frozen_and_chunks_keep_to_their_customers(lines):
    line, other, loan = lines
    elsewhere = CreditLineFactory()
    set_business_date(date(2026, 1, 31))
    other_loan = draw(elsewhere, "elsewhere")
    # Stand-ins for the write-off step's work: the rule reads only the loan's status.
    Loan.objects.filter(pk__in=[loan.pk, other_loan.pk]).update(status="written_off")
    customers = [line.customer_id, elsewhere.customer_id]
    first = min(customers)
    assert lines_freeze_or_cure(day=date(2026, 1, 31), first_id=first, last_id=first) >= 1
    frozen_customer = line if line.customer_id == first else elsewhere
    untouched = elsewhere if frozen_customer is line else line
    assert states(frozen_customer)[0][:2] == (CreditLineStatus.FROZEN, FreezeSource.OVERDUE)
    assert states(untouched)[0][0] == CreditLineStatus.ACTIVE
