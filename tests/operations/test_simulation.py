"""The population simulator: deterministic per seed, a truth blind to gender with a sensible
default rate, and a history that keeps every invariant of the platform and books exactly what
the lending services book."""

import json
from collections import Counter
from datetime import date

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import F

from accounts.identity import id_number_make
from accounts.models import CustomerProfile, CustomerSignals, Gender
from core.models import AuditEvent, IdempotencyRecord
from lending.models import (
    CreditLine,
    Instalment,
    JournalEntry,
    LimitChange,
    Loan,
    LoanFunding,
    PlanSource,
    Posting,
    ProductKind,
    Repayment,
    Statement,
    StatementStatus,
)
from lending.selectors import ledger_principal_of, unbalanced_entry_ids
from lending.services import ledger
from operations.dashboards import figures, queries
from operations.simulation import (
    BulkBook,
    ServiceBook,
    generate_population,
    simulate_history,
    true_probability,
)
from operations.simulation.shopping import MOST_SHOPPERS, shoppers_plan
from operations.simulation.shopping import PRODUCT_CODE as PAY_LATER_CODE
from risk.features.application import application_columns, application_matrix
from risk.features.behaviour import BEHAVIOUR_FEATURE_NAMES, behaviour_columns, behaviour_matrix
from risk.models import SimulatedCustomer
from tests.factories import set_business_date

START = date(2026, 3, 10)


def _population(customers=40, months=6, seed=3):
    return generate_population(customers=customers, months=months, seed=seed, start=START)


def test_same_seed_same_people_truths_and_plans():
    a, b = _population(seed=11), _population(seed=11)
    assert a.profile_rows == b.profile_rows
    assert a.signal_rows == b.signal_rows
    assert a.id_number == b.id_number
    assert np.array_equal(a.true_probability, b.true_probability)
    assert np.array_equal(a.defaults, b.defaults)
    assert a.plans == b.plans


def test_another_seed_other_people():
    a, b = _population(seed=11), _population(seed=12)
    assert a.profile_rows != b.profile_rows
    assert not np.array_equal(a.true_probability, b.true_probability)


def test_default_rate_and_missing_signals_on_a_few_thousand():
    population = _population(customers=5000, months=12, seed=5)
    assert 0.08 <= population.defaults.mean() <= 0.12
    assert 0.08 <= population.true_probability.mean() <= 0.12
    without = sum(s is None for s in population.signal_rows) / 5000
    assert 0.12 <= without <= 0.18
    partly = sum(s is not None and None in s for s in population.signal_rows)
    assert partly > 0
    # Riskier by the truth means more defaults: the truth is what the outcomes are drawn from.
    order = np.argsort(population.true_probability)
    assert population.defaults[order[-1000:]].mean() > 3 * population.defaults[order[:1000]].mean()


def test_identity_numbers_are_well_formed_and_match_birth_and_gender():
    population = _population(customers=200)
    for profile, number, gender in zip(population.profile_rows, population.id_number,
                                       population.gender, strict=True):
        assert len(number) == 18 and number[:17].isdigit()
        assert number[6:14] == profile[1].strftime("%Y%m%d")
        assert number == id_number_make(region=number[:6], birth_date=profile[1],
                                        sequence=int(number[14:17]))
        if gender != Gender.UNSTATED:
            assert (int(number[16]) % 2 == 1) == (gender == Gender.MALE)


def test_defaulters_stop_in_time_to_be_90_days_past_due_by_the_end():
    population = _population(customers=2000, months=4, seed=8)
    from lending.rules.schedule import due_dates

    dues = due_dates(START, 12)
    for plan, defaults in zip(population.plans, population.defaults, strict=True):
        assert (plan.default_seq is not None) == defaults
        if defaults:
            assert (population.end - dues[plan.default_seq - 1]).days >= 90
            assert plan.payoff_on is None


# The three simulated histories below take 40 to 70 s each: they run with `-m slow`, and
# `make test` keeps the command's own test and the training sets' checks on smaller books.
@pytest.mark.slow
@pytest.mark.django_db
def test_history_keeps_every_invariant_and_bads_reach_90_days_past_due():
    set_business_date(START)
    population = _population()
    assert population.defaults.sum() >= 2  # this seed has defaulters to look at
    result = simulate_history(population, book=BulkBook())
    assert result.customers == 40 and result.loans == 40

    assert unbalanced_entry_ids() == []
    loans = list(Loan.objects.select_related("line"))
    assert len(loans) == 40
    for loan in loans:
        assert ledger_principal_of(loan) == loan.outstanding_principal
        fundings = LoanFunding.objects.filter(loan=loan)
        assert sum(f.outstanding_principal for f in fundings) == loan.outstanding_principal
    for line in CreditLine.objects.filter(product__kind=ProductKind.CASH_LOAN):
        owed = sum(loan.outstanding_principal for loan in loans if loan.line_id == line.pk)
        assert line.outstanding_principal == owed
        assert line.outstanding_principal <= line.credit_limit

    truths = dict(SimulatedCustomer.objects.values_list("user_id", "default_month"))
    for loan in loans:
        if truths[loan.line.customer_id] is not None:
            assert loan.days_past_due >= 90
            # The collections rule cut the line to what is owed.
            assert LimitChange.objects.filter(line=loan.line).count() == 1
            assert loan.line.credit_limit == loan.line.outstanding_principal
        else:
            assert loan.days_past_due < 30
    assert Loan.objects.filter(status="paid_off").exists()
    # A customer who never shared signals has no signals row.
    assert CustomerSignals.objects.count() == sum(s is not None for s in population.signal_rows)


def test_shoppers_are_a_share_of_the_population_and_the_risky_pay_the_minimum_more_often():
    population = _population(customers=800, months=12, seed=5)
    shoppers = shoppers_plan(population)
    # One in ten: about 80 of 800, under the cap of 100.
    assert 0.07 <= len(shoppers) / 800 <= 0.13
    assert len(shoppers_plan(_population(customers=5000, months=12, seed=5))) == MOST_SHOPPERS
    assert shoppers == shoppers_plan(population)  # the same seed, the same shoppers
    risk = population.true_probability
    minimum = np.array([risk[s.index] for s in shoppers if s.pays_minimum])
    in_full = np.array([risk[s.index] for s in shoppers if not s.pays_minimum])
    assert minimum.mean() > 1.5 * in_full.mean()
    for shopper in shoppers:
        assert 1 <= shopper.statement_day <= 28
        assert (shopper.stops_on is not None) == bool(population.defaults[shopper.index])


@pytest.mark.slow
@pytest.mark.django_db
def test_shoppers_statements_are_cut_paid_and_seen_by_the_b_card_and_the_dashboards():
    set_business_date(START)
    population = _population(customers=60, months=6, seed=4)
    result = simulate_history(population, book=BulkBook())
    lines = CreditLine.objects.filter(product__code=PAY_LATER_CODE)
    assert lines.count() == result.shoppers > 0

    statements = Statement.objects.filter(line__in=lines)
    assert statements.filter(status=StatementStatus.PAID, paid_on__lte=F("due_date")).exists()
    assert statements.filter(revolved_principal__gt=0, interest_due__gt=0).exists()
    assert statements.filter(days_past_due__gt=30).exists()  # the defaulters' statements
    assert lines.filter(plans__source=PlanSource.STATEMENT).exists()
    assert lines.filter(purchases__refunded__gt=0).exists()
    assert unbalanced_entry_ids() == []
    for line in lines:
        receivable = sum(Posting.objects.filter(
            line=line, account__code=ledger.PAY_LATER_RECEIVABLE).values_list("amount",
                                                                              flat=True))
        assert receivable == line.outstanding_principal <= line.credit_limit

    # The B-card's features and the dashboards compute over a book with both products.
    users = list(SimulatedCustomer.objects.values_list("user_id", flat=True))
    matrix = behaviour_matrix(behaviour_columns(users, population.end), population.end)
    assert matrix.shape == (len(users), len(BEHAVIOUR_FEATURE_NAMES))
    _night, book = queries.outstanding_by_product_and_bucket()
    assert {row.product for row in book} >= {"Simulated cash loan", "Simulated pay later"}
    for figure in figures.risk_dashboard(population.end).figures:
        assert figure.title


@pytest.mark.slow
@pytest.mark.django_db
def test_truth_is_computed_from_the_written_rows_and_ignores_gender():
    set_business_date(START)
    population = _population()
    simulate_history(population, book=BulkBook())
    ids = list(CustomerProfile.objects.order_by("user__username").values_list("user_id",
                                                                                 flat=True))
    shared = np.array([s is not None for s in population.signal_rows])
    matrix = application_matrix(application_columns(ids), START)
    np.testing.assert_array_equal(matrix, population.matrix)
    stored = dict(SimulatedCustomer.objects.values_list("user_id", "true_probability"))
    assert np.allclose([stored[u] for u in ids], population.true_probability)

    CustomerProfile.objects.update(gender=Gender.FEMALE)
    after = application_matrix(application_columns(ids), START)
    assert np.array_equal(true_probability(after, shared, population.noise),
                          population.true_probability)


def _book_snapshot():
    """Everything the history booked, without database ids and timestamps."""
    customer = dict(CreditLine.objects.values_list("pk", "customer__username"))
    loan_owner = {pk: customer[line] for pk, line in Loan.objects.values_list("pk", "line_id")}
    return {
        "lines": sorted((customer[pk], *rest) for pk, *rest in CreditLine.objects.values_list(
            "pk", "credit_limit", "outstanding_principal", "status")),
        "loans": sorted((loan_owner[pk], *rest) for pk, *rest in Loan.objects.values_list(
            "pk", "principal", "apr", "outstanding_principal", "status", "days_past_due",
            "paid_off_on")),
        "instalments": sorted((loan_owner[loan], *rest) for loan, *rest in
                              Instalment.objects.values_list(
                                  "loan_id", "seq", "due_date", "principal_due", "interest_due",
                                  "principal_paid", "interest_paid", "interest_settled_to",
                                  "interest_accrued", "status", "paid_on")),
        "fundings": sorted((loan_owner[loan], bank or "", *rest) for loan, bank, *rest in
                           LoanFunding.objects.values_list(
                               "loan_id", "partner_bank__code", "share", "principal",
                               "outstanding_principal")),
        "repayments": sorted((loan_owner[loan], *rest) for loan, *rest in
                             Repayment.objects.values_list("loan_id", "amount", "principal",
                                                           "interest", "paid_on")),
        "postings": Counter((kind, day, loan_owner.get(loan), code, amount)
                            for kind, day, loan, code, amount in Posting.objects.values_list(
                                "entry__kind", "entry__business_date", "loan_id",
                                "account__code", "amount")),
        "entries": Counter(JournalEntry.objects.values_list("kind", "business_date")),
        "limit_changes": sorted(LimitChange.objects.values_list(
            "line__customer__username", "old_limit", "new_limit", "reason", "officer",
            "business_date")),
        # Keys and fingerprints carry database ids, which differ between two runs.
        "idempotency": IdempotencyRecord.objects.count(),
        # The loans' audit chains, with the ids that differ between two runs left out.
        "audit": Counter(
            (loan_owner[int(subject)], seq, action, actor_kind,
             json.dumps({k: v for k, v in payload.items() if k not in ("line", "repayment")},
                        sort_keys=True))
            for subject, seq, action, actor_kind, payload in AuditEvent.objects.filter(
                subject_kind="loan").values_list("subject_id", "seq", "action", "actor_kind",
                                                 "payload")),
        # The limit cuts on the lines' chains (their payloads carry no ids).
        "limit_cuts_audit": Counter(
            (customer[int(subject)], seq, actor_kind, actor_id, json.dumps(payload, sort_keys=True))
            for subject, seq, actor_kind, actor_id, payload in AuditEvent.objects.filter(
                subject_kind="line", action="line.limit_lower").values_list(
                "subject_id", "seq", "actor_kind", "actor_id", "payload")),
    }


@pytest.mark.slow
@pytest.mark.django_db
def test_bulk_book_writes_exactly_what_the_services_write():
    set_business_date(START)
    population = _population(customers=25, seed=3)
    rollback_to = transaction.savepoint()
    simulate_history(population, book=ServiceBook())
    through_services = _book_snapshot()
    transaction.savepoint_rollback(rollback_to)

    set_business_date(START)
    simulate_history(population, book=BulkBook())
    in_bulk = _book_snapshot()
    assert through_services["repayments"]  # the comparison compares something
    assert through_services["limit_changes"]
    assert sum(through_services["audit"].values()) == (
        len(through_services["loans"]) + len(through_services["repayments"]))
    for part, rows in through_services.items():
        assert in_bulk[part] == rows, part


@pytest.mark.django_db
def test_the_command_runs_and_refuses_a_second_population_with_the_same_seed():
    set_business_date(START)
    call_command("simulate_population", customers=12, months=4, seed=21)
    assert SimulatedCustomer.objects.filter(seed=21).count() == 12
    assert Loan.objects.filter(line__customer__username__startswith="sim21-").count() == 12
    assert not CreditLine.objects.filter(outstanding_principal__gt=F("credit_limit")).exists()
    with pytest.raises(CommandError, match="seed 21 is already here"):
        call_command("simulate_population", customers=12, months=4, seed=21)


@pytest.mark.parametrize(("options", "message"), [
    ({"customers": 0, "months": 12, "seed": 1}, "--customers"),
    ({"customers": -5, "months": 12, "seed": 1}, "--customers"),
    ({"customers": 10, "months": 3, "seed": 1}, "--months"),
    ({"customers": 10, "months": 12, "seed": -1}, "--seed"),
])
def test_the_command_refuses_bad_arguments(options, message):
    with pytest.raises(CommandError, match=message):
        call_command("simulate_population", **options)
