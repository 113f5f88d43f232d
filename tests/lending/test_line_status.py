"""A line's status moves only through its services, along the transition map, each move audited
on the line's chain."""

import pytest

from core.audit import actor_system, actor_user, audit_chain_verify, audit_trail_of
from lending.errors import LendingError, LineNotUsable, TransitionRefused
from lending.models import CreditLineStatus, LoanStatus
from lending.rules.status import LINE_TRANSITIONS, LOAN_TRANSITIONS, transition_check
from lending.services import (
    credit_line_close,
    credit_line_freeze,
    credit_line_unfreeze,
    loan_originate,
    loan_payoff_amount,
    loan_repay,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SYSTEM = actor_system("tests")


def draw(line, key):
    return loan_originate(line_id=line.pk, principal="1000", term_months=3,
                          method="equal_instalment", idempotency_key=key, scope="test")


def test_freeze_stops_draws_and_unfreeze_restores_them(line):
    officer = UserFactory(username="officer-a")
    credit_line_freeze(line_id=line.pk, reason="Suspected fraud", actor=actor_user(officer))
    line.refresh_from_db()
    assert line.status == CreditLineStatus.FROZEN
    with pytest.raises(LineNotUsable):
        draw(line, "k1")
    credit_line_unfreeze(line_id=line.pk, reason="Cleared", actor=actor_user(officer))
    assert draw(line, "k2").line_id == line.pk
    actions = [(e.action, e.actor_label, e.payload.get("reason"))
               for e in audit_trail_of("line", line.pk)]
    assert actions == [("line.freeze", "officer-a", "Suspected fraud"),
                       ("line.unfreeze", "officer-a", "Cleared")]
    assert audit_chain_verify() is None


def test_a_closed_line_never_opens_again(line):
    credit_line_close(line_id=line.pk, reason="Customer asked", actor=SYSTEM)
    with pytest.raises(TransitionRefused, match="closed to active"):
        credit_line_unfreeze(line_id=line.pk, reason="Oops", actor=SYSTEM)
    with pytest.raises(TransitionRefused):
        credit_line_freeze(line_id=line.pk, reason="Oops", actor=SYSTEM)
    line.refresh_from_db()
    assert line.status == CreditLineStatus.CLOSED
    assert [e.action for e in audit_trail_of("line", line.pk)] == ["line.close"]


def test_a_status_change_needs_a_reason_and_staying_put_records_nothing(line):
    with pytest.raises(LendingError, match="reason"):
        credit_line_freeze(line_id=line.pk, reason="  ", actor=SYSTEM)
    credit_line_unfreeze(line_id=line.pk, reason="Already active", actor=SYSTEM)
    assert not audit_trail_of("line", line.pk).exists()


def test_every_status_in_the_maps_has_an_entry_and_unknown_moves_are_refused():
    assert set(LINE_TRANSITIONS) == set(CreditLineStatus)
    assert set(LOAN_TRANSITIONS) == set(LoanStatus)
    with pytest.raises(TransitionRefused):
        transition_check(LOAN_TRANSITIONS, LoanStatus.PAID_OFF, LoanStatus.ACTIVE, what="loan")


def test_origination_and_repayments_are_on_the_loan_chain_with_their_caller(line):
    customer = line.customer
    loan = loan_originate(line_id=line.pk, principal="1000", term_months=3,
                          method="equal_instalment", idempotency_key="a",
                          scope=f"user:{customer.pk}")
    loan_repay(loan_id=loan.pk, amount=loan_payoff_amount(loan), idempotency_key="b",
               scope=f"user:{customer.pk}")
    events = list(audit_trail_of("loan", loan.pk))
    assert [(e.action, e.actor_kind, e.actor_id) for e in events] == [
        ("loan.originate", "user", str(customer.pk)), ("loan.repay", "user", str(customer.pk))]
    assert events[0].payload["principal"] == "1000.00"
    assert events[1].payload["status"] == LoanStatus.PAID_OFF
    # A replay books nothing and so records nothing.
    loan_originate(line_id=line.pk, principal="1000", term_months=3, method="equal_instalment",
                   idempotency_key="a", scope=f"user:{customer.pk}")
    assert audit_trail_of("loan", loan.pk).count() == 2
    assert audit_chain_verify() is None
