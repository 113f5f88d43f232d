"""Penalty waivers (减免罚息): lending/services/waiver.py.

The loan: 1,200.00 over 6 equal-principal months from 2026-01-15 at 0.0005 a day. Instalment 1
(200.00 + 1200 x 0.0005 x 31 = 18.60 -> 218.60) falls due Feb 15, turns overdue with 3 grace
days in the close of Feb 18 and is charged penalty at 0.0005 a day on its 218.60: 0.1093 ->
0.11 a day (lending/services/penalty.py)."""

from datetime import date
from decimal import Decimal

import pytest
from django.db.models import Sum

from accounts.models import Notice
from core.audit import actor_user, audit_trail_of
from core.errors import DomainError
from lending.errors import LendingError
from lending.models import Instalment, JournalEntry, PenaltyWaiver, Posting
from lending.selectors import unbalanced_entry_ids
from lending.services import ledger, loan_originate, loan_penalty_waive
from lending.services.penalty import penalty_receivable_by_loan
from operations.nightly_close import business_days_advance
from tests.factories import UserFactory, set_business_date

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def officer(db):
    return UserFactory(username="officer", is_staff=True)


@pytest.fixture
def overdue_loan(line):
    """On Feb 20 instalment 1 has been charged Feb 16 .. Feb 20: 5 x 0.11 = 0.55."""
    set_business_date(date(2026, 1, 15))
    loan = loan_originate(line_id=line.pk, principal="1200", term_months=6,
                          method="equal_principal", idempotency_key="loan", scope="test")
    set_business_date(date(2026, 2, 15))
    business_days_advance(days=5)  # closes of Feb 15 .. Feb 19
    return loan


def penalty_income():
    total = Posting.objects.filter(account__code=ledger.PENALTY_INCOME).aggregate(
        t=Sum("amount"))["t"]
    return -(total or D("0"))


def test_waiving_all_the_penalty(overdue_loan, officer):
    assert penalty_receivable_by_loan([overdue_loan.pk])[overdue_loan.pk] == D("0.55")
    income_before = penalty_income()
    waiver = loan_penalty_waive(loan_id=overdue_loan.pk, reason="Hospital stay",
                                actor=actor_user(officer))
    assert (waiver.amount, waiver.by_instalment, waiver.officer) == (
        D("0.55"), {"1": "0.55"}, officer)
    assert Instalment.objects.get(loan=overdue_loan, seq=1).penalty_due == 0
    # Dr penalty income 0.55, Cr penalty receivable 0.55.
    assert penalty_receivable_by_loan([overdue_loan.pk]) == {}
    assert income_before - penalty_income() == D("0.55")
    entry = JournalEntry.objects.get(kind="penalty_waiver", loan=overdue_loan)
    assert sorted((p.account.code, p.amount) for p in entry.postings.all()) == [
        (ledger.PENALTY_INCOME, D("0.55")), (ledger.PENALTY_RECEIVABLE, D("-0.55"))]
    assert unbalanced_entry_ids() == []
    assert audit_trail_of("loan", overdue_loan.pk).last().action == "loan.waive_penalty"
    notice = Notice.objects.get(key__contains="penalty_waiver")
    assert "0.55" in notice.body and "No late-payment interest is owed" in notice.body


def test_waiving_part_of_the_penalty_and_refusing_more_than_is_owed(overdue_loan, officer):
    actor = actor_user(officer)
    waiver = loan_penalty_waive(loan_id=overdue_loan.pk, amount="0.20", reason="Goodwill",
                                actor=actor)
    assert waiver.amount == D("0.20")
    # 0.55 - 0.20 = 0.35 still owed, on the books and on instalment 1.
    assert penalty_receivable_by_loan([overdue_loan.pk])[overdue_loan.pk] == D("0.35")
    assert Instalment.objects.get(loan=overdue_loan, seq=1).penalty_due == D("0.35")
    with pytest.raises(LendingError, match="Only 0.35 of penalty interest is unpaid"):
        loan_penalty_waive(loan_id=overdue_loan.pk, amount="0.36", reason="r", actor=actor)
    with pytest.raises(DomainError, match="greater than zero"):
        loan_penalty_waive(loan_id=overdue_loan.pk, amount="0", reason="r", actor=actor)
    with pytest.raises(LendingError, match="reason is required"):
        loan_penalty_waive(loan_id=overdue_loan.pk, reason="", actor=actor)
    assert PenaltyWaiver.objects.count() == 1
    loan_penalty_waive(loan_id=overdue_loan.pk, amount="0.35", reason="r", actor=actor)
    with pytest.raises(LendingError, match="owes no penalty"):
        loan_penalty_waive(loan_id=overdue_loan.pk, reason="r", actor=actor)
    assert unbalanced_entry_ids() == []


def test_the_admin_waives_penalty_and_writes_off(overdue_loan):
    from django.contrib.auth.models import Permission
    from django.test import Client

    from accounts.services import staff_user_create
    from lending.models import Loan

    user = staff_user_create(username="officer2", password="x")
    for codename in ("view_loan", "waive_penalty_loan", "write_off_loan"):
        user.user_permissions.add(Permission.objects.get(content_type__app_label="lending",
                                                         codename=codename))
    client = Client()
    client.force_login(user)
    url = "/admin/lending/loan/"
    form = client.post(url, {"action": "waive_penalty", "_selected_action": overdue_loan.pk,
                             "index": 0})
    assert 'data-testid="unpaid-penalty">0.55' in form.content.decode()
    done = client.post(url, {"action": "waive_penalty", "_selected_action": overdue_loan.pk,
                             "apply": "yes", "amount": "0.25", "reason": "Goodwill"})
    assert done.status_code == 302
    assert PenaltyWaiver.objects.get().amount == D("0.25")
    done = client.post(url, {"action": "write_off", "_selected_action": overdue_loan.pk,
                             "apply": "yes", "reason": "Fraud confirmed"})
    assert done.status_code == 302
    assert Loan.objects.get(pk=overdue_loan.pk).status == "written_off"


def test_penalty_carried_over_by_an_extension_can_be_waived(overdue_loan, officer):
    from lending.services import loan_term_extend

    actor = actor_user(officer)
    loan_term_extend(loan_id=overdue_loan.pk, extra_months=1, reason="Illness", actor=actor)
    carried = Instalment.objects.get(loan=overdue_loan, carried=True)
    assert carried.penalty_due == D("0.55")
    waiver = loan_penalty_waive(loan_id=overdue_loan.pk, reason="Illness", actor=actor)
    carried.refresh_from_db()
    assert (waiver.by_instalment, carried.penalty_due) == ({str(carried.seq): "0.55"}, 0)
    assert penalty_receivable_by_loan([overdue_loan.pk]) == {}
    assert unbalanced_entry_ids() == []
