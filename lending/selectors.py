"""Reads that are more than a `get`."""

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import ExpressionWrapper, F, Q, Sum

from core.batch import field_in
from core.money import money_field, round_money

from .models import (
    CreditLine,
    Instalment,
    InstalmentStatus,
    LimitChange,
    Loan,
    Posting,
    RateChange,
    Repayment,
)
from .rules.delinquency import amount_due_by


def lines_for_customer(user):
    return CreditLine.objects.filter(customer=user).select_related("product").order_by("pk")


@dataclass(frozen=True)
class LineChange:
    """A change of a line's limit or rate as the customer is told of it."""

    business_date: object
    what: str  # "limit" or "rate"
    old: Decimal
    new: Decimal
    reason: str


# An officer's reason is a note for colleagues; the customer is told who decided, not the note.
OFFICER_CHANGE = "Changed by our credit team."


def line_changes_recent(line, count: int = 5) -> list[LineChange]:
    """The line's latest limit and rate changes, newest first, with the reasons the customer
    reads (the rescoring's are written for them)."""
    limits = [LineChange(c.business_date, "limit", c.old_limit, c.new_limit,
                         OFFICER_CHANGE if c.officer_id else c.reason)
              for c in LimitChange.objects.filter(line=line).order_by("-pk")[:count]]
    # Rates in percent a day, as many decimals as they have: 0.00050000 -> 0.05.
    rates = [LineChange(c.business_date, "rate", (c.old_rate * 100).normalize(),
                        (c.new_rate * 100).normalize(), c.reason)
             for c in RateChange.objects.filter(line=line).order_by("-pk")[:count]]
    return sorted(limits + rates, key=lambda c: c.business_date, reverse=True)[:count]


def loans_for_customer(user):
    return Loan.objects.filter(line__customer=user).select_related("line__product").order_by("-pk")


def loans_funded_by(partner_bank):
    return (Loan.objects.filter(fundings__partner_bank=partner_bank)
            .select_related("line__product").order_by("pk"))


def income_repaid_by_loan(loan_ids) -> dict[int, dict[str, Decimal]]:
    """Interest, fees and penalty taken by each loan's repayments so far (loans without a
    repayment are left out)."""
    return {
        row.pop("loan_id"): row
        for row in Repayment.objects.filter(field_in("loan_id", loan_ids)).order_by()
        .values("loan_id").annotate(interest=Sum("interest"), fee=Sum("fee"),
                                    penalty=Sum("penalty"))
    }


def instalments_of(loan):
    return Instalment.objects.filter(loan=loan).order_by("seq")


def overdue_instalment_count(loan) -> int:
    return Instalment.objects.filter(loan=loan, status=InstalmentStatus.OVERDUE).count()


def ledger_principal_of(loan) -> Decimal:
    """The loan's outstanding principal as the ledger has it, across every funder."""
    total = (Posting.objects.filter(loan=loan, account__code__startswith="principal_receivable:")
             .aggregate(total=Sum("amount"))["total"])
    return total or Decimal("0.00")


def ledger_account_balance(code: str) -> Decimal:
    total = Posting.objects.filter(account__code=code).aggregate(total=Sum("amount"))["total"]
    return total or Decimal("0.00")


def unbalanced_entry_ids():
    """Entries whose postings do not sum to zero (the database refuses them; this double-checks)."""
    return list(
        Posting.objects.values("entry_id").annotate(total=Sum("amount"))
        .filter(~Q(total=0)).values_list("entry_id", flat=True)
    )


def amount_due_on(loan, day) -> Decimal:
    """What the customer owes on `day` for instalments due by then (not the payoff amount)."""
    return amount_due_by(instalments_of(loan), day)


def amounts_due_by(wanted) -> dict[tuple, Decimal]:
    """The set-based twin of `amount_due_by` for many loans: {(loan id, day): what is owed on
    `day` for the loan's instalments due by then}, for each (loan id, day) in `wanted`; a loan
    owing nothing by that day is left out. One summing query per distinct day (a night's
    reminders speak of a handful), none per loan."""
    loans_by_day = defaultdict(set)
    for loan_id, day in wanted:
        loans_by_day[day].add(loan_id)
    owed = F("principal_due") + F("interest_due") + F("fee_due") + F("penalty_due")
    paid = F("principal_paid") + F("interest_paid") + F("fee_paid") + F("penalty_paid")
    remaining = ExpressionWrapper(owed - paid, output_field=money_field())
    amounts = {}
    for day, loan_ids in loans_by_day.items():
        for loan_id, total in (Instalment.objects
                               .filter(field_in("loan_id", loan_ids), due_date__lte=day)
                               .exclude(status=InstalmentStatus.PAID)
                               .values("loan_id").annotate(total=Sum(remaining))
                               .values_list("loan_id", "total")):
            # Rounded to the cent: SQLite (the demo database) sums decimals as floats.
            if total and (amount := round_money(Decimal(total))) > 0:
                amounts[(loan_id, day)] = amount
    return amounts
