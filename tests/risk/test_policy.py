"""Each hard policy rule passes and fails where it should, at its edges, with a reason."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from risk.models import BlockListEntry, CreditDecision, DecisionOutcome
from risk.policy import RULES, policy_evaluate
from risk.selectors import applicant
from tests.factories import CashLoanProductFactory, ProfileFactory, set_business_date

pytestmark = pytest.mark.django_db
TODAY = date(2026, 3, 10)
ID_NUMBER = "11010519491231002X"


@pytest.fixture(autouse=True)
def business_day(reference_data):
    set_business_date(TODAY)


def verified_profile(**overrides):
    fields = {"birth_date": date(1990, 5, 17), "identity_verified": True,
              "id_number": ID_NUMBER, "monthly_income": Decimal("10000.00"),
              "monthly_debt_payments": Decimal("1000.00"), **overrides}
    return ProfileFactory(**fields)


def evaluate(profile, product):
    """The rules as the decision asks them: on the applicant read with its block-list and
    decline facts."""
    return policy_evaluate(
        profile=applicant(customer_id=profile.user_id, product=product, today=TODAY),
        product=product, today=TODAY)


def results(profile, product=None):
    return {r.name: r for r in evaluate(profile, product or CashLoanProductFactory())}


def test_a_clean_applicant_passes_every_rule_in_order():
    outcome = evaluate(verified_profile(), CashLoanProductFactory())
    assert [r.name for r in outcome] == [rule.__name__ for rule in RULES] == [
        "adult", "consents", "identity_verified", "not_block_listed", "debt_to_income",
        "no_recent_decline"]
    assert all(r.passed for r in outcome)
    assert all(r.reason for r in outcome)


@pytest.mark.parametrize("birth_date, passed, age", [
    (date(2008, 3, 10), True, 18),    # 18 today
    (date(2008, 3, 11), False, 17),   # 18 tomorrow
    (date(1956, 3, 11), True, 69),
    (date(1955, 3, 11), True, 70),    # 71 tomorrow: still within the bound today
    (date(1955, 3, 10), False, 71),   # 71 today
])
def test_adult_and_not_older_than_the_bound(birth_date, passed, age):
    result = results(verified_profile(birth_date=birth_date))["adult"]
    assert (result.passed, result.value) == (passed, age)
    if not passed:
        assert ("at least 18" in result.reason) == (age < 18)
        assert ("up to the age of 70" in result.reason) == (age > 70)


def test_the_age_bound_is_a_setting(settings):
    settings.RISK_MAX_AGE = 60
    assert not results(verified_profile(birth_date=date(1960, 1, 1)))["adult"].passed


@pytest.mark.parametrize("credit_check, data_use, passed", [
    (True, True, True), (False, True, False), (True, False, False), (False, False, False)])
def test_both_consents_are_needed(credit_check, data_use, passed):
    result = results(verified_profile(consent_credit_check=credit_check,
                                      consent_data_use=data_use))["consents"]
    assert result.passed is passed
    assert result.value == {"credit_check": credit_check, "data_use": data_use}
    if not passed:
        assert "consent" in result.reason


def test_an_unverified_identity_fails():
    result = results(verified_profile(identity_verified=False))["identity_verified"]
    assert not result.passed
    assert "could not verify your identity" in result.reason


def test_a_block_listed_identity_number_fails_whatever_the_account():
    BlockListEntry.objects.create(id_number=ID_NUMBER, reason="fraud ring")
    result = results(verified_profile())["not_block_listed"]
    assert not result.passed
    assert "unable to offer credit" in result.reason
    assert "fraud" not in result.reason  # the customer is not told the lender's own notes
    assert results(verified_profile(id_number="110105194912310021"))["not_block_listed"].passed


def test_a_blank_identity_number_is_never_on_the_block_list():
    BlockListEntry.objects.create(id_number="", reason="an empty entry must not block all")
    assert results(verified_profile(id_number="", identity_verified=False)
                   )["not_block_listed"].passed


@pytest.mark.parametrize("income, debt, passed, shown", [
    ("10000.00", "4999.99", True, "0.5000"),
    ("10000.00", "4999.00", True, "0.4999"),
    ("10000.00", "5000.00", False, "0.5000"),   # the bound itself is not below it
    ("10000.00", "9000.00", False, "0.9000"),
    ("0.00", "0.00", True, "0.0000"),
    ("0.00", "1.00", False, None),
])
def test_debt_to_income_must_be_below_the_bound(income, debt, passed, shown):
    result = results(verified_profile(monthly_income=Decimal(income),
                                      monthly_debt_payments=Decimal(debt)))["debt_to_income"]
    assert (result.passed, result.value) == (passed, shown)
    if not passed:
        assert "below 50% of it" in result.reason


def test_the_debt_to_income_bound_can_differ_by_product(settings):
    settings.RISK_MAX_DEBT_TO_INCOME = "0.5"
    settings.RISK_MAX_DEBT_TO_INCOME_BY_PRODUCT = {"strict": "0.3"}
    profile = verified_profile(monthly_debt_payments=Decimal("4000.00"))
    assert results(profile)["debt_to_income"].passed
    strict = CashLoanProductFactory(code="strict", name="Strict")
    result = results(profile, strict)["debt_to_income"]
    assert not result.passed
    assert "below 30% of it" in result.reason


def _decline(profile, product, reapply_on):
    return CreditDecision.objects.create(
        customer=profile.user, product=product, outcome=DecisionOutcome.DECLINED, inputs={},
        policy_results=[], business_date=TODAY - timedelta(days=5), elapsed_ms=1.0,
        reapply_on=reapply_on)


def test_a_recent_decline_blocks_until_its_reapply_date():
    profile, product = verified_profile(), CashLoanProductFactory()
    _decline(profile, product, TODAY + timedelta(days=1))
    result = results(profile, product)["no_recent_decline"]
    assert (result.passed, result.value) == (False, "2026-03-11")
    assert "you may apply again from 2026-03-11" in result.reason


def test_on_the_reapply_date_the_applicant_may_apply():
    profile, product = verified_profile(), CashLoanProductFactory()
    _decline(profile, product, TODAY)
    assert results(profile, product)["no_recent_decline"].passed


def test_only_declines_of_the_same_product_and_customer_block():
    profile, product = verified_profile(), CashLoanProductFactory()
    other_product = CashLoanProductFactory(code="other", name="Other")
    _decline(profile, other_product, TODAY + timedelta(days=20))
    _decline(verified_profile(id_number=""), product, TODAY + timedelta(days=20))
    assert results(profile, product)["no_recent_decline"].passed


def test_the_latest_of_several_declines_counts():
    profile, product = verified_profile(), CashLoanProductFactory()
    _decline(profile, product, TODAY + timedelta(days=3))
    _decline(profile, product, TODAY + timedelta(days=9))
    assert results(profile, product)["no_recent_decline"].value == "2026-03-19"
