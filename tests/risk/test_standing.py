"""Standing everywhere: a customer who is overdue, whose line is frozen or whose loan was written
off is declined by policy with a plain reason; an officer's limit cut caps the line against
every acceptance, re-application and raise until an officer lifts the cap.

The incident these hold: a customer 106 days past due re-applied, was approved at grade A and
accepted, which silently undid an officer's limit cut (the raise recorded with no officer and
the reason "credit decision 30")."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from core.audit import actor_system, actor_user, audit_trail_of
from lending.errors import LendingError
from lending.models import (
    CreditLine,
    Instalment,
    InstalmentStatus,
    LimitChange,
    Loan,
    LoanStatus,
    RepaymentMethod,
)
from lending.services import (
    credit_line_cap_lift,
    credit_line_freeze,
    line_limit_lower,
    line_limit_raise,
)
from risk.models import DecisionOutcome
from risk.scoring import champion_cache_clear
from risk.services.decisions import credit_decide, credit_offer_accept
from tests.factories import (
    CashLoanProductFactory,
    CreditLineFactory,
    UserFactory,
    set_business_date,
)
from tests.risk.champion import applicant, champion_install

pytestmark = pytest.mark.django_db
TODAY = date(2026, 3, 10)
OVERDUE = "You have a payment overdue: please repay it before applying again."
FROZEN = "Your credit line is frozen, so we cannot lend you more until it is unfrozen."
WRITTEN_OFF = ("An earlier loan was written off because it went unpaid, so we cannot lend to "
               "you again.")
SYSTEM = actor_system("tests")


@pytest.fixture(autouse=True)
def business_day(reference_data, settings):
    settings.RISK_CHAMPION_RECHECK_SECONDS = 0
    settings.RISK_REAPPLY_AFTER_APPROVAL_DAYS = 7
    set_business_date(TODAY)
    champion_cache_clear()
    yield
    champion_cache_clear()


@pytest.fixture
def product(db):
    return CashLoanProductFactory()


@pytest.fixture
def model(db):
    return champion_install()


@pytest.fixture
def officer(db):
    return UserFactory(username="officer", is_staff=True)


def loan_on(line, *, status=LoanStatus.ACTIVE, days_past_due=0,
            instalment_status=InstalmentStatus.PENDING):
    """A loan booked on `line` as the close leaves it (written straight: the policy reads only
    statuses and days past due)."""
    loan = Loan.objects.create(
        line=line, principal=Decimal("3000.00"), term_months=3,
        method=RepaymentMethod.EQUAL_INSTALMENT, daily_rate=line.daily_rate,
        apr=Decimal("18.00"), disbursed_on=TODAY - timedelta(days=150),
        outstanding_principal=Decimal("3000.00") if status != LoanStatus.PAID_OFF else 0,
        status=status, days_past_due=days_past_due,
        overdue_since=TODAY - timedelta(days=days_past_due) if days_past_due else None)
    Instalment.objects.create(
        loan=loan, seq=1, due_date=TODAY - timedelta(days=120),
        period_start=TODAY - timedelta(days=150), principal_due=Decimal("1000.00"),
        interest_due=Decimal("30.00"), status=instalment_status)
    return loan


def failed(decision):
    return [r["name"] for r in decision.policy_results if not r["passed"]]


# Policy: standing on our own book ---------------------------------------------------------------

@pytest.mark.parametrize("days_past_due, instalment_status", [
    (106, InstalmentStatus.OVERDUE),   # the incident's customer
    (1, InstalmentStatus.OVERDUE),
    (0, InstalmentStatus.OVERDUE),     # marked overdue, days past due not set yet
    (3, InstalmentStatus.PENDING),
])
def test_an_overdue_customer_is_declined_by_policy_before_any_score(
        model, product, days_past_due, instalment_status):
    customer = applicant()
    line = CreditLineFactory(customer=customer, product=product)
    loan_on(line, days_past_due=days_past_due, instalment_status=instalment_status)
    decision = credit_decide(customer=customer, product=product)
    assert decision.outcome == DecisionOutcome.DECLINED
    assert failed(decision) == ["nothing_overdue"]
    assert decision.reasons == [OVERDUE]
    assert decision.model_version is None and decision.probability_of_default is None


def test_an_overdue_loan_on_another_product_counts_too(model, product):
    customer = applicant()
    other = CashLoanProductFactory(code="other", name="Other loan")
    loan_on(CreditLineFactory(customer=customer, product=other), days_past_due=40,
            instalment_status=InstalmentStatus.OVERDUE)
    decision = credit_decide(customer=customer, product=product)
    assert decision.reasons == [OVERDUE]


def test_a_frozen_line_declines_with_its_reason(model, product):
    customer = applicant()
    line = CreditLineFactory(customer=customer, product=product)
    credit_line_freeze(line_id=line.pk, reason="Fraud check", actor=SYSTEM)
    decision = credit_decide(customer=customer, product=product)
    assert decision.outcome == DecisionOutcome.DECLINED
    assert failed(decision) == ["no_frozen_line"]
    assert decision.reasons == [FROZEN]


def test_a_written_off_loan_declines_with_its_reason_not_as_overdue_again(model, product):
    customer = applicant()
    line = CreditLineFactory(customer=customer, product=product)
    loan_on(line, status=LoanStatus.WRITTEN_OFF, days_past_due=181,
            instalment_status=InstalmentStatus.OVERDUE)
    decision = credit_decide(customer=customer, product=product)
    assert decision.outcome == DecisionOutcome.DECLINED
    assert failed(decision) == ["nothing_written_off"]
    assert decision.reasons == [WRITTEN_OFF]


def test_a_customer_in_good_standing_is_decided_by_the_model(model, product):
    customer = applicant()
    line = CreditLineFactory(customer=customer, product=product, credit_limit=Decimal("1000"))
    loan_on(line, status=LoanStatus.PAID_OFF, instalment_status=InstalmentStatus.PAID)
    loan_on(line)  # running, nothing due yet
    # Someone else's troubles are not this customer's.
    stranger = CreditLineFactory(product=product)
    loan_on(stranger, days_past_due=50, instalment_status=InstalmentStatus.OVERDUE)
    credit_line_freeze(line_id=stranger.pk, reason="Overdue", actor=SYSTEM)
    decision = credit_decide(customer=customer, product=product)
    assert decision.outcome == DecisionOutcome.APPROVED
    assert {r["name"]: r["passed"] for r in decision.policy_results}.keys() >= {
        "nothing_overdue", "no_frozen_line", "nothing_written_off"}
    assert failed(decision) == []


# The officer's cap --------------------------------------------------------------------------------

def _capped_line(customer, product, officer, *, limit="50000.00", cut_to="20000.00"):
    line = CreditLineFactory(customer=customer, product=product, credit_limit=Decimal(limit),
                             daily_rate=Decimal("0.00050000"))
    line_limit_lower(line_id=line.pk, new_limit=cut_to, reason="Income fell by half",
                     officer=officer)
    line.refresh_from_db()
    return line


def test_an_officers_cut_sets_the_cap_and_a_rules_cut_does_not(product, officer):
    customer = UserFactory()
    line = _capped_line(customer, product, officer)
    assert (line.credit_limit, line.officer_cap) == (Decimal("20000.00"), Decimal("20000.00"))
    change = LimitChange.objects.get(line=line)
    assert (change.officer, change.reason) == (officer, "Income fell by half")
    lowered = [e for e in audit_trail_of("line", line.pk) if e.action == "line.limit_lower"]
    assert lowered[-1].payload["officer_cap"] == "20000.00"
    # A rule's cut lowers the limit under the cap and leaves the cap where the officer set it.
    line_limit_lower(line_id=line.pk, new_limit="15000", reason="Collections rule",
                     actor=SYSTEM)
    line.refresh_from_db()
    assert (line.credit_limit, line.officer_cap) == (Decimal("15000.00"), Decimal("20000.00"))
    other = CreditLineFactory(product=CashLoanProductFactory(code="other", name="Other"))
    line_limit_lower(line_id=other.pk, new_limit="100", reason="Collections rule",
                     actor=SYSTEM)
    other.refresh_from_db()
    assert other.officer_cap is None


def test_the_database_refuses_a_limit_above_the_cap(product, officer):
    line = _capped_line(UserFactory(), product, officer)
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditLine.objects.filter(pk=line.pk).update(credit_limit=Decimal("20000.01"))


def test_the_cap_holds_against_accepting_an_offer_made_before_the_cut(model, product, officer):
    customer = applicant()
    line = CreditLineFactory(customer=customer, product=product,
                             credit_limit=Decimal("50000.00"), daily_rate=Decimal("0.00060000"))
    decision = credit_decide(customer=customer, product=product)
    assert decision.outcome == DecisionOutcome.APPROVED
    assert decision.credit_limit > Decimal("50000.00")
    line_limit_lower(line_id=line.pk, new_limit="20000", reason="Income fell by half",
                     officer=officer)
    accepted = credit_offer_accept(decision_id=decision.pk, customer=customer)
    line.refresh_from_db()
    assert accepted.pk == line.pk
    # Held at the cap; the new rate applies; no limit change, but the stopped raise is on record.
    assert (line.credit_limit, line.officer_cap, line.daily_rate) == (
        Decimal("20000.00"), Decimal("20000.00"), decision.daily_rate)
    assert LimitChange.objects.filter(line=line).count() == 1  # the officer's cut only
    stopped = [e for e in audit_trail_of("line", line.pk)
               if e.action == "line.limit_raise_capped"]
    assert len(stopped) == 1
    assert stopped[0].payload["asked"] == f"{decision.credit_limit:.2f}"
    assert stopped[0].payload["officer_cap"] == "20000.00"
    accept = [e for e in audit_trail_of("customer", customer.pk)
              if e.action == "decision.accept"][-1]
    assert accept.payload["line_limit"] == "20000.00"


def test_a_raise_below_the_limit_goes_up_to_the_cap_and_says_so(product, officer):
    customer = UserFactory()
    line = _capped_line(customer, product, officer)
    line_limit_lower(line_id=line.pk, new_limit="15000", reason="Collections rule",
                     actor=SYSTEM)
    line_limit_raise(line_id=line.pk, new_limit="60000", reason="B-card rescoring",
                     actor=SYSTEM)
    line.refresh_from_db()
    assert line.credit_limit == Decimal("20000.00")
    change = LimitChange.objects.filter(line=line).latest("pk")
    assert (change.old_limit, change.new_limit, change.officer) == (
        Decimal("15000.00"), Decimal("20000.00"), None)
    assert change.reason == ("B-card rescoring (asked 60000.00, held at the officer's cap "
                             "20000.00)")
    raised = [e for e in audit_trail_of("line", line.pk) if e.action == "line.limit_raise"]
    assert (raised[-1].payload["asked"], raised[-1].payload["officer_cap"]) == (
        "60000.00", "20000.00")


def test_the_cap_holds_against_a_re_application(model, product, officer):
    customer = applicant()
    line = _capped_line(customer, product, officer)
    decision = credit_decide(customer=customer, product=product)
    # The offer itself says what accepting it can give, and why.
    assert decision.outcome == DecisionOutcome.APPROVED
    assert decision.credit_limit == Decimal("20000.00")
    assert decision.reasons[0] == (
        f"After a review of your account, your {product.name} limit is held at CNY 20,000.00; "
        f"applying again cannot raise it until the review is lifted.")
    credit_offer_accept(decision_id=decision.pk, customer=customer)
    line.refresh_from_db()
    assert (line.credit_limit, line.officer_cap) == (Decimal("20000.00"), Decimal("20000.00"))
    assert LimitChange.objects.filter(line=line).count() == 1


def test_a_cap_of_zero_declines_a_re_application(model, product, officer):
    customer = applicant()
    _capped_line(customer, product, officer, cut_to="0")
    decision = credit_decide(customer=customer, product=product)
    assert decision.outcome == DecisionOutcome.DECLINED
    assert decision.reasons == [
        f"After a review of your account, your {product.name} limit is held at CNY 0.00; "
        f"applying again cannot raise it until the review is lifted."]


def test_the_incident_a_customer_106_days_past_due_cannot_undo_an_officers_cut(
        model, product, officer):
    customer = applicant()
    line = _capped_line(customer, product, officer)
    loan_on(line, days_past_due=106, instalment_status=InstalmentStatus.OVERDUE)
    decision = credit_decide(customer=customer, product=product)
    assert (decision.outcome, decision.reasons) == (DecisionOutcome.DECLINED, [OVERDUE])
    line.refresh_from_db()
    assert line.credit_limit == Decimal("20000.00")


def test_lifting_the_cap_lets_the_next_acceptance_raise_the_limit(model, product, officer):
    customer = applicant()
    line = CreditLineFactory(customer=customer, product=product,
                             credit_limit=Decimal("50000.00"), daily_rate=Decimal("0.00060000"))
    first = credit_decide(customer=customer, product=product)
    line_limit_lower(line_id=line.pk, new_limit="20000", reason="Income fell by half",
                     officer=officer)
    with pytest.raises(LendingError, match="reason is required"):
        credit_line_cap_lift(line_id=line.pk, reason=" ", actor=actor_user(officer))
    lifted = credit_line_cap_lift(line_id=line.pk, reason="Income verified again",
                                  actor=actor_user(officer))
    assert (lifted.officer_cap, lifted.credit_limit) == (None, Decimal("20000.00"))
    [event] = [e for e in audit_trail_of("line", line.pk) if e.action == "line.cap_lift"]
    assert event.actor_id == str(officer.pk)
    assert (event.payload["officer_cap"], event.payload["reason"]) == (
        "20000.00", "Income verified again")
    # Lifting again changes nothing and records nothing.
    credit_line_cap_lift(line_id=line.pk, reason="again", actor=actor_user(officer))
    assert sum(e.action == "line.cap_lift" for e in audit_trail_of("line", line.pk)) == 1

    credit_offer_accept(decision_id=first.pk, customer=customer)
    line.refresh_from_db()
    assert line.credit_limit == first.credit_limit > Decimal("50000.00")
    change = LimitChange.objects.filter(line=line).latest("pk")
    assert (change.old_limit, change.new_limit, change.officer) == (
        Decimal("20000.00"), first.credit_limit, None)
    assert change.reason.startswith(f"The customer accepted credit offer #{first.pk} ")
