"""The instant decision end to end with a real (tiny) champion: approvals and declines, grades at
their cut-offs, reasons from the model's own contributions, a record that explains itself, and
accepting an offer exactly once."""

import threading
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest
from django.db import connection

from accounts.models import CustomerProfile
from core.audit import actor_system
from lending.models import CreditLine, LimitChange
from lending.rules.schedule import quote_loan
from lending.services import credit_line_freeze
from risk.calibration import platt_apply
from risk.errors import NoChampion, RiskError
from risk.features.application import APPLICATION_FEATURE_NAMES, APPLICATION_FEATURES
from risk.models import CreditDecision, DecisionOutcome
from risk.pricing import INCOME_TOO_LOW
from risk.scoring import champion_cache_clear
from risk.services.decisions import credit_decide, credit_offer_accept
from risk.services.registry import booster_from_bytes
from tests.factories import (
    CashLoanProductFactory,
    CreditLineFactory,
    UserFactory,
    set_business_date,
)
from tests.risk.champion import RISKY, applicant, champion_install

TODAY = date(2026, 3, 10)
REASON_UP = {f.name: f.reason_up for f in APPLICATION_FEATURES}
REASON_DOWN = {f.name: f.reason_down for f in APPLICATION_FEATURES}


@pytest.fixture(autouse=True)
def business_day(reference_data, settings):
    settings.RISK_CHAMPION_RECHECK_SECONDS = 0
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


def top(contributions, sign, n=3):
    return [name for name, value in sorted(contributions.items(), key=lambda kv: -sign * kv[1])
            if sign * value > 0][:n]


# Approvals and declines

@pytest.mark.django_db
def test_a_strong_applicant_is_approved_at_grade_a_with_the_best_price(model, product):
    customer = applicant()
    decision = credit_decide(customer=customer, product=product)
    assert decision.outcome == DecisionOutcome.APPROVED
    assert (decision.grade, decision.model_version) == ("A", model)
    assert decision.probability_of_default < Decimal("0.03")
    assert decision.credit_limit == Decimal("120000.00")  # 6 x 20,000
    assert decision.daily_rate == product.min_daily_rate
    assert decision.apr == quote_loan(principal=Decimal("10000.00"), term_months=12,
                                      daily_rate=decision.daily_rate,
                                      method=product.repayment_methods[0], start=TODAY).apr
    assert decision.apr <= product.apr_cap
    # An approval starts a cooling-off too (RISK_REAPPLY_AFTER_APPROVAL_DAYS).
    assert decision.reapply_on == TODAY + timedelta(days=7)
    assert (decision.income_declared, decision.income_used, decision.income_basis) == (
        Decimal("20000.00"), Decimal("20000.00"), "declared")
    assert decision.business_date == TODAY
    assert decision.elapsed_ms > 0
    # The reasons are the three features that lowered this applicant's risk most.
    lowering = top(decision.contributions, -1)
    assert decision.reasons == [REASON_DOWN[name] for name in lowering]
    assert "bills_on_time_share" in lowering


@pytest.mark.django_db
def test_a_risky_applicant_is_declined_with_the_features_that_raised_the_risk(model, product):
    customer = applicant(**RISKY)
    decision = credit_decide(customer=customer, product=product)
    assert (decision.outcome, decision.grade) == (DecisionOutcome.DECLINED, "E")
    assert decision.credit_limit is None and decision.daily_rate is None
    raising = top(decision.contributions, +1)
    assert decision.reasons == [REASON_UP[name] for name in raising]
    # This model was trained to fear late bills and many devices above all.
    assert {"bills_on_time_share", "devices_last_year"} <= set(raising)
    assert "Some of your bills were paid late in the last year." in decision.reasons
    assert decision.reapply_on == TODAY + timedelta(days=30)


@pytest.mark.django_db
def test_the_record_explains_the_decision_later(model, product):
    decision = credit_decide(customer=applicant(**RISKY), product=product)
    decision = CreditDecision.objects.get(pk=decision.pk)
    assert set(decision.inputs) == set(APPLICATION_FEATURE_NAMES)
    assert decision.inputs["debt_to_income"] == pytest.approx(0.45)
    assert decision.inputs["age_years"] == 35.0
    assert {r["name"]: r["passed"] for r in decision.policy_results} == {
        "adult": True, "consents": True, "identity_verified": True, "not_block_listed": True,
        "nothing_overdue": True, "no_frozen_line": True, "nothing_written_off": True,
        "debt_to_income": True}
    assert decision.income_used == Decimal("6000.00")
    assert "first decision" in decision.income_note

    # Recompute from the record alone: its inputs, its model version's booster and calibration.
    version = decision.model_version
    row = np.array([[np.nan if decision.inputs[n] is None else decision.inputs[n]
                     for n in version.feature_names]], dtype=np.float32)
    booster = booster_from_bytes(bytes(version.booster))
    margin = booster.inplace_predict(row, predict_type="margin", missing=np.nan)
    probability = float(platt_apply(margin, version.calibration)[0])
    assert Decimal(f"{probability:.6f}") == decision.probability_of_default
    cutoffs = version.grade_cutoffs
    assert "ABCDE"[sum(float(decision.probability_of_default) >= c for c in cutoffs)] == \
        decision.grade


@pytest.mark.django_db
def test_missing_signals_are_stored_as_none(model, product):
    customer = applicant()
    customer.signals.delete()
    decision = credit_decide(customer=customer, product=product)
    assert decision.inputs["bills_on_time_share"] is None
    assert decision.inputs["devices_last_year"] is None
    assert decision.inputs["monthly_income"] == 20000.0


# Grades at their cut-offs: the probability as stored, against cut-offs set exactly on it.

def _probability_of(product):
    """The probability of an applicant like `applicant()`; each decision is a new customer,
    since a customer's own decisions are apart by their cooling-off."""
    return credit_decide(customer=applicant(), product=product).probability_of_default


@pytest.mark.django_db
@pytest.mark.parametrize("at_cutoff, grade", [(0, "B"), (1, "C"), (2, "D"), (3, "E")])
def test_a_probability_on_a_cut_off_takes_the_worse_grade(product, at_cutoff, grade):
    champion_install()
    p = float(_probability_of(product))
    cutoffs = [p / 4, p / 3, p / 2, p / 1.5]
    cutoffs[at_cutoff] = p
    cutoffs[at_cutoff + 1:] = [p + 0.1 * (k + 1) for k in range(3 - at_cutoff)]
    champion_install(cutoffs=cutoffs)
    decision = credit_decide(customer=applicant(), product=product)
    assert decision.grade == grade


@pytest.mark.django_db
@pytest.mark.parametrize("below_cutoff, grade", [(0, "A"), (1, "B"), (2, "C"), (3, "D")])
def test_a_probability_just_below_a_cut_off_takes_the_better_grade(product, below_cutoff,
                                                                     grade):
    champion_install()
    p = float(_probability_of(product))
    step = 0.000001
    cutoffs = [p - step * (below_cutoff - k) for k in range(below_cutoff)]
    cutoffs += [p + step * (k + 1) for k in range(4 - below_cutoff)]
    champion_install(cutoffs=cutoffs)
    decision = credit_decide(customer=applicant(), product=product)
    assert decision.grade == grade
    assert decision.outcome == DecisionOutcome.APPROVED
    assert decision.credit_limit == {"A": 120000, "B": 80000, "C": 60000, "D": 30000}[grade]


@pytest.mark.django_db
def test_grade_d_is_priced_nearer_the_band_maximum(product):
    champion_install(cutoffs=[0.000001, 0.000002, 0.000003, 0.999999])
    decision = credit_decide(customer=applicant(), product=product)
    assert decision.grade == "D"
    low, high = product.min_daily_rate, product.max_daily_rate
    assert decision.daily_rate == (low + (high - low) * Decimal("0.75")).quantize(
        Decimal("0.00000001"))


# Pricing declines and the APR cap, through the decision

@pytest.mark.django_db
def test_income_too_low_for_the_smallest_amount_is_declined_with_that_reason(product):
    champion_install(cutoffs=[0.99, 0.995, 0.998, 0.999])  # everyone is A
    decision = credit_decide(customer=applicant(monthly_income=Decimal("83.33")),
                             product=product)
    assert (decision.outcome, decision.grade) == (DecisionOutcome.DECLINED, "A")
    assert decision.reasons == [INCOME_TOO_LOW]


@pytest.mark.django_db
def test_a_product_whose_cap_binds_gets_a_lower_rate():
    product = CashLoanProductFactory(code="capped", apr_cap=Decimal("10.00"))
    champion_install(cutoffs=[0.000001, 0.000002, 0.000003, 0.999999])  # grade D
    decision = credit_decide(customer=applicant(), product=product)
    assert decision.outcome == DecisionOutcome.APPROVED
    assert decision.apr <= Decimal("10.00")
    assert product.min_daily_rate <= decision.daily_rate < Decimal("0.0005375")


@pytest.mark.django_db
def test_a_product_whose_cap_even_the_minimum_breaks_declines_without_blocking():
    product = CashLoanProductFactory(code="impossible", apr_cap=Decimal("3.00"))
    champion_install()
    decision = credit_decide(customer=applicant(), product=product)
    assert decision.outcome == DecisionOutcome.DECLINED
    assert "maximum APR" in decision.reasons[0]
    assert decision.reapply_on == TODAY
    assert credit_decide(customer=decision.customer, product=product).outcome == \
        DecisionOutcome.DECLINED  # not refused as a recent decline: still priced out


# Policy declines, and what stops a decision being made at all

@pytest.mark.django_db
def test_a_policy_failure_declines_without_any_model(product):
    customer = applicant(consent_data_use=False, monthly_debt_payments=Decimal("15000.00"))
    decision = credit_decide(customer=customer, product=product)  # no champion exists
    assert decision.outcome == DecisionOutcome.DECLINED
    assert decision.model_version is None and decision.probability_of_default is None
    assert decision.inputs == {} and decision.contributions == {}
    failed = [r["name"] for r in decision.policy_results if not r["passed"]]
    assert failed == ["consents", "debt_to_income"]
    assert decision.reasons == [r["reason"] for r in decision.policy_results if not r["passed"]]
    assert decision.reapply_on == TODAY + timedelta(days=30)


@pytest.mark.django_db
def test_an_application_during_a_declines_cooling_off_is_refused_and_records_nothing(
        model, product):
    # Was: a second application before the reapply date was recorded as another decline
    # keeping that date. Now a cooling-off refuses it before any decision is made.
    customer = applicant(**RISKY)
    first = credit_decide(customer=customer, product=product)
    set_business_date(TODAY + timedelta(days=10))
    with pytest.raises(RiskError, match=f"declined on 2026-03-10. You may apply again from "
                                        f"{first.reapply_on:%Y-%m-%d}"):
        credit_decide(customer=customer, product=product)
    assert CreditDecision.objects.count() == 1
    set_business_date(first.reapply_on)
    third = credit_decide(customer=customer, product=product)
    assert third.model_version is not None  # scored again


@pytest.mark.django_db
def test_no_champion_is_a_clear_error_and_records_nothing(product):
    with pytest.raises(NoChampion, match="No application model"):
        credit_decide(customer=applicant(), product=product)
    assert not CreditDecision.objects.exists()


@pytest.mark.django_db
def test_a_champion_trained_on_other_feature_definitions_refuses_to_score(product):
    champion_install(feature_hash="0" * 64)
    with pytest.raises(RiskError, match="other feature definitions"):
        credit_decide(customer=applicant(), product=product)
    assert not CreditDecision.objects.exists()


@pytest.mark.django_db
def test_no_profile_or_a_closed_product_is_an_error(model, product):
    with pytest.raises(RiskError, match="Fill in your profile"):
        credit_decide(customer=UserFactory(), product=product)
    closed = CashLoanProductFactory(code="closed", is_active=False)
    with pytest.raises(RiskError, match="not open"):
        credit_decide(customer=applicant(), product=closed)
    assert not CreditDecision.objects.exists()


@pytest.mark.django_db
def test_a_decision_is_a_handful_of_queries(model, product, django_assert_max_num_queries):
    customer = applicant()
    credit_decide(customer=customer, product=product)  # warm the champion
    # A customer with a decision before, past its cooling-off: every part of the read is used.
    set_business_date(TODAY + timedelta(days=7))
    # The business date; in one transaction (here a savepoint and its release): the customer's
    # lock, the applicant with signals, block list, cooling-off, the last decision's income,
    # the income verification and the champion; the record; its audit event (the customer's
    # chain head, the event, the head's new hash).
    with django_assert_max_num_queries(9):
        credit_decide(customer=customer, product=product)


# Accepting an offer

def _approved(product, **overrides):
    decision = credit_decide(customer=applicant(**overrides), product=product)
    assert decision.outcome == DecisionOutcome.APPROVED
    return decision


@pytest.mark.django_db
def test_accepting_opens_the_line_once(model, product):
    decision = _approved(product)
    line = credit_offer_accept(decision_id=decision.pk, customer=decision.customer)
    assert (line.credit_limit, line.daily_rate, line.product) == (
        decision.credit_limit, decision.daily_rate, product)
    again = credit_offer_accept(decision_id=decision.pk, customer=decision.customer)
    assert again.pk == line.pk
    assert CreditLine.objects.count() == 1
    decision.refresh_from_db()
    assert decision.accepted_at is not None and decision.line_id == line.pk


@pytest.mark.django_db
def test_accepting_raises_an_existing_lower_line_and_records_why(model, product):
    decision = _approved(product)
    line = CreditLineFactory(customer=decision.customer, product=product,
                             credit_limit=Decimal("20000.00"), daily_rate=Decimal("0.0005"))
    credit_offer_accept(decision_id=decision.pk, customer=decision.customer)
    credit_offer_accept(decision_id=decision.pk, customer=decision.customer)
    line.refresh_from_db()
    assert (line.credit_limit, line.daily_rate) == (decision.credit_limit, decision.daily_rate)
    change = LimitChange.objects.get()
    assert (change.old_limit, change.new_limit, change.officer, change.reason) == (
        Decimal("20000.00"), decision.credit_limit, None,
        f"The customer accepted credit offer #{decision.pk} (decided 2026-03-10, grade "
        f"{decision.grade})")


@pytest.mark.django_db
def test_accepting_never_lowers_a_higher_limit(model, product):
    decision = _approved(product)
    line = CreditLineFactory(customer=decision.customer, product=product,
                             credit_limit=Decimal("150000.00"), daily_rate=Decimal("0.0005"))
    credit_offer_accept(decision_id=decision.pk, customer=decision.customer)
    line.refresh_from_db()
    assert (line.credit_limit, line.daily_rate) == (Decimal("150000.00"), decision.daily_rate)
    assert not LimitChange.objects.exists()


@pytest.mark.django_db
def test_only_the_customers_own_live_approved_offer_can_be_accepted(model, product):
    declined = credit_decide(customer=applicant(**RISKY), product=product)
    with pytest.raises(RiskError, match="Only an approved offer"):
        credit_offer_accept(decision_id=declined.pk, customer=declined.customer)
    approved = _approved(product)
    with pytest.raises(RiskError, match="no such credit decision"):
        credit_offer_accept(decision_id=approved.pk, customer=declined.customer)
    set_business_date(TODAY + timedelta(days=31))
    with pytest.raises(RiskError, match="expired on 2026-04-09"):
        credit_offer_accept(decision_id=approved.pk, customer=approved.customer)
    assert not CreditLine.objects.exists()


@pytest.mark.django_db
def test_the_last_day_of_an_offer_still_accepts(model, product):
    decision = _approved(product)
    set_business_date(TODAY + timedelta(days=30))
    assert credit_offer_accept(decision_id=decision.pk, customer=decision.customer)


@pytest.mark.django_db
def test_a_frozen_line_is_not_raised(model, product):
    decision = _approved(product)
    line = CreditLineFactory(customer=decision.customer, product=product,
                             credit_limit=Decimal("1000.00"))
    credit_line_freeze(line_id=line.pk, reason="Fraud check", actor=actor_system("tests"))
    with pytest.raises(RiskError, match="frozen"):
        credit_offer_accept(decision_id=decision.pk, customer=decision.customer)
    decision.refresh_from_db()
    assert decision.accepted_at is None


def _accept_in_two_threads(decision):
    results, errors = [], []
    barrier = threading.Barrier(2)

    def accept():
        try:
            barrier.wait()
            results.append(credit_offer_accept(decision_id=decision.pk,
                                               customer=decision.customer).pk)
        except Exception as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=accept) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


@pytest.mark.django_db(transaction=True)
def test_two_accepts_at_once_open_one_line(product):
    champion_install()
    decision = _approved(product)
    results = _accept_in_two_threads(decision)
    assert len(results) == 2 and len(set(results)) == 1
    assert CreditLine.objects.filter(customer=decision.customer).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_accepts_at_once_raise_an_existing_line_once(product):
    champion_install()
    decision = _approved(product)
    line = CreditLineFactory(customer=decision.customer, product=product,
                             credit_limit=Decimal("20000.00"))
    results = _accept_in_two_threads(decision)
    assert results == [line.pk, line.pk]
    assert LimitChange.objects.filter(line=line).count() == 1
    line.refresh_from_db()
    assert line.credit_limit == decision.credit_limit
    assert CustomerProfile.objects.count() == 1
