"""The nightly rescoring scores only the customers whose score or review can have moved since
the night before (risk.services.rescoring_selection).

Over four months of a simulated book (late payers, defaulters, pay-later shoppers, the close
every night) with draws, officers' cuts and cap lifts, income changes and term extensions
injected between nights: every night, a customer left out has the same features and the same
review inputs as after the night before, and a full rescoring of every line, run after the
night's, changes no score and reviews no line of a customer left out. Then each rule on its
own, and the nights that score every line."""

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest
from django.db import transaction
from django.utils import timezone

from core.audit import actor_system, actor_user
from core.calendar import business_date_today
from lending import services
from lending.models import CreditLine, CreditProduct, Loan, ProductKind
from lending.selectors import amount_due_on
from operations.simulation import BulkBook, generate_population, history
from risk.features.behaviour import behaviour_columns, behaviour_matrix
from risk.models import (
    CreditDecision,
    LineReview,
    LineScore,
    RescoringNight,
    RescoringNightCustomer,
)
from risk.rescoring_policy import RAISE_INTERVAL_DAYS
from risk.services import rescoring
from risk.services.rescoring_selection import (
    STAMP_MARGIN,
    customers_to_rescore,
    open_cash_lines,
    turning_days,
)
from tests.factories import CreditLineFactory, ProfileFactory, set_business_date
from tests.risk.bcard_champion import bcard_install

db = pytest.mark.django_db
START = date(2026, 1, 5)


class _Rollback(Exception):
    pass


def _planned_now(day):
    """As if the night of `day` had been planned now, a margin ago: what is stamped from now on
    is the next night's to see, what was stamped before is not. (A real night comes a day after
    the one before; here a night comes seconds after, and the set-up's stamps would be new to
    every night.)"""
    RescoringNight.objects.filter(business_date=day).update(
        planned_at=timezone.now() + STAMP_MARGIN)


def _review_inputs(day):
    """Per customer: the B-card's features as of `day` (as bytes: NaN equals NaN) and what the
    policy reads of each open cash line besides the score."""
    lines = list(open_cash_lines(day).annotate(**rescoring._review_inputs(day)).order_by("pk")
                 .values_list(*rescoring._Line._fields))
    customers = sorted({line[1] for line in lines})
    X = behaviour_matrix(behaviour_columns(customers, day), day)
    inputs = {customer: [X[row].tobytes()] for row, customer in enumerate(customers)}
    for (pk, customer, product, limit, drawn, rate, cap, last_raise, _reviewed,
         income) in lines:
        raise_held = last_raise is not None and (day - last_raise).days < RAISE_INTERVAL_DAYS
        inputs[customer].append((pk, product, limit, drawn, rate, cap, raise_held, income))
    return inputs


def _scores_of(customers):
    return {(s.line_id, s.role): (s.model_version_id, s.probability, s.grade)
            for s in LineScore.objects.filter(line__customer_id__in=customers)}


def _full_rescoring_moves_nobody_left_out(day, left_out):
    """A full rescoring after the night's, rolled back: no score of a customer left out moves,
    and none of their lines is reviewed."""
    before = _scores_of(left_out)
    try:
        with transaction.atomic():
            RescoringNight.objects.filter(business_date=day).update(every_line=True)
            rescoring.lines_rescore(day=day)
            assert _scores_of(left_out) == before
            assert not LineReview.objects.filter(business_date=day,
                                                 line__customer_id__in=left_out).exists()
            raise _Rollback
    except _Rollback:
        pass


class _Events:
    """What the simulated book does not do by itself, injected before some nights' closes."""

    def __init__(self, officer):
        self.officer = officer
        self.done = {"draw": 0, "cut": 0, "cap_lift": 0, "income": 0, "extension": 0}

    def book(self, day):
        n = day.toordinal()
        lines = list(CreditLine.objects.filter(status="active",
                                               product__kind=ProductKind.CASH_LOAN)
                     .order_by("pk"))
        if not lines:
            return
        line = lines[n % len(lines)]
        if n % 5 == 0 and line.credit_limit - line.outstanding_principal >= 1000:
            services.loan_originate(line_id=line.pk, principal=Decimal("1000.00"),
                                    term_months=3, method="equal_principal",
                                    idempotency_key=f"selection-{day}", scope="test")
            self.done["draw"] += 1
        if n % 7 == 0 and line.credit_limit - 500 >= line.outstanding_principal:
            services.line_limit_lower(line_id=line.pk, new_limit=line.credit_limit - 500,
                                      reason="Affordability review", officer=self.officer)
            self.done["cut"] += 1
        capped = CreditLine.objects.filter(officer_cap__isnull=False).order_by("pk").first()
        if n % 11 == 0 and capped is not None:
            services.credit_line_cap_lift(line_id=capped.pk, reason="Income verified",
                                          actor=actor_user(self.officer))
            self.done["cap_lift"] += 1
        if n % 6 == 0:
            profile = line.customer.profile
            profile.monthly_income += Decimal("1500.00")
            profile.save()
            self.done["income"] += 1
        # The simulated loans run the product's longest term; the draws above are shorter.
        loan = Loan.objects.filter(status="active", line__status="active", term_months=3,
                                   overdue_since__isnull=True).order_by("-pk").first()
        if n % 13 == 0 and loan is not None:
            services.loan_term_extend(loan_id=loan.pk, extra_months=1, reason="Hardship",
                                      actor=actor_system("tests"))
            self.done["extension"] += 1


@pytest.mark.django_db(transaction=False)
def test_a_night_leaves_out_only_customers_whose_inputs_did_not_move(monkeypatch,
                                                                      django_user_model):
    set_business_date(START)
    bcard_install()
    officer = django_user_model.objects.create_user("selection-officer", password="x")
    events = _Events(officer)
    close = history.business_days_advance
    seen = {"last": None, "nights": 0, "every_line": 0, "left_out": 0, "chosen": 0}

    def close_and_check(*, days):
        day = business_date_today()
        events.book(day)
        runs = close(days=days)
        _planned_now(day)
        night = RescoringNight.objects.get(business_date=day)
        inputs = _review_inputs(day)
        if night.every_line:
            seen["every_line"] += 1
        else:
            chosen = set(RescoringNightCustomer.objects.filter(night=night)
                         .values_list("customer_id", flat=True))
            left_out = [c for c in inputs if c not in chosen]
            for customer in left_out:
                assert inputs[customer] == seen["last"].get(customer), (day, customer)
            _full_rescoring_moves_nobody_left_out(day, left_out)
            seen["left_out"] += len(left_out)
            seen["chosen"] += len(chosen)
        seen["nights"] += 1
        seen["last"] = inputs
        return runs

    monkeypatch.setattr(history, "business_days_advance", close_and_check)
    population = generate_population(customers=60, months=4, seed=5, start=START)
    history.simulate_history(population, book=BulkBook())

    assert seen["nights"] >= 115
    # The month ends and the first night score every line; the other nights most customers
    # are left out, and some are chosen.
    assert 4 <= seen["every_line"] <= 6
    assert seen["left_out"] > seen["chosen"] > 0
    assert all(count > 0 for count in events.done.values()), events.done


# Each rule on its own -------------------------------------------------------------------------

NIGHT = date(2026, 5, 20)  # not a month end
PAID = (date(2026, 2, 10), date(2026, 3, 10), date(2026, 4, 10), date(2026, 5, 10))


def _repay(loan, day, amount=None):
    set_business_date(day)
    services.loan_repay(loan_id=loan.pk, amount=amount or amount_due_on(loan, day),
                        idempotency_key=f"repay-{loan.pk}-{day}", scope="test")


def _customer(*, opened=date(2026, 1, 10), drawn=None, paid=PAID, principal="6000.00"):
    """A customer whose line opened on `opened`, with a twelve-month loan drawn on `drawn`
    (the opening day by default) and its instalments due on `paid` repaid on their due dates."""
    set_business_date(opened)
    line = CreditLineFactory(credit_limit=Decimal("20000.00"),
                             daily_rate=Decimal("0.00050000"), opened_on=opened)
    ProfileFactory(user=line.customer, monthly_income=Decimal("12000.00"))
    set_business_date(drawn or opened)
    loan = services.loan_originate(line_id=line.pk, principal=Decimal(principal),
                                   term_months=12, method="equal_principal",
                                   idempotency_key=f"draw-{line.pk}", scope="test")
    for due in paid:
        _repay(loan, due)
    return line, loan


def _night_before_planned():
    """The night before tonight planned (every line, as a first night is) after the set-up."""
    customers_to_rescore(NIGHT - timedelta(days=1))
    _planned_now(NIGHT - timedelta(days=1))
    set_business_date(NIGHT)


@db
def test_a_customer_with_nothing_due_and_nothing_done_is_left_out(bank):
    bcard_install()
    _customer()
    _night_before_planned()
    assert customers_to_rescore(NIGHT) == []
    night = RescoringNight.objects.get(business_date=NIGHT)
    assert (night.every_line, night.reason, night.customers) == (False, "", 0)


@db
def test_each_rule_chooses_its_customer(bank, django_user_model):
    bcard_install()
    officer = django_user_model.objects.create_user("rule-officer", password="x")
    quiet, _ = _customer()
    chosen = {
        # The first instalment of a loan drawn on April 20 falls due tonight.
        "due tonight": _customer(opened=date(2026, 4, 20), paid=()),
        # May 10's instalment is still unpaid.
        "unpaid": _customer(paid=PAID[:3]),
        # Paid February 10's instalment ten days late: it leaves the three-month window.
        "late in February": _customer(paid=(date(2026, 2, 20), *PAID[1:])),
        # A year and five months on book tonight: the line opened on December 20, 2024.
        "anniversary": _customer(opened=date(2024, 12, 20), drawn=date(2026, 1, 10)),
        # Raised ninety days before tonight: the policy's interval has passed.
        "raised": _customer(),
        # Repaid early the night before; an officer's cap lifted tonight; the income changed.
        "repaid": _customer(),
        "cap lifted": _customer(),
        "income": _customer(),
        # Accepted an offer tonight that left the limit as it was: its income is the target's.
        "accepted": _customer(),
    }
    set_business_date(NIGHT - timedelta(days=RAISE_INTERVAL_DAYS))
    services.line_limit_raise(line_id=chosen["raised"][0].pk, new_limit=Decimal("21000.00"),
                              reason="Offer", actor=actor_system("tests"))
    set_business_date(date(2026, 5, 12))
    services.line_limit_lower(line_id=chosen["cap lifted"][0].pk,
                              new_limit=Decimal("19000.00"), reason="Affordability",
                              officer=officer)
    _night_before_planned()
    _repay(chosen["repaid"][1], NIGHT - timedelta(days=1), amount=Decimal("100.00"))
    set_business_date(NIGHT)
    services.credit_line_cap_lift(line_id=chosen["cap lifted"][0].pk, reason="Verified",
                                  actor=actor_user(officer))
    profile = chosen["income"][0].customer.profile
    profile.monthly_income = Decimal("15000.00")
    profile.save()
    line = chosen["accepted"][0]
    CreditDecision.objects.create(
        customer=line.customer, product=line.product, line=line, outcome="approved",
        inputs={}, policy_results=[], grade="A", credit_limit=line.credit_limit,
        daily_rate=line.daily_rate, income_used=Decimal("30000.00"), business_date=NIGHT,
        elapsed_ms=1.0, accepted_at=timezone.now())

    tonight = customers_to_rescore(NIGHT)
    assert quiet.customer_id not in tonight
    assert [name for name, (line, _) in chosen.items() if line.customer_id not in tonight] == []
    assert sorted(tonight) == sorted(line.customer_id for line, _ in chosen.values())
    assert RescoringNightCustomer.objects.filter(night__business_date=NIGHT).count() == len(
        tonight)


@db
def test_every_line_is_scored_on_the_nights_that_need_it(bank):
    bcard_install()
    line, _ = _customer()
    everyone = [line.customer_id]

    def plan(day):
        set_business_date(day)
        customers = customers_to_rescore(day)
        _planned_now(day)
        return RescoringNight.objects.get(business_date=day).reason, customers

    assert plan(date(2026, 5, 18)) == ("no rescoring planned the night before", everyone)
    assert plan(date(2026, 5, 19)) == ("", [])
    CreditProduct.objects.filter(pk=line.product_id).update(apr_cap=Decimal("35.00"))
    assert plan(date(2026, 5, 20)) == ("other product terms, features or rules", everyone)
    assert plan(date(2026, 5, 21)) == ("", [])
    bcard_install(role="challenger")
    assert plan(date(2026, 5, 22)) == ("another champion or challenger", everyone)
    assert plan(date(2026, 5, 23)) == ("", [])
    # No rescoring on May 24: the night after scores every line.
    assert plan(date(2026, 5, 25)) == ("no rescoring planned the night before", everyone)
    assert plan(date(2026, 5, 31)) == ("the month's last business date", everyone)


@db
def test_a_chunk_of_a_night_rescores_only_its_chosen_customers(bank):
    bcard_install()
    quiet, _ = _customer()
    late, _ = _customer(paid=PAID[:3])
    _night_before_planned()
    assert customers_to_rescore(NIGHT) == [late.customer_id]
    LineScore.objects.all().delete()
    with transaction.atomic():
        assert rescoring.lines_rescore(day=NIGHT, first_id=quiet.customer_id,
                                       last_id=late.customer_id) == 1
    assert list(LineScore.objects.values_list("line_id", flat=True)) == [late.pk]


def test_months_on_book_turn_over_only_on_the_turning_days():
    """Every first-opening day of two years against every night of a year: whenever the
    feature's whole months on book differ from the night before, the opening's day of the
    month is one of the night's turning days (the selection reads only those lines)."""
    from risk.features.behaviour import _months_on_book

    opened = np.arange(np.datetime64("2024-01-01"), np.datetime64("2026-01-01"))
    columns = {"first_opened_on": opened}
    for night in (date(2026, 1, 1) + timedelta(days=k) for k in range(366)):
        moved = (_months_on_book(columns, night)
                 != _months_on_book(columns, night - timedelta(days=1)))
        days = {int(str(d)[-2:]) for d in opened[moved]}
        assert days and days <= set(turning_days(night)), night
    assert turning_days(date(2026, 5, 20)) == [20]
    assert turning_days(date(2026, 5, 1)) == [1, 31]
    assert turning_days(date(2026, 3, 1)) == [1, 29, 30, 31]
