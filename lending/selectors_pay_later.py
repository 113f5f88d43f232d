"""Reads of the pay-later line (花呗) for its customer pages and its services: what is owed, the
line's summary, and each list the pages show. Every list is one query (amounts a list needs
are annotated, never fetched per row); a page of one statement, purchase or plan adds one
query per kind of item it lists.

Every read starts from a line the caller already holds: the pages get it from
`pay_later_line_for(user)`, so a customer never reaches another customer's rows."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, F, Q, Sum, Value
from django.db.models.functions import Coalesce

from core.money import money_field

from .models import (
    CreditLine,
    InstalmentPlan,
    PayLaterPayment,
    PlanPart,
    PlanPartStatus,
    ProductKind,
    Purchase,
    Refund,
    Statement,
    StatementStatus,
)
from .rules.statements import statement_date_for

ZERO = Decimal("0.00")


def _sum(expression):
    return Coalesce(Sum(expression), Value(ZERO), output_field=money_field())


def pay_later_line_for(user) -> CreditLine | None:
    """The customer's pay-later line (a customer has at most one per product; the first if a
    second product ever exists), or None: staff and cash-only customers have none."""
    return (
        CreditLine.objects.filter(customer=user, product__kind=ProductKind.PAY_LATER)
        .select_related("product")
        .order_by("pk")
        .first()
    )


def open_statement_of(line) -> Statement | None:
    return Statement.objects.filter(line=line, status=StatementStatus.OPEN).first()


def minimum_left(statement) -> Decimal:
    """最低还款额 still to pay on a statement: its minimum less what was paid on it, never more
    than its balance (refunds lower both)."""
    return max(min(statement.minimum_due - statement.total_paid, statement.balance), ZERO)


def unbilled_purchases(line):
    """Purchases no statement has billed yet and no plan has taken, oldest first, each with
    `left`: what is still owed on it (its amount less refunds and early payments)."""
    return (
        Purchase.objects.filter(line=line, statement__isnull=True, plan__isnull=True)
        .annotate(left=F("amount") - F("refunded") - F("paid_before_billing"))
        .order_by("posted_on", "pk")
    )


def unbilled_total(line) -> Decimal:
    """What the line's unbilled purchases still owe: what the next statement will bill now."""
    return unbilled_purchases(line).aggregate(total=_sum("left"))["total"]


def line_owed(line) -> Decimal:
    """What a payment can pay today: the open statement's balance and the unbilled purchases.
    The unbilled principal of instalment plans is not in it: a plan is paid part by part, or
    settled early on its own page."""
    statement = open_statement_of(line)
    return (statement.balance if statement else ZERO) + unbilled_total(line)


@dataclass(frozen=True)
class LineSummary:
    """The pay-later home's figures."""

    line: CreditLine
    statement: Statement | None
    unbilled: Decimal
    next_statement_date: date
    owed: Decimal
    minimum_left: Decimal
    # The open statement is past its due date with something left: revolving interest runs.
    revolving: bool
    plans_unbilled_principal: Decimal


def line_summary(line, today: date) -> LineSummary:
    statement = open_statement_of(line)
    unbilled = unbilled_total(line)
    plans = PlanPart.objects.filter(plan__line=line, status=PlanPartStatus.SCHEDULED).aggregate(
        total=_sum("principal")
    )["total"]
    return LineSummary(
        line=line,
        statement=statement,
        unbilled=unbilled,
        # The statement of a purchase made today: today itself on the statement day, whose
        # statement the night's close cuts.
        next_statement_date=statement_date_for(today, line.statement_day or 1),
        owed=(statement.balance if statement else ZERO) + unbilled,
        minimum_left=minimum_left(statement) if statement else ZERO,
        revolving=bool(statement and statement.balance > 0 and today > statement.due_date),
        plans_unbilled_principal=plans,
    )


@dataclass(frozen=True)
class AmountRow:
    """One kind of amount a statement asks for: due, paid and still to pay."""

    kind: str  # purchases, parts, fees, interest, penalty
    due: Decimal
    paid: Decimal

    @property
    def left(self) -> Decimal:
        return self.due - self.paid


def statement_amounts(statement) -> list[AmountRow]:
    """The statement's amounts in the order a payment settles them, last first as a customer
    reads a bill (purchases first); kinds it never asked for are left out, purchases never."""
    rows = [
        AmountRow(kind, getattr(statement, f"{kind}_due"), getattr(statement, f"{kind}_paid"))
        for kind in ("purchases", "parts", "fees", "interest", "penalty")
    ]
    return [row for row in rows if row.kind == "purchases" or row.due]


def statements_of(line):
    """The line's statements, newest first."""
    return Statement.objects.filter(line=line).order_by("-seq")


def statement_next(statement) -> Statement | None:
    """The statement a rolled statement's unpaid balance moved to."""
    return Statement.objects.filter(line_id=statement.line_id, seq=statement.seq + 1).first()


@dataclass(frozen=True)
class StatementItems:
    purchases: list
    parts: list
    plans: list  # instalment plans made from this statement or its purchases
    refunds: list
    payments: list


def statement_items(statement) -> StatementItems:
    """What a statement billed and what was credited to it: one query per kind of item."""
    return StatementItems(
        purchases=list(
            Purchase.objects.filter(statement=statement)
            .select_related("merchant")
            .order_by("posted_on", "pk")
        ),
        parts=list(
            PlanPart.objects.filter(statement=statement)
            .select_related("plan")
            .annotate(total=F("principal") + F("fee"))
            .order_by("plan_id", "seq")
        ),
        plans=list(InstalmentPlan.objects.filter(statement=statement).order_by("pk")),
        refunds=list(
            Refund.objects.filter(statement=statement)
            .select_related("purchase__merchant")
            .order_by("business_date", "pk")
        ),
        # What each payment paid on this statement (the rest of it paid unbilled purchases).
        payments=list(
            PayLaterPayment.objects.filter(statement=statement)
            .annotate(
                to_statement=F("penalty") + F("interest") + F("fees") + F("parts") + F("purchases")
            )
            .order_by("business_date", "pk")
        ),
    )


def purchases_of(line):
    """The line's purchases, newest first, with their merchant, statement and plan."""
    return (
        Purchase.objects.filter(line=line)
        .select_related("merchant", "statement", "plan")
        .order_by("-posted_on", "-pk")
    )


def refunds_of(purchase):
    return Refund.objects.filter(purchase=purchase).select_related("statement").order_by("pk")


def plans_of(line):
    """The line's instalment plans, newest first, each with its parts counted by status and
    its unbilled principal and fees (`left_principal`, `left_fees`)."""
    scheduled = Q(parts__status=PlanPartStatus.SCHEDULED)
    return (
        InstalmentPlan.objects.filter(line=line)
        .select_related("source_purchase__merchant", "statement")
        .annotate(
            parts_billed=Count("parts", filter=Q(parts__status=PlanPartStatus.BILLED)),
            parts_scheduled=Count("parts", filter=scheduled),
            left_principal=Coalesce(
                Sum("parts__principal", filter=scheduled), Value(ZERO), output_field=money_field()
            ),
            left_fees=Coalesce(
                Sum("parts__fee", filter=scheduled), Value(ZERO), output_field=money_field()
            ),
        )
        .order_by("-pk")
    )


def plan_parts_of(plan):
    return (
        PlanPart.objects.filter(plan=plan)
        .select_related("statement")
        .annotate(total=F("principal") + F("fee"))
        .order_by("seq")
    )


def plan_settlements_of(plan):
    return PayLaterPayment.objects.filter(plan=plan).order_by("pk")
