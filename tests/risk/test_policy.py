"""Each hard policy rule passes and fails where it should, at its edges, with a reason; and the
applicant read's cooling-off facts."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from accounts.identity import id_number_make
from risk.models import BlockListEntry, CreditDecision, DecisionOutcome
from risk.policy import BLOCKED_FOR_CUSTOMER, RULES, policy_evaluate, reasons_for_customer
from risk.selectors import applicant
from tests.factories import CashLoanProductFactory, ProfileFactory, set_business_date

pytestmark = pytest.mark.django_db
TODAY = date(2026, 3, 10)
BORN = date(1990, 5, 17)
# Beijing, Chaoyang: a number that agrees with the profiles' date of birth.
ID_NUMBER = id_number_make(region="110105", birth_date=BORN, sequence=2)


@pytest.fixture(autouse=True)
def business_day(reference_data):
    set_business_date(TODAY)


def verified_profile(**overrides):
    """Written around the service, as a profile saved before today's checks could be."""
    birth_date = overrides.pop("birth_date", BORN)
    fields = {"birth_date": birth_date, "identity_verified": True,
              "id_number": id_number_make(region="110105", birth_date=birth_date, sequence=2),
              "monthly_income": Decimal("10000.00"),
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
        "adult", "consents", "identity_verified", "not_block_listed", "nothing_overdue",
        "no_frozen_line", "nothing_written_off", "debt_to_income"]
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


@pytest.mark.parametrize("id_number", [
    # A valid check character but a region that never existed: saved "verified" before the
    # region check, it is not believed now.
    "999999199005170027",
    # Another person's number (born 1949-12-31), though flagged verified.
    "11010519491231002X",
])
def test_a_flag_saved_verified_is_asked_again(id_number):
    from accounts.identity import id_number_check_character
    number = id_number[:17] + id_number_check_character(id_number[:17])
    result = results(verified_profile(id_number=number))["identity_verified"]
    assert not result.passed


def test_a_block_listed_identity_number_fails_whatever_the_account():
    entry = BlockListEntry.objects.create(id_number=ID_NUMBER, full_name="Someone Else",
                                          birth_date=BORN, reason="fraud ring")
    result = results(verified_profile())["not_block_listed"]
    assert not result.passed
    # The officer reads which entry matched and why; the customer reads only that we cannot.
    assert f"Block-list entry #{entry.pk} matches on the identity number {ID_NUMBER}" in \
        result.reason
    assert "fraud ring" in result.reason
    assert result.value == {"entry": entry.pk, "matched_on": "id_number"}
    assert result.for_customer == BLOCKED_FOR_CUSTOMER == "We cannot offer credit at the moment."
    other = id_number_make(region="110105", birth_date=BORN, sequence=4)
    assert results(verified_profile(id_number=other))["not_block_listed"].passed


def test_a_new_number_for_the_same_person_is_blocked_by_name_and_date_of_birth():
    entry = BlockListEntry.objects.create(id_number=ID_NUMBER, full_name="Lin Wei",
                                          birth_date=BORN, reason="identity fraud")
    # The next sequence number, another region, the name typed in another case and spacing.
    new_number = id_number_make(region="330106", birth_date=BORN, sequence=3)
    result = results(verified_profile(id_number=new_number, full_name="LIN  wei"))[
        "not_block_listed"]
    assert not result.passed
    assert result.value == {"entry": entry.pk, "matched_on": "full_name_and_birth_date"}
    assert "the same full name and date of birth (Lin Wei, born 1990-05-17)" in result.reason
    assert new_number in result.reason and ID_NUMBER in result.reason
    # Same name, another birthday; same birthday, another name: other people.
    elsewhere = date(1990, 5, 18)
    assert results(verified_profile(
        full_name="Lin Wei", birth_date=elsewhere,
        id_number=id_number_make(region="330106", birth_date=elsewhere, sequence=3)))[
        "not_block_listed"].passed
    # (Another sequence: one identity number belongs to one customer.)
    assert results(verified_profile(
        id_number=id_number_make(region="330106", birth_date=BORN, sequence=5),
        full_name="Lin Wen"))["not_block_listed"].passed


def test_an_entry_without_a_name_blocks_by_number_only():
    BlockListEntry.objects.create(id_number=ID_NUMBER, reason="made before names were kept")
    assert results(verified_profile(
        full_name="", id_number=id_number_make(region="110105", birth_date=BORN, sequence=4)))[
        "not_block_listed"].passed


def test_a_blocked_applicant_reads_only_that_we_cannot_offer_credit():
    BlockListEntry.objects.create(id_number=ID_NUMBER, full_name="X", birth_date=BORN,
                                  reason="fraud ring")
    outcome = evaluate(verified_profile(consent_data_use=False), CashLoanProductFactory())
    assert {r.name for r in outcome if not r.passed} == {"consents", "not_block_listed"}
    assert reasons_for_customer(outcome) == ["We cannot offer credit at the moment."]


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


def _decision(profile, product, reapply_on, outcome=DecisionOutcome.DECLINED):
    return CreditDecision.objects.create(
        customer=profile.user, product=product, outcome=outcome, inputs={},
        policy_results=[], business_date=TODAY - timedelta(days=5), elapsed_ms=1.0,
        reapply_on=reapply_on, **({"credit_limit": Decimal("1000.00"),
                                   "daily_rate": Decimal("0.0005")}
                                  if outcome == DecisionOutcome.APPROVED else {}))


def cooling_off(profile, product):
    return applicant(customer_id=profile.user_id, product=product, today=TODAY).cooling_off


# Cooling-off: was the rule no_recent_decline (declines only); now the applicant read's fact,
# after any decision, which refuses the application before a decision is made.

def test_a_recent_decline_cools_off_until_its_reapply_date():
    profile, product = verified_profile(), CashLoanProductFactory()
    decline = _decision(profile, product, TODAY + timedelta(days=1))
    cooling = cooling_off(profile, product)
    assert (cooling.decision_id, cooling.outcome, cooling.decided_on, cooling.until) == (
        decline.pk, "declined", TODAY - timedelta(days=5), date(2026, 3, 11))


def test_a_recent_approval_cools_off_too():
    profile, product = verified_profile(), CashLoanProductFactory()
    approval = _decision(profile, product, TODAY + timedelta(days=2), DecisionOutcome.APPROVED)
    cooling = cooling_off(profile, product)
    assert (cooling.decision_id, cooling.outcome, cooling.until) == (
        approval.pk, "approved", date(2026, 3, 12))


def test_on_the_reapply_date_the_applicant_may_apply():
    profile, product = verified_profile(), CashLoanProductFactory()
    _decision(profile, product, TODAY)
    _decision(profile, product, None)
    assert cooling_off(profile, product) is None


def test_only_decisions_of_the_same_product_and_customer_cool_off():
    profile, product = verified_profile(), CashLoanProductFactory()
    other_product = CashLoanProductFactory(code="other", name="Other")
    _decision(profile, other_product, TODAY + timedelta(days=20))
    _decision(verified_profile(id_number=""), product, TODAY + timedelta(days=20))
    assert cooling_off(profile, product) is None


def test_the_latest_of_several_cooling_offs_counts():
    profile, product = verified_profile(), CashLoanProductFactory()
    _decision(profile, product, TODAY + timedelta(days=3))
    _decision(profile, product, TODAY + timedelta(days=9))
    assert cooling_off(profile, product).until == date(2026, 3, 19)
