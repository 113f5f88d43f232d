"""Offers customers cannot steer, and a block list that stops a person: the findings of an
attacker, each held by a test that failed before the fix.

- a block entry typed with a lower-case x, or any string, or a new number for the same person;
- a limit raised by editing the declared income and applying again;
- two accepted offers mixing one's limit with the other's rate;
- a burst of applications each approved."""

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from accounts.identity import id_number_make
from core.audit import audit_trail_of
from lending.models import CreditLine
from risk.errors import RiskError
from risk.models import BlockListEntry, CreditDecision, DecisionOutcome, IncomeVerification
from risk.scoring import champion_cache_clear
from risk.services.block_list import block_list_entry_add
from risk.services.decisions import credit_decide, credit_offer_accept
from risk.services.income import income_verify
from tests.factories import CashLoanProductFactory, UserFactory, set_business_date
from tests.risk.champion import applicant, champion_install

TODAY = date(2026, 3, 10)
BORN = date(1990, 5, 17)
BLOCKED_FOR_CUSTOMER = ["We cannot offer credit at the moment."]


@pytest.fixture(autouse=True)
def business_day(reference_data, settings):
    settings.RISK_CHAMPION_RECHECK_SECONDS = 0
    settings.RISK_REAPPLY_DAYS = 30
    settings.RISK_REAPPLY_AFTER_APPROVAL_DAYS = 7
    settings.RISK_INCOME_CHANGE_RATIO = "0.3"
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


def officer():
    return UserFactory(username="officer", is_staff=True)


def later(days):
    set_business_date(TODAY + timedelta(days=days))


def declare_income(customer, amount):
    """The customer edits their profile (and nothing else) through the profile service."""
    applicant(user=customer, monthly_income=Decimal(amount),
              full_name=customer.profile.full_name,
              id_number=customer.profile.id_number)


def rule(decision, name):
    return next(r for r in decision.policy_results if r["name"] == name)


# The block list: a person, not a string ---------------------------------------------------------

@pytest.mark.django_db
def test_a_block_typed_with_a_lower_case_x_blocks_that_person(model, product):
    sequence = next(s for s in range(1000)
                    if id_number_make(region="330106", birth_date=BORN, sequence=s)[-1] == "X")
    number = id_number_make(region="330106", birth_date=BORN, sequence=sequence)
    customer = applicant(id_number=number, full_name="Chen Jie")
    entry = block_list_entry_add(id_number=f" {number[:6]} {number[6:].lower()} ",
                                 full_name="Chen Jie", birth_date=BORN, reason="Fraud ring",
                                 added_by=officer())
    assert entry.id_number == number
    decision = credit_decide(customer=customer, product=product)
    assert decision.outcome == DecisionOutcome.DECLINED
    assert rule(decision, "not_block_listed")["value"] == {"entry": entry.pk,
                                                           "matched_on": "id_number"}


@pytest.mark.django_db
@pytest.mark.parametrize("id_number, message", [
    ("not a number", "An identity number has 18 characters"),
    ("330106199005171231", "last character does not match"),
    ("999999199005171239", "not the code of any county or city of China"),
    ("", "An identity number is required."),
])
def test_the_block_list_stores_only_valid_identity_numbers(id_number, message):
    with pytest.raises(ValidationError) as refused:
        block_list_entry_add(id_number=id_number, full_name="Chen Jie", birth_date=BORN,
                             reason="Fraud")
    assert any(message in m for m in refused.value.message_dict["id_number"])
    assert not BlockListEntry.objects.exists()


@pytest.mark.django_db
def test_a_block_needs_the_persons_name_and_matching_date_of_birth():
    number = id_number_make(region="330106", birth_date=BORN, sequence=1)
    with pytest.raises(ValidationError) as refused:
        block_list_entry_add(id_number=number, full_name=" ", birth_date=date(1990, 5, 18),
                             reason="Fraud")
    assert set(refused.value.message_dict) == {"full_name", "birth_date"}
    assert "born on 1990-05-17, not on 1990-05-18" in refused.value.message_dict[
        "birth_date"][0]


@pytest.mark.django_db
def test_a_blocked_person_with_the_next_sequence_number_is_declined(model, product):
    blocked = applicant(full_name="Wang Fang")
    entry = block_list_entry_add(customer=blocked, reason="Identity fraud, case 2026-114",
                                 added_by=officer())
    assert (entry.full_name, entry.birth_date, entry.customer) == ("Wang Fang", BORN, blocked)
    # A new account, the same person, the next sequence number of the same region and birthday.
    old = blocked.profile.id_number
    new_number = id_number_make(region=old[:6], birth_date=BORN, sequence=int(old[14:17]) + 1)
    again = applicant(full_name="wang fang", id_number=new_number)

    decision = credit_decide(customer=again, product=product)
    assert decision.outcome == DecisionOutcome.DECLINED
    assert decision.model_version is None and decision.credit_limit is None
    # The customer reads only that we cannot; the officer reads which entry matched and why.
    assert decision.reasons == BLOCKED_FOR_CUSTOMER
    blocked_rule = rule(decision, "not_block_listed")
    assert blocked_rule["value"] == {"entry": entry.pk, "matched_on": "full_name_and_birth_date"}
    assert blocked_rule["reason"].startswith(
        f"Block-list entry #{entry.pk} matches on the same full name and date of birth "
        f"(Wang Fang, born 1990-05-17) under another identity number, {old}")
    assert "Identity fraud, case 2026-114" in blocked_rule["reason"]
    assert audit_trail_of("customer", again.pk).last().payload["reasons"] == \
        BLOCKED_FOR_CUSTOMER
    # Someone else with another name is not caught.
    assert credit_decide(customer=applicant(full_name="Wang Fan"), product=product
                         ).outcome == DecisionOutcome.APPROVED


@pytest.mark.django_db
def test_a_blocked_applicant_with_other_failures_reads_only_the_block(product):
    customer = applicant(full_name="Wang Fang", consent_data_use=False)
    block_list_entry_add(customer=customer, reason="Fraud")
    decision = credit_decide(customer=customer, product=product)
    assert decision.reasons == BLOCKED_FOR_CUSTOMER


# Cooling-off after any decision -----------------------------------------------------------------

@pytest.mark.django_db
def test_an_approval_cools_off_and_a_refusal_records_nothing(model, product):
    customer = applicant()
    first = credit_decide(customer=customer, product=product)
    assert first.outcome == DecisionOutcome.APPROVED
    assert first.reapply_on == TODAY + timedelta(days=7)
    later(6)
    with pytest.raises(RiskError) as refused:
        credit_decide(customer=customer, product=product)
    assert str(refused.value) == (
        f"You were approved for Cash loan on 2026-03-10 (decision #{first.pk}); your offer is "
        f"on its page. You may apply again from 2026-03-17.")
    assert CreditDecision.objects.count() == 1
    later(7)
    assert credit_decide(customer=customer, product=product).pk != first.pk


@pytest.mark.django_db
def test_the_approval_cooling_off_is_a_setting(model, product, settings):
    settings.RISK_REAPPLY_AFTER_APPROVAL_DAYS = 0
    customer = applicant()
    credit_decide(customer=customer, product=product)
    credit_decide(customer=customer, product=product)
    assert CreditDecision.objects.count() == 2


# The declared income ----------------------------------------------------------------------------

@pytest.mark.django_db
def test_raising_the_declared_income_does_not_raise_the_limit_until_verified(model, product):
    customer = applicant(monthly_income=Decimal("8000.00"))
    first = credit_decide(customer=customer, product=product)
    assert first.outcome == DecisionOutcome.APPROVED
    declare_income(customer, "200000.00")
    later(7)

    second = credit_decide(customer=customer, product=product)
    assert (second.income_declared, second.income_used, second.income_basis) == (
        Decimal("200000.00"), Decimal("8000.00"), "unverified_change")
    assert second.credit_limit == first.credit_limit
    assert second.inputs["monthly_income"] == 8000.0  # the model saw the figure used
    assert second.income_note == (
        f"The declared income 200,000.00 changed by +2400% since 8,000.00, the figure "
        f"decision #{first.pk} used, more than the 30% accepted without verification; the "
        f"lower figure, 8,000.00, is used until an officer verifies the income.")
    event = audit_trail_of("customer", customer.pk).last()
    assert (event.payload["income_used"], event.payload["income_basis"]) == (
        "8000.00", "unverified_change")

    # Still flagged next time: the last decision used 8,000, not the figure typed.
    later(14)
    third = credit_decide(customer=customer, product=product)
    assert (third.income_used, third.income_basis) == (Decimal("8000.00"), "unverified_change")

    # An officer verifies it: the next decision uses it, and the limit follows.
    verification = income_verify(customer_id=customer.pk, monthly_income="200000",
                                 evidence="Tax record 2025", verified_by=officer())
    later(21)
    fourth = credit_decide(customer=customer, product=product)
    assert (fourth.income_used, fourth.income_basis) == (Decimal("200000.00"), "verified")
    assert f"verification #{verification.pk}" in fourth.income_note
    assert fourth.credit_limit > first.credit_limit


@pytest.mark.django_db
def test_a_change_within_the_ratio_is_believed(model, product):
    customer = applicant(monthly_income=Decimal("8000.00"))
    first = credit_decide(customer=customer, product=product)
    declare_income(customer, "10400.00")  # +30%: the bound itself is accepted
    later(7)
    second = credit_decide(customer=customer, product=product)
    assert (second.income_used, second.income_basis) == (Decimal("10400.00"), "declared")
    assert f"within 30% of 8,000.00, the figure decision #{first.pk} used" in second.income_note


@pytest.mark.django_db
def test_a_fall_in_income_is_used_at_once_and_flagged(model, product):
    customer = applicant(monthly_income=Decimal("20000.00"))
    credit_decide(customer=customer, product=product)
    declare_income(customer, "9000.00")
    later(7)
    second = credit_decide(customer=customer, product=product)
    assert (second.income_used, second.income_basis) == (Decimal("9000.00"), "unverified_change")


@pytest.mark.django_db
def test_the_lower_figure_counts_in_the_policy_rules_too(product):
    # No champion: the debt-to-income rule declines on the income used, not the one typed.
    customer = applicant(monthly_income=Decimal("8000.00"),
                         monthly_debt_payments=Decimal("3000.00"), consent_data_use=False)
    credit_decide(customer=customer, product=product)
    applicant(user=customer, monthly_income=Decimal("200000.00"),
              monthly_debt_payments=Decimal("5000.00"), full_name="Applicant",
              id_number=customer.profile.id_number, consent_data_use=False)
    later(30)
    decision = credit_decide(customer=customer, product=product)
    assert decision.income_used == Decimal("8000.00")
    assert rule(decision, "debt_to_income")["value"] == "0.6250"


@pytest.mark.django_db
def test_a_verified_figure_below_the_declared_one_is_the_one_used(model, product):
    customer = applicant(monthly_income=Decimal("8000.00"))
    credit_decide(customer=customer, product=product)
    declare_income(customer, "200000.00")
    income_verify(customer_id=customer.pk, monthly_income="15000.00", evidence="Payslips",
                  verified_by=officer())
    later(7)
    decision = credit_decide(customer=customer, product=product)
    assert (decision.income_used, decision.income_basis) == (Decimal("15000.00"), "verified")
    assert "the declared 200,000.00 is above it, so the verified figure is used" in \
        decision.income_note


@pytest.mark.django_db
def test_a_verification_before_the_last_decision_does_not_vouch_for_a_later_change(
        model, product):
    customer = applicant(monthly_income=Decimal("8000.00"))
    income_verify(customer_id=customer.pk, monthly_income="8000.00", evidence="Payslips",
                  verified_by=officer())
    first = credit_decide(customer=customer, product=product)
    assert (first.income_used, first.income_basis) == (Decimal("8000.00"), "verified")
    declare_income(customer, "200000.00")
    later(7)
    second = credit_decide(customer=customer, product=product)
    assert (second.income_used, second.income_basis) == (Decimal("8000.00"), "unverified_change")


@pytest.mark.django_db
@pytest.mark.parametrize("fields, message", [
    ({"monthly_income": "-1"}, "cannot be negative"),
    ({"monthly_income": 9000.5}, "float"),
    ({"evidence": "  "}, "Say what the income was verified from"),
])
def test_a_verification_is_refused_with_a_reason(fields, message):
    customer = applicant()
    with pytest.raises(RiskError, match=message):
        income_verify(**{"customer_id": customer.pk, "monthly_income": "9000",
                         "evidence": "Payslips", "verified_by": officer(), **fields})
    with pytest.raises(RiskError, match="Nobody verifies their own income"):
        income_verify(customer_id=customer.pk, monthly_income="9000", evidence="Payslips",
                      verified_by=customer)
    assert not IncomeVerification.objects.exists()


# Accepting closes the other offers --------------------------------------------------------------

@pytest.mark.django_db
def test_accepting_an_offer_closes_the_others_and_a_closed_one_is_refused(model, product):
    customer = applicant()
    high_limit = credit_decide(customer=customer, product=product)
    later(7)
    champion_install(cutoffs=[0.000001, 0.000002, 0.000003, 0.999999])  # grade D
    dearer = credit_decide(customer=customer, product=product)
    assert (dearer.credit_limit, dearer.daily_rate) != (high_limit.credit_limit,
                                                        high_limit.daily_rate)

    line = credit_offer_accept(decision_id=dearer.pk, customer=customer)
    high_limit.refresh_from_db()
    assert high_limit.closed_at is not None and high_limit.closed_by_id == dearer.pk
    assert high_limit.accepted_at is None
    with pytest.raises(RiskError) as refused:
        credit_offer_accept(decision_id=high_limit.pk, customer=customer)
    assert str(refused.value) == (f"This offer was closed when you accepted offer "
                                  f"#{dearer.pk}; apply again for a new decision.")
    line.refresh_from_db()
    assert (line.credit_limit, line.daily_rate) == (dearer.credit_limit, dearer.daily_rate)
    event = audit_trail_of("customer", customer.pk).last()
    assert (event.action, event.payload["offers_closed"]) == ("decision.accept",
                                                              [high_limit.pk])
    # Accepting the accepted one again is still a no-op, not a refusal.
    assert credit_offer_accept(decision_id=dearer.pk, customer=customer).pk == line.pk


@pytest.mark.django_db
def test_accepting_closes_only_the_customers_own_open_offers(model, product):
    mine, theirs = applicant(), applicant()
    first = credit_decide(customer=mine, product=product)
    other = credit_decide(customer=theirs, product=product)
    declined = credit_decide(customer=applicant(monthly_income=Decimal("83.33")),
                             product=product)
    later(7)
    second = credit_decide(customer=mine, product=product)
    credit_offer_accept(decision_id=first.pk, customer=mine)
    closed = set(CreditDecision.objects.filter(closed_at__isnull=False).values_list("pk",
                                                                                    flat=True))
    assert closed == {second.pk}
    assert other.pk not in closed and declined.pk not in closed


# A burst of applications ------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_concurrent_applications_of_one_customer_give_exactly_one_decision(product):
    champion_install()
    customer = applicant()
    threads_count = 6
    barrier = threading.Barrier(threads_count)
    decided, refused, errors = [], [], []

    def apply():
        try:
            barrier.wait()
            decided.append(credit_decide(customer=customer, product=product).pk)
        except RiskError as error:
            refused.append(str(error))
        except Exception as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=apply) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(decided) == 1
    assert CreditDecision.objects.filter(customer=customer).count() == 1
    assert len(refused) == threads_count - 1
    assert all("You may apply again from 2026-03-17." in message for message in refused)
    assert [e.action for e in audit_trail_of("customer", customer.pk)] == ["decision.make"]
    assert not CreditLine.objects.exists()
