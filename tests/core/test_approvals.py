"""Maker-checker (core.approvals), through lending's limit changes (lending/approvals.py): nothing
changes before a second officer approves, nobody approves their own request, approval re-checks
the state under a lock, and two checkers approving at once have one effect."""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import IntegrityError, connection, transaction

import core.approvals
from accounts.models import Notice
from accounts.services import staff_user_create
from core.approvals import (
    ApprovalRefused,
    approval_approve,
    approval_kind,
    approval_kind_get,
    approval_kind_labels,
    approval_reject,
    approval_request,
)
from core.audit import audit_chain_verify, audit_trail_of
from core.models import ApprovalRequest, ApprovalStatus
from lending.approvals import (
    LINE_LIMIT_LOWER,
    LINE_LIMIT_RAISE,
    Thresholds,
    extension_needs_approval,
    limit_change_needs_approval,
    loan_extend_approval,
    loan_penalty_waive_approval,
    loan_write_off_approval,
    thresholds,
    waiver_needs_approval,
    write_off_needs_approval,
)
from lending.models import CreditLine, LimitChange, Loan, LoanExtension
from lending.services import (
    line_limit_lower,
    loan_extension_quote,
    loan_originate,
    loan_payoff_amount,
    loan_repay,
)
from tests.factories import CreditLineFactory, set_business_date

D = Decimal
LOWER = "lower_limit_creditline"


def officer(username, *codenames, decide=False):
    """A staff user with exactly these lending permissions (and the checker's, if `decide`)."""
    user = staff_user_create(username=username, password="x")
    perms = list(Permission.objects.filter(content_type__app_label="lending",
                                           codename__in=codenames))
    if decide:
        perms.append(Permission.objects.get(content_type__app_label="core",
                                            codename="decide_approvalrequest"))
    user.user_permissions.add(*perms)
    return type(user).objects.get(pk=user.pk)  # no permission cache from before


def request_cut(line, maker, new_limit="10000.00", reason="Income fell by half"):
    return approval_request(kind=LINE_LIMIT_LOWER, subject_kind="line", subject_id=line.pk,
                            payload={"line_id": line.pk, "new_limit": D(new_limit),
                                     "reason": reason},
                            summary=f"Lower the limit of line {line.pk} to {new_limit}",
                            reason=reason, maker=maker)


@pytest.fixture
def maker(db):
    return officer("maker", LOWER)


@pytest.fixture
def checker(db):
    return officer("checker", LOWER, decide=True)


# The rules -------------------------------------------------------------------------------------

LIMITS = Thresholds(limit_change_share=D("0.30"), limit_change_amount=D("20000"),
                    extension_months=6, waiver_amount=D("500"), write_off_amount=D("10000"))


@pytest.mark.parametrize(("old", "new", "needed"), [
    ("50000", "35000", False),   # 15000 = exactly 30 % of 50000, and below 20000
    ("50000", "34999.99", True),  # 15000.01 > 30 % of 50000
    ("50000", "65000", False),   # a raise of exactly 30 %
    ("100000", "80000", False),  # 20000: exactly the amount, 20 %
    ("100000", "79999.99", True),  # 20000.01 > the amount, though only 20 %
    ("100000", "120000.01", True),  # the same for a raise
    ("1000", "0", True),         # 100 %
])
def test_a_limit_change_needs_a_second_officer_above_either_threshold(old, new, needed):
    assert limit_change_needs_approval(D(old), D(new), LIMITS) is needed


def test_extensions_waivers_and_write_offs_need_one_above_their_thresholds():
    assert [extension_needs_approval(n, LIMITS) for n in (1, 6, 7)] == [False, False, True]
    assert [waiver_needs_approval(D(a), LIMITS) for a in ("500", "500.01")] == [False, True]
    assert [write_off_needs_approval(D(a), LIMITS)
            for a in ("10000", "10000.01")] == [False, True]


def test_the_thresholds_come_from_settings_as_decimals(settings):
    settings.MAKER_CHECKER = {"LIMIT_CHANGE_SHARE": "0.5", "LIMIT_CHANGE_AMOUNT": "100",
                              "EXTENSION_MONTHS": 3, "WAIVER_AMOUNT": "1.50",
                              "WRITE_OFF_AMOUNT": "7"}
    assert thresholds() == Thresholds(D("0.5"), D("100"), 3, D("1.50"), D("7"))


# Requesting ------------------------------------------------------------------------------------

def test_nothing_changes_before_approval(line, maker):
    request = request_cut(line, maker)
    line.refresh_from_db()
    assert line.credit_limit == D("50000.00")
    assert not LimitChange.objects.exists()
    assert not audit_trail_of("line", line.pk).exists()
    assert (request.status, request.maker, request.checker, request.payload) == (
        ApprovalStatus.REQUESTED, maker, None,
        {"line_id": line.pk, "new_limit": "10000.00", "reason": "Income fell by half"})
    [event] = audit_trail_of("approval", request.pk)
    assert (event.action, event.actor_id, event.payload["kind"]) == (
        "approval.request", str(maker.pk), LINE_LIMIT_LOWER)


def test_a_second_open_request_for_the_same_action_and_subject_is_refused(line, maker, checker):
    first = request_cut(line, maker)
    with pytest.raises(ApprovalRefused, match="already waits for approval"):
        request_cut(line, officer("other-maker", LOWER), new_limit="20000.00")
    approval_reject(request_id=first.pk, checker=checker, reason="Not yet")
    assert request_cut(line, maker).status == ApprovalStatus.REQUESTED


def test_a_request_needs_a_reason_a_known_kind_and_a_maker_who_may_act(line, maker):
    with pytest.raises(ApprovalRefused, match="reason is required"):
        request_cut(line, maker, reason="  ")
    with pytest.raises(ApprovalRefused, match="You may not request this action"):
        request_cut(line, officer("viewer"))
    with pytest.raises(ApprovalRefused, match="No action of kind"):
        approval_kind_get("line.vanish")
    assert not ApprovalRequest.objects.exists()


def test_each_kind_has_a_label_for_the_back_office(monkeypatch):
    monkeypatch.setattr("core.approvals._KINDS", dict(core.approvals._KINDS))
    approval_kind("test.unlabelled", permission="core.view_approvalrequest",
                  perform=lambda payload, *, maker, checker: None)
    labels = approval_kind_labels()
    assert (labels[LINE_LIMIT_LOWER], labels["hardship.approve"]) == (
        "Lower a line's limit", "Approve a hardship request")
    # A kind registered without a label is shown by its name.
    assert labels["test.unlabelled"] == "test.unlabelled"
    assert list(labels.values()) == sorted(labels.values())


# Deciding --------------------------------------------------------------------------------------

def test_the_maker_cannot_approve_nor_reject_their_own_request(line):
    maker = officer("senior", LOWER, decide=True)
    request = request_cut(line, maker)
    with pytest.raises(ApprovalRefused, match="Nobody approves or rejects their own request"):
        approval_approve(request_id=request.pk, checker=maker)
    with pytest.raises(ApprovalRefused, match="Nobody approves"):
        approval_reject(request_id=request.pk, checker=maker, reason="Changed my mind")
    request.refresh_from_db()
    line.refresh_from_db()
    assert (request.status, line.credit_limit) == (ApprovalStatus.REQUESTED, D("50000.00"))


def test_the_database_refuses_a_checker_who_is_the_maker(line, maker):
    request = request_cut(line, maker)
    with pytest.raises(IntegrityError), transaction.atomic():
        ApprovalRequest.objects.filter(pk=request.pk).update(
            status=ApprovalStatus.APPROVED, checker=maker, decided_at="2026-01-31T10:00Z")


@pytest.mark.parametrize("codenames,decide", [((LOWER,), False), ((), True)],
                         ids=["without the checker's permission", "without the action's"])
def test_a_checker_without_both_permissions_is_refused(line, maker, codenames, decide):
    request = request_cut(line, maker)
    checker = officer("junior", *codenames, decide=decide)
    with pytest.raises(ApprovalRefused, match="You may not decide this request"):
        approval_approve(request_id=request.pk, checker=checker)
    line.refresh_from_db()
    assert line.credit_limit == D("50000.00")


def test_approval_runs_the_action_once_for_the_maker_audited_as_the_checker(line, maker,
                                                                           checker):
    request = request_cut(line, maker)
    decided = approval_approve(request_id=request.pk, checker=checker)
    assert (decided.status, decided.checker, decided.decision_reason) == (
        ApprovalStatus.APPROVED, checker, "")
    line.refresh_from_db()
    assert (line.credit_limit, line.officer_cap) == (D("10000.00"), D("10000.00"))
    change = LimitChange.objects.get()
    assert (change.officer, change.reason) == (
        maker, "Income fell by half (approved by checker)")
    [cut] = audit_trail_of("line", line.pk)
    assert (cut.action, cut.actor_id) == ("line.limit_lower", str(checker.pk))
    assert [e.action for e in audit_trail_of("approval", request.pk)] == [
        "approval.request", "approval.approve"]
    notice = Notice.objects.get(customer=line.customer)
    assert notice.subject == "Your credit limit is lower"
    assert "is now 10000.00 CNY (it was 50000.00 CNY)" in notice.body
    with pytest.raises(ApprovalRefused, match="already decided: approved"):
        approval_approve(request_id=request.pk, checker=officer("third", LOWER, decide=True))
    assert audit_chain_verify() is None


def test_approval_rechecks_the_line_under_its_lock_and_fails_when_it_moved_on(line, maker,
                                                                            checker):
    request = request_cut(line, maker, new_limit="10000.00")
    # Meanwhile another officer cut the limit below what was asked (a small cut of its own).
    line_limit_lower(line_id=line.pk, new_limit="8000", reason="Fraud alert", officer=checker)
    decided = approval_approve(request_id=request.pk, checker=checker)
    assert (decided.status, decided.checker) == (ApprovalStatus.FAILED, checker)
    assert decided.decision_reason == "The new limit must be below the current limit 8000.00."
    line.refresh_from_db()
    assert line.credit_limit == D("8000.00")
    assert LimitChange.objects.count() == 1
    assert [e.action for e in audit_trail_of("line", line.pk)] == ["line.limit_lower"]
    assert [e.action for e in audit_trail_of("approval", request.pk)] == [
        "approval.request", "approval.fail"]
    assert audit_chain_verify() is None


def test_a_raise_approved_after_an_officer_capped_the_line_fails_with_the_cap(line):
    maker = officer("raiser", "raise_limit_creditline")
    checker = officer("approver", "raise_limit_creditline", LOWER, decide=True)
    request = approval_request(
        kind=LINE_LIMIT_RAISE, subject_kind="line", subject_id=line.pk,
        payload={"line_id": line.pk, "new_limit": D("90000"), "reason": "Salary doubled"},
        summary="Raise to 90000", reason="Salary doubled", maker=maker)
    line_limit_lower(line_id=line.pk, new_limit="45000", reason="Late twice", officer=checker)
    decided = approval_approve(request_id=request.pk, checker=checker)
    assert decided.status == ApprovalStatus.FAILED
    assert "cap holds this line at 45000.00: lift the cap first" in decided.decision_reason
    line.refresh_from_db()
    assert line.credit_limit == D("45000.00")


def test_rejection_needs_a_reason_and_changes_nothing(line, maker, checker):
    request = request_cut(line, maker)
    with pytest.raises(ApprovalRefused, match="reason is required"):
        approval_reject(request_id=request.pk, checker=checker, reason=" ")
    decided = approval_reject(request_id=request.pk, checker=checker,
                              reason="Income proof is from last year")
    assert (decided.status, decided.checker, decided.decision_reason) == (
        ApprovalStatus.REJECTED, checker, "Income proof is from last year")
    line.refresh_from_db()
    assert line.credit_limit == D("50000.00")
    assert not LimitChange.objects.exists()
    assert [e.action for e in audit_trail_of("approval", request.pk)] == [
        "approval.request", "approval.reject"]
    with pytest.raises(ApprovalRefused, match="already decided: rejected"):
        approval_approve(request_id=request.pk, checker=checker)


# Two checkers at once --------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_two_checkers_approving_at_once_cut_the_limit_once(bank):
    line = CreditLineFactory()
    request = request_cut(line, officer("maker", LOWER))
    checkers = [officer(f"checker-{n}", LOWER, decide=True) for n in (1, 2)]
    start = threading.Barrier(2)
    outcomes = []

    def approve(checker):
        try:
            start.wait()
            outcomes.append(approval_approve(request_id=request.pk, checker=checker).status)
        except ApprovalRefused as error:
            outcomes.append(str(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(c,)) for c in checkers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [f"Request #{request.pk} is already decided: approved.",
                                ApprovalStatus.APPROVED]
    assert CreditLine.objects.get(pk=line.pk).credit_limit == D("10000.00")
    assert LimitChange.objects.count() == 1
    assert audit_trail_of("line", line.pk).count() == 1


# Loans: extension, waiver, write-off (lending/approvals.py) -------------------------------------

def loan_of(line, principal="1200", term=3):
    set_business_date(date(2026, 1, 15))
    loan = loan_originate(line_id=line.pk, principal=principal, term_months=term,
                          method="equal_principal", idempotency_key=f"loan-{principal}",
                          scope="test")
    return Loan.objects.get(pk=loan.pk)


def test_an_extension_above_the_months_waits_and_books_the_preview_the_maker_saw(line):
    maker = officer("maker", "extend_term_loan")
    checker = officer("checker", "extend_term_loan", decide=True)
    loan = loan_of(line)
    set_business_date(date(2026, 1, 20))
    quote = loan_extension_quote(loan=loan, extra_months=7)
    data = {"extra_months": 6, "daily_rate": None, "shown": quote.fingerprint,
            "reason": "Hardship"}
    assert loan_extend_approval(loan, data) is None  # 6 months: the officer acts alone
    needed = loan_extend_approval(loan, {**data, "extra_months": 7})
    request = approval_request(kind=needed.kind, subject_kind=needed.subject_kind,
                               subject_id=needed.subject_id, payload=needed.payload,
                               summary=needed.summary, reason="Hardship", maker=maker)
    assert not LoanExtension.objects.exists()
    assert approval_approve(request_id=request.pk, checker=checker).status == (
        ApprovalStatus.APPROVED)
    extension = LoanExtension.objects.get()
    assert (extension.extra_months, extension.fingerprint, extension.officer) == (
        7, quote.fingerprint, maker)
    assert Loan.objects.get(pk=loan.pk).term_months == 10  # 3 + 7


def test_an_extension_of_a_loan_repaid_meanwhile_fails_and_books_nothing(line):
    maker = officer("maker", "extend_term_loan")
    checker = officer("checker", "extend_term_loan", decide=True)
    loan = loan_of(line)
    set_business_date(date(2026, 1, 20))
    quote = loan_extension_quote(loan=loan, extra_months=8)
    needed = loan_extend_approval(loan, {"extra_months": 8, "shown": quote.fingerprint,
                                         "reason": "Hardship"})
    request = approval_request(kind=needed.kind, subject_kind=needed.subject_kind,
                               subject_id=needed.subject_id, payload=needed.payload,
                               summary=needed.summary, reason="Hardship", maker=maker)
    loan_repay(loan_id=loan.pk, amount=loan_payoff_amount(loan), idempotency_key="payoff",
               scope="test")
    decided = approval_approve(request_id=request.pk, checker=checker)
    assert decided.status == ApprovalStatus.FAILED
    assert decided.decision_reason == (
        "Only an active loan can be extended; this one is paid off.")
    assert not LoanExtension.objects.exists()
    assert Loan.objects.get(pk=loan.pk).term_months == 3


def test_a_waiver_above_the_amount_waits_and_fails_when_nothing_is_owed(line):
    maker = officer("maker", "waive_penalty_loan")
    checker = officer("checker", "waive_penalty_loan", decide=True)
    loan = loan_of(line)
    assert loan_penalty_waive_approval(loan, {"amount": "500", "reason": "x"}) is None
    assert loan_penalty_waive_approval(loan, {"amount": None, "reason": "x"}) is None  # 0 owed
    needed = loan_penalty_waive_approval(loan, {"amount": D("500.01"), "reason": "Illness"})
    assert needed.payload == {"loan_id": loan.pk, "amount": D("500.01"), "reason": "Illness"}
    request = approval_request(kind=needed.kind, subject_kind=needed.subject_kind,
                               subject_id=needed.subject_id, payload=needed.payload,
                               summary=needed.summary, reason="Illness", maker=maker)
    decided = approval_approve(request_id=request.pk, checker=checker)
    assert (decided.status, decided.decision_reason) == (
        ApprovalStatus.FAILED, "This loan owes no penalty interest.")


def test_a_write_off_of_more_principal_than_the_amount_needs_a_second_officer(line):
    small, large = loan_of(line, principal="10000"), loan_of(line, principal="10000.01")
    assert loan_write_off_approval(small, {"reason": "Fraud"}) is None
    needed = loan_write_off_approval(large, {"reason": "Fraud"})
    assert (needed.kind, needed.payload["principal"]) == ("loan.write_off", D("10000.01"))
