"""Pay-later shopping (花呗) in the simulated history: which customers have a pay-later line,
what they buy each month at the simulation's merchant, and how they pay their statements,
from their hidden risk. The nightly close cuts the statements, charges revolving interest and
penalty and freezes the lines of those past due, as for everyone.

The plans are pure (numpy, drawn from a generator of their own, so the customers, truths and
loan plans of a seed are the same as before shopping was simulated). The bookings go through
the pay-later services one request at a time, as the checkout and the customer pages make
them; a purchase the platform refuses (a frozen line, not enough credit) is simply not made.

How a shopper pays each statement, a few days after it is cut:
- most pay it in full; a share pays only the minimum (最低还款额), riskier customers more often;
- now and then (riskier customers more often) the minimum is paid only after the due date and
  the grace days: the statement is past due until then;
- a defaulter stops paying a month before the first cash instalment they miss;
- a minimum payer converts some statements into instalments (账单分期) the day after the cut;
- a few purchases are refunded in part some days later (before or after billing)."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
from django.db import transaction

from accounts.models import Merchant
from accounts.services.merchants import merchant_create
from core.audit import actor_system
from core.idempotency import scope_of_user
from lending import services
from lending.errors import LendingError
from lending.models import CreditProduct, ProductKind, RepaymentMethod
from lending.rules.schedule import add_months_anchored, due_dates
from lending.selectors_pay_later import minimum_left, open_statement_of

from .population import TERM_MONTHS, Population

SIMULATOR = actor_system("simulate_population")
PRODUCT_CODE = "sim-paylater"
MERCHANT_CODE = "sim-shop"
SHARE_WITH_LINE = 0.1
# At most this many shoppers, whatever the population: each purchase and payment is booked
# through the services one request at a time (about ten statements each), so shoppers cost far
# more than borrowers, booked set-based. Enough for the statements, the close's pay-later steps
# and the dashboards to see both products; a set-based booking path would lift the cap.
MOST_SHOPPERS = 100
MINIMUM_PAYER_BASE, MINIMUM_PAYER_SLOPE = 0.15, 2.0  # share paying the minimum: base + slope p
LATE_BASE, LATE_SLOPE = 0.02, 0.6  # a statement's minimum paid late: base + slope x p
CONVERT_SHARE = 0.08  # of a minimum payer's statements
REFUND_SHARE = 0.04  # of purchases
DUE_DAYS, GRACE_DAYS = 9, 3  # the simulation's product (below)
STOPS_BEFORE_DEFAULT = timedelta(days=30)


@dataclass(frozen=True)
class Shopper:
    """One customer's pay-later line and habits (`index`: their place in the population)."""

    index: int
    credit_limit: Decimal
    statement_day: int
    monthly_spend: float
    pays_minimum: bool
    late_share: float
    stops_on: date | None  # a defaulter pays nothing from this day


def shoppers_plan(population: Population) -> list[Shopper]:
    rng = np.random.default_rng([population.seed, 20261])
    n = len(population)
    p = population.true_probability
    income = np.array([float(row[2]) for row in population.profile_rows])
    has_line = rng.random(n) < SHARE_WITH_LINE
    limits = np.clip(np.round(income * rng.uniform(0.5, 1.5, n) / 500) * 500, 1000, 20000)
    days = rng.integers(1, 29, n)
    spend = income * rng.lognormal(np.log(0.08), 0.5, n)
    minimum = rng.random(n) < MINIMUM_PAYER_BASE + MINIMUM_PAYER_SLOPE * p
    dues = due_dates(population.start, TERM_MONTHS)
    shoppers = []
    for i in np.flatnonzero(has_line)[:MOST_SHOPPERS]:
        default_seq = population.plans[i].default_seq
        shoppers.append(
            Shopper(
                index=int(i),
                credit_limit=Decimal(int(limits[i])),
                statement_day=int(days[i]),
                monthly_spend=float(spend[i]),
                pays_minimum=bool(minimum[i]),
                late_share=float(LATE_BASE + LATE_SLOPE * p[i]),
                stops_on=(dues[default_seq - 1] - STOPS_BEFORE_DEFAULT if default_seq else None),
            )
        )
    return shoppers


def _cents(value: float) -> Decimal:
    return Decimal(int(round(value * 100))).scaleb(-2)


def sim_pay_later_ensure() -> tuple[CreditProduct, Merchant]:
    """The simulation's pay-later product (the product defaults, closed to applications) and
    the merchant its customers shop at, created once and reused by later runs."""
    product = CreditProduct.objects.filter(code=PRODUCT_CODE).first()
    if product is None:
        product = services.credit_product_create(
            code=PRODUCT_CODE,
            name="Simulated pay later",
            kind=ProductKind.PAY_LATER,
            min_daily_rate="0.00050",
            max_daily_rate="0.00050",
            penalty_daily_rate="0.00050",
            allowed_terms=[1],
            repayment_methods=[RepaymentMethod.EQUAL_INSTALMENT],
            grace_days=GRACE_DAYS,
            min_amount="1",
            max_amount="50000",
            apr_cap="24",
            max_partner_share="0",
            is_active=False,
            actor=SIMULATOR,
        )
    if not Merchant.objects.filter(code=MERCHANT_CODE).exists():
        merchant_create(
            code=MERCHANT_CODE,
            name="Simulated shop",
            return_url_prefixes=["https://shop.sim.invalid/"],
        )
    return product, Merchant.objects.get(code=MERCHANT_CODE)


class Shopping:
    """The shoppers' days: `open_lines()` on day 0, then `day(today)` before each close."""

    def __init__(self, population: Population, users):
        self.population = population
        self.users = users
        self.shoppers = shoppers_plan(population)
        self.lines = {}  # customer index -> pay-later line
        self.agenda = defaultdict(list)  # day -> (method, shopper, argument)
        rng = np.random.default_rng([population.seed, 20262])
        for shopper in self.shoppers:
            self._plan(shopper, rng)

    def _plan(self, shopper, rng):
        start, end = self.population.start, self.population.end
        month = 0
        while (
            cut := add_months_anchored(start.replace(day=1), month).replace(
                day=shopper.statement_day
            )
        ) < end:
            month += 1
            bought = cut - timedelta(days=int(rng.integers(1, 28)))
            amount = _cents(max(shopper.monthly_spend * rng.lognormal(0.0, 0.4), 10.0))
            reference = f"sim-{self.population.seed}-{shopper.index}-{month}"
            if start < bought < end:
                self.agenda[bought].append((self._buy, shopper, (reference, amount)))
                if rng.random() < REFUND_SHARE:
                    refunded = bought + timedelta(days=int(rng.integers(2, 21)))
                    share = Decimal(str(round(rng.uniform(0.3, 1.0), 2)))
                    self.agenda[refunded].append(
                        (self._refund, shopper, (reference, _cents(float(amount * share))))
                    )
            if cut <= start or (shopper.stops_on and cut >= shopper.stops_on):
                continue
            late = rng.random() < shopper.late_share
            pays_on = cut + timedelta(
                days=int(
                    DUE_DAYS + GRACE_DAYS + rng.integers(1, 15) if late else rng.integers(1, 9)
                )
            )
            if shopper.pays_minimum and rng.random() < CONVERT_SHARE:
                self.agenda[cut + timedelta(days=1)].append(
                    (self._convert, shopper, int(rng.choice([3, 6, 12])))
                )
            self.agenda[pays_on].append((self._pay, shopper, late or shopper.pays_minimum))

    def open_lines(self):
        product, self.merchant = sim_pay_later_ensure()
        for shopper in self.shoppers:
            self.lines[shopper.index] = services.pay_later_line_open(
                customer=self.users[shopper.index],
                product=product,
                credit_limit=shopper.credit_limit,
                statement_day=shopper.statement_day,
                actor=SIMULATOR,
            )

    def day(self, today):
        for method, shopper, argument in self.agenda.pop(today, []):
            method(self.lines[shopper.index], argument)

    def _buy(self, line, order):
        reference, amount = order
        try:
            with transaction.atomic(durable=True):
                services.purchase_create(
                    line=line, merchant=self.merchant, amount=amount, order_reference=reference
                )
        except LendingError:
            pass  # refused at the checkout (frozen, not enough credit): nothing bought

    def _refund(self, line, refund):
        reference, amount = refund
        purchase = line.purchases.filter(order_reference=reference).first()
        if purchase is not None:
            with transaction.atomic(durable=True):
                services.purchase_refund(
                    purchase=purchase, amount=amount, reference=f"{reference}-refund"
                )

    def _convert(self, line, term_months):
        statement = open_statement_of(line)
        if statement is None:
            return
        try:
            quote = services.plan_quote_for_statement(statement=statement, term_months=term_months)
            services.statement_convert(
                statement=statement,
                term_months=term_months,
                shown=services.plan_quote_fingerprint(quote),
            )
        except LendingError:
            pass  # too small, or past due: the customer keeps the statement as it is

    def _pay(self, line, minimum_only):
        statement = open_statement_of(line)
        if statement is None:
            return
        amount = minimum_left(statement) if minimum_only else statement.balance
        if amount > 0:
            services.line_pay(
                line=line,
                amount=amount,
                scope=scope_of_user(line.customer_id),
                idempotency_key=f"sim-pay-later-{line.pk}-{statement.pk}",
            )
