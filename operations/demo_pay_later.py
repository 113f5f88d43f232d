"""The pay-later part of the demo (`seed_demo`): six demo customers shop with 花呗 at the demo
shop while the demo is aged, and the nightly close cuts their statements.

Every line has the same statement day, chosen so that the last statement was cut about a week
before the demo's last day (its due date is still ahead, so the demo customer's page shows a
statement to pay with its minimum). The stories run over the last three statements (the
first, second and third cut below), one customer each:

- `demo`: buys every month and pays each statement in full, converts a laptop into six parts
  the day after buying it (交易分期) and leaves the last statement to pay;
- `customer01` pays every statement in full by its due date (免息: no interest ever);
- `customer02` pays only the minimum (最低还款额): the next statement carries the rest
  (revolved) and its revolving interest (循环利息);
- `customer03` converts the second statement into six parts (账单分期) and pays the rest;
- `customer04` is refunded (退款) on a billed purchase while its statement is open, on a
  purchase whose statement was paid (a credit balance, which pays the next statement first
  and is partly left over), and on a purchase not yet billed;
- `customer20` (a demo customer who never borrows cash, so no loan of theirs is frozen by
  it) buys a phone and pays nothing: the statement falls past due, bears penalty interest,
  and the close freezes the customer's lines.

Everything goes through the lending services the checkout and the customer pages call, on
the business date of the aging day; the close does the rest (cuts, interest, penalty,
freezes). Amounts are fixed, not drawn, so that the stories do not depend on the demo's
random draws."""

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction

from accounts.models import Merchant, User
from core.audit import actor_system
from core.calendar import business_date_today
from core.idempotency import scope_of_user
from lending import services
from lending.models import CreditProduct, ProductKind, RepaymentMethod
from lending.rules.statements import previous_statement_date
from lending.selectors_pay_later import minimum_left, open_statement_of
from operations.demo_merchant import DEMO_MERCHANT_CODE

PRODUCT_CODE = "paylater"
SEEDING = actor_system("seed_demo")
# The last statement is cut at least this many days before the demo's last day, so that the
# stories' steps after it fit in; its due date (9 days after it) is then still ahead or today.
LAST_CUT_AT_LEAST_DAYS_BEFORE_END = 6
PAYS_DAYS_AFTER_CUT = 5  # well before the due date (9 days after the cut)
LIMITS = {
    "demo": "8000",
    "customer01": "6000",
    "customer02": "6000",
    "customer03": "8000",
    "customer04": "6000",
    "customer20": "5000",
}
# What every shopper but the past-due one buys in each of the three statements' periods: days
# before the cut, description, amount.
MONTHLY_SHOPPING = [
    (20, "Groceries", "236.50"),
    (8, "Coffee beans", "88.00"),
    (3, "Cinema tickets", "120.00"),
]


def pay_later_product_seed() -> CreditProduct:
    """The demo's pay-later product with the product defaults (statement due 9 days after the
    statement day, minimum 10 %, revolving interest 0.05 % a day, plans from 100). Closed to
    applications: the apply page decides cash loans; the demo opens its 花呗 lines itself."""
    return services.credit_product_create(
        code=PRODUCT_CODE,
        name="Pay later (花呗)",
        kind=ProductKind.PAY_LATER,
        min_daily_rate="0.00050",
        max_daily_rate="0.00050",
        penalty_daily_rate="0.00050",
        allowed_terms=[1],
        repayment_methods=[RepaymentMethod.EQUAL_INSTALMENT],
        grace_days=3,
        min_amount="1",
        max_amount="50000",
        apr_cap="24",
        max_partner_share="0",
        is_active=False,
        actor=SEEDING,
    )


def statement_day_for(end: date) -> int:
    """The statement day whose last cut before `end` is LAST_CUT_AT_LEAST_DAYS_BEFORE_END days
    before it, or a few more when that falls on the 29th to the 31st (statement days are 1-28)."""
    anchor = end - timedelta(days=LAST_CUT_AT_LEAST_DAYS_BEFORE_END)
    while anchor.day > 28:
        anchor -= timedelta(days=1)
    return anchor.day


class PayLaterDemo:
    """The pay-later stories over the aging days from `first_day` to the day before `end`:
    `work_day(today)` does what falls on `today`, before the night's close."""

    def __init__(self, *, first_day: date, end: date):
        self.first_day = first_day
        self.statement_day = statement_day_for(end)
        third = end - timedelta(days=LAST_CUT_AT_LEAST_DAYS_BEFORE_END)
        while third.day != self.statement_day:
            third -= timedelta(days=1)
        second = previous_statement_date(third)
        self.cuts = (previous_statement_date(second), second, third)
        if self.cuts[0] - timedelta(days=30) < first_day:
            raise ValueError("The demo ages too few days for three pay-later statements.")
        self.agenda = defaultdict(list)  # business date -> steps (functions of no argument)
        self.lines = {}  # username -> pay-later line
        self.purchases = {}  # (username, description) -> the last such purchase
        self.merchant = None
        self.orders = 0
        self._plan()

    def work_day(self, today: date):
        if today == self.first_day:
            self._open_lines()
        for step in self.agenda.pop(today, []):
            step()

    # The stories ------------------------------------------------------------------------

    def _plan(self):
        first, second, third = self.cuts
        for username in ("demo", "customer01", "customer02", "customer03", "customer04"):
            for cut in self.cuts if username != "customer04" else ():
                for days_before, description, amount in MONTHLY_SHOPPING:
                    self._on(
                        cut - timedelta(days=days_before), self._buy, username, description, amount
                    )
        for cut in self.cuts:
            self._on(cut + timedelta(days=PAYS_DAYS_AFTER_CUT), self._pay_in_full, "customer01")
            self._on(cut + timedelta(days=PAYS_DAYS_AFTER_CUT), self._pay_minimum, "customer02")
        for cut in (first, second):
            self._on(cut + timedelta(days=PAYS_DAYS_AFTER_CUT), self._pay_in_full, "demo")
        self._plan_demo_conversion(second)
        self._plan_statement_conversion(first, second, third)
        self._plan_refunds(second, third)
        self._plan_past_due(first)

    def _plan_demo_conversion(self, second):
        """交易分期: a laptop converted the day after it was bought, before any statement
        billed it; its parts fall on the second and third statements."""
        bought = second - timedelta(days=15)
        self._on(bought, self._buy, "demo", "Laptop", "3999.00")
        self._on(bought + timedelta(days=1), self._convert_purchase, "demo", "Laptop", 6)
        self._on(
            self.cuts[2] + timedelta(days=2),
            self._buy,
            "demo",
            "Longjing green tea, 250 g",
            "168.00",
        )

    def _plan_statement_conversion(self, first, second, third):
        """账单分期: the second statement (with a sofa on it) converted two days after its cut."""
        self._on(second - timedelta(days=12), self._buy, "customer03", "Sofa", "2680.00")
        self._on(first + timedelta(days=PAYS_DAYS_AFTER_CUT), self._pay_in_full, "customer03")
        self._on(second + timedelta(days=2), self._convert_statement, "customer03", 6)
        self._on(third + timedelta(days=PAYS_DAYS_AFTER_CUT), self._pay_in_full, "customer03")

    def _plan_refunds(self, second, third):
        """A part refund of billed shoes while their statement is open; the second statement
        paid; the jacket on it refunded whole (a credit balance, which pays the third statement,
        the headphones, and is partly left over); a lamp refunded before it is billed."""
        who = "customer04"
        self._on(second - timedelta(days=12), self._buy, who, "Running shoes", "699.00")
        self._on(second - timedelta(days=6), self._buy, who, "Rain jacket", "1099.00")
        self._on(second + timedelta(days=2), self._refund, who, "Running shoes", "200.00")
        self._on(second + timedelta(days=PAYS_DAYS_AFTER_CUT), self._pay_in_full, who)
        self._on(second + timedelta(days=8), self._refund, who, "Rain jacket", "1099.00")
        self._on(third - timedelta(days=10), self._buy, who, "Headphones", "899.00")
        self._on(third + timedelta(days=1), self._buy, who, "Desk lamp", "259.00")
        self._on(third + timedelta(days=3), self._refund, who, "Desk lamp", "259.00")

    def _plan_past_due(self, first):
        """A phone and its case before the first statement, a charger just after it, nothing
        ever paid: past due after the due date and the grace days, then frozen."""
        who = "customer20"
        self._on(first - timedelta(days=18), self._buy, who, "Smartphone", "2899.00")
        self._on(first - timedelta(days=5), self._buy, who, "Phone case", "59.00")
        self._on(first + timedelta(days=3), self._buy, who, "Charger", "129.00")

    def _on(self, day, step, *args):
        if not self.first_day < day:
            raise ValueError(f"A pay-later demo step falls on {day}, before the lines open.")
        self.agenda[day].append(lambda: step(*args))

    # The steps, each one service call ----------------------------------------------------

    def _open_lines(self):
        product = pay_later_product_seed()
        self.merchant = Merchant.objects.get(code=DEMO_MERCHANT_CODE)
        for username, limit in LIMITS.items():
            self.lines[username] = services.pay_later_line_open(
                customer=User.objects.get(username=username),
                product=product,
                credit_limit=Decimal(limit),
                statement_day=self.statement_day,
                actor=SEEDING,
            )

    def _buy(self, username, description, amount):
        self.orders += 1
        with transaction.atomic(durable=True):
            self.purchases[username, description] = services.purchase_create(
                line=self.lines[username],
                merchant=self.merchant,
                amount=Decimal(amount),
                description=description,
                order_reference=f"DEMO-PL-{self.orders:04d}",
            )

    def _pay(self, username, amount):
        line = self.lines[username]
        if amount > 0:
            services.line_pay(
                line=line,
                amount=amount,
                scope=scope_of_user(line.customer_id),
                idempotency_key=f"seed-pay-later-{line.pk}-{business_date_today()}",
            )

    def _pay_in_full(self, username):
        """The open statement's balance (what its page's "pay in full" offers)."""
        statement = open_statement_of(self.lines[username])
        self._pay(username, statement.balance if statement else Decimal("0"))

    def _pay_minimum(self, username):
        statement = open_statement_of(self.lines[username])
        self._pay(username, minimum_left(statement) if statement else Decimal("0"))

    def _convert_purchase(self, username, description, term_months):
        purchase = self.purchases[username, description]
        purchase.refresh_from_db()
        quote = services.plan_quote_for_purchase(purchase=purchase, term_months=term_months)
        services.purchase_convert(
            purchase=purchase, term_months=term_months, shown=services.plan_quote_fingerprint(quote)
        )

    def _convert_statement(self, username, term_months):
        statement = open_statement_of(self.lines[username])
        quote = services.plan_quote_for_statement(statement=statement, term_months=term_months)
        services.statement_convert(
            statement=statement,
            term_months=term_months,
            shown=services.plan_quote_fingerprint(quote),
        )

    def _refund(self, username, description, amount):
        purchase = self.purchases[username, description]
        with transaction.atomic(durable=True):
            services.purchase_refund(
                purchase=purchase,
                amount=Decimal(amount),
                reference=f"DEMO-REFUND-{purchase.pk}-{amount}",
            )
