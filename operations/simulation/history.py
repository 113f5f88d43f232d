"""Months of life on the platform for a simulated population.

Day 0 (the current business date): the customers sign up, each is given a line on the
simulation's cash-loan product and draws one loan. Then every business day until the end:
a collections rule lowers the limit of any line with a loan 30+ days past due to what is owed,
the day's repayments are taken (on the due date, a few days late, or an early payoff), and the
nightly close runs. Defaulters stop paying at their default instalment and reach 90+ days past
due before the end. A share of the customers also has a pay-later line and shops with it every
month (`shopping.py`): purchases, statements cut by the close, payments and conversions."""

import gc
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import F

from accounts.models import User
from core.audit import actor_system
from core.batch import statistics_refresh
from core.calendar import business_date_today
from core.models import AuditChainHead, BusinessDate
from debt_collection.models import CollectionCase
from lending import services
from lending.models import CreditLine, CreditProduct, ProductKind, RepaymentMethod
from operations.models import CloseChunk, CloseRun, CloseStep
from operations.nightly_close import business_days_advance
from risk.models import SimulatedCustomer

from .books import Draw, Payment
from .customers import customers_create
from .population import TERM_MONTHS, Population
from .shopping import Shopping

PRODUCT_CODE = "sim-cash"
BANKS = (("sim-bank-a", "Simulated Partner Bank A", "0.70"),
         ("sim-bank-b", "Simulated Partner Bank B", "0.50"))
SIMULATOR = actor_system("simulate_population")
LIMIT_CUT_DPD = 30
LIMIT_CUT_REASON = "Simulated collections rule: a loan is 30+ days past due."


class SimulationRefused(ValueError):
    """The simulation cannot run as asked; the message says why."""


@dataclass
class SimulationResult:
    customers: int
    defaulters: int
    loans: int
    shoppers: int  # customers with a pay-later line
    repayment_days: int
    start: object
    end: object


def sim_product_ensure() -> CreditProduct:
    """The simulation's cash-loan product and partner banks, created once through the
    lending services and reused by later runs. The product is closed to applications: real
    customers never see it on the apply page."""
    from accounts.models import PartnerBank

    for code, name, share in BANKS:
        if not PartnerBank.objects.filter(code=code).exists():
            services.partner_bank_create(code=code, name=name, funding_share=share,
                                         actor=SIMULATOR)
    product = CreditProduct.objects.filter(code=PRODUCT_CODE).first()
    if product is None:
        product = services.credit_product_create(
            code=PRODUCT_CODE, name="Simulated cash loan", kind=ProductKind.CASH_LOAN,
            min_daily_rate="0.00020", max_daily_rate="0.00060", penalty_daily_rate="0.00050",
            allowed_terms=[3, 6, 12], repayment_methods=RepaymentMethod.values, grace_days=3,
            min_amount="500", max_amount="200000", apr_cap="24", max_partner_share="0.70",
            is_active=False, actor=SIMULATOR)
    return product


def simulation_check(population: Population):
    if business_date_today() != population.start:
        raise SimulationRefused(f"The population was generated for {population.start}, but the "
                                f"business date is {business_date_today()}.")
    if SimulatedCustomer.objects.filter(seed=population.seed).exists():
        raise SimulationRefused(f"A population with seed {population.seed} is already here; "
                                "choose another seed.")


def simulate_history(population: Population, *, book, progress=None) -> SimulationResult:
    simulation_check(population)
    with _garbage_collector_spared():
        return _history_write(population, book, progress)


def _history_write(population, book, progress) -> SimulationResult:
    product = sim_product_ensure()
    with transaction.atomic(durable=True):
        users = customers_create(population)
        lines = services.credit_lines_open_many(
            customers=users, product=product, limits=[p.credit_limit for p in population.plans],
            rates=[p.daily_rate for p in population.plans])
    loans = book.originate([Draw(line=line, principal=plan.principal, term_months=TERM_MONTHS,
                                 method=plan.method)
                            for line, plan in zip(lines, population.plans, strict=True)])
    payments = payment_days(population, [loan.pk for loan in loans], [u.pk for u in users])
    shopping = Shopping(population, users)
    shopping.open_lines()
    # The customers, lines and loans of day 0 and the payments of every day live as long.
    gc.freeze()
    services.book_statistics_refresh()
    # `limits_cut` joins the customers every night: planned on a table still counted empty,
    # its query walked every customer one by one.
    statistics_refresh(User, SimulatedCustomer)
    day, repayment_days = population.start, 0
    while day < population.end:
        limits_cut(population.seed, book)
        if payments.get(day):
            book.repay(payments[day])
            repayment_days += 1
        shopping.day(day)
        business_days_advance(days=1)
        day += timedelta(days=1)
        if day.day == population.start.day:
            _tables_tidy()
            if progress:
                progress(day)
    return SimulationResult(customers=len(users), defaulters=int(population.defaults.sum()),
                            loans=len(loans), shoppers=len(shopping.shoppers),
                            repayment_days=repayment_days,
                            start=population.start, end=population.end)


def _tables_tidy():
    """Once a simulated month: the tables every night rewrites (loans' days past due, the
    instalments' penalty and status, the collection cases' figures, the audit chains' heads,
    the business date, the close's own record) are vacuumed and analysed. A month of nights
    leaves more dead row versions in them than live ones, and on a server whose autovacuum is
    off or behind, every night's scans then slow down month after month: the open cases alone,
    updated every night, were left with 20 to 30 dead versions per live one by the year's end."""
    services.book_statistics_refresh(vacuum=True)
    statistics_refresh(AuditChainHead, BusinessDate, CloseRun, CloseStep, CloseChunk,
                       CollectionCase, vacuum=True)


@contextmanager
def _garbage_collector_spared():
    """The population, its customers, loans and the payments of every day live as long as the
    run: a few hundred thousand objects (more with more customers) that each of Python's full
    collections walked again, a dozen times a month and half a second each, to free nothing.
    Frozen (`gc.freeze`, here and once day 0 has made them), the collector leaves them alone;
    at the end they are handed back to it. And a day's booking or close allocates its rows by
    the hundred thousand: collecting the young objects every 100,000 allocations rather than
    every 700 spares walking the same live rows over and over (on a large repayment day the
    collector's time falls by more than half)."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(100_000, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def payment_days(population, loan_ids, customer_ids) -> dict:
    """Business day -> the payments customers make that day, from each customer's plan."""
    from lending.rules.schedule import due_dates

    dues = due_dates(population.start, TERM_MONTHS)
    days = defaultdict(dict)
    for plan, loan_id, customer_id in zip(population.plans, loan_ids, customer_ids,
                                          strict=True):
        for seq, due in enumerate(dues, start=1):
            if plan.default_seq is not None and seq >= plan.default_seq:
                break
            if plan.payoff_on is not None and due >= plan.payoff_on:
                break
            day = due + timedelta(days=plan.late_days.get(seq, 0))
            if day < population.end:
                days[day][loan_id] = Payment(loan_id=loan_id, customer_id=customer_id)
        if plan.payoff_on is not None:
            days[plan.payoff_on][loan_id] = Payment(loan_id=loan_id, customer_id=customer_id,
                                                    payoff=True)
    return {day: [by_loan[k] for k in sorted(by_loan)] for day, by_loan in days.items()}


def limits_cut(seed: int, book):
    """The collections rule, through the officer's own service or its set-based twin (no
    officer: the system)."""
    cuts = (CreditLine.objects.filter(customer__simulated__seed=seed,
                                      loans__days_past_due__gte=LIMIT_CUT_DPD,
                                      credit_limit__gt=F("outstanding_principal"))
            .distinct().order_by("pk").values_list("pk", "outstanding_principal"))
    book.limits_lower(list(cuts), reason=LIMIT_CUT_REASON, actor=SIMULATOR)
