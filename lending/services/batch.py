"""The set-based booking path: many lines, loans or repayments in one transaction.

It books exactly what the one-at-a-time services book — the same quote, allocation, funder
shares, ledger legs and idempotency records, through the same functions — with a handful of
statements instead of a few per row (a repayment through `loan_repay` costs about 20 ms; a
simulated year of 20,000 customers would take over an hour). `tests/operations/
test_simulation.py` books one population both ways and compares every row.

The same guarantees hold: lines are updated (never inserted with a balance) so the database's
no-overdraw trigger checks each one, every entry balances, and locks are taken in the services'
order (lines, then loans)."""

from collections import defaultdict
from dataclasses import dataclass, replace
from decimal import Decimal
from types import SimpleNamespace

from django.db import transaction
from django.utils import timezone

from accounts.models import PartnerBank
from core.audit import AuditDraft, audit_events_append_many
from core.batch import BATCH, rows_update, statistics_refresh
from core.calendar import business_date_today
from core.idempotency import actor_of_scope, idempotency_records_store_many
from core.money import to_money, to_rate

from ..errors import InsufficientCredit, LendingError, LineNotUsable
from ..models import (
    CreditLine,
    CreditLineStatus,
    Instalment,
    InstalmentStatus,
    JournalEntry,
    Loan,
    LoanFunding,
    LoanStatus,
    Posting,
    Repayment,
)
from ..rules.allocation import allocate_payment, payoff_amount
from ..rules.delinquency import amount_due_by, days_past_due_of
from ..rules.status import LOAN_TRANSITIONS, transition_check
from .ledger import JournalBatch
from .origination import (
    disbursement_legs,
    funding_rows,
    loan_quote_for_line,
    origination_audit_payload,
    partner_bank_next,
    partner_banks_with_funded_counts,
)
from .penalty import penalty_receivable_by_loan
from .repayment import (
    STATE_FIELDS,
    Income,
    funder_income_parts,
    funder_principal_parts,
    income_repaid_before,
    instalment_state,
    instalments_apply,
    repayment_audit_payload,
    repayment_legs,
)

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class DrawRequest:
    """One draw, as `loan_originate` would take it."""

    line: CreditLine
    principal: Decimal
    term_months: int
    method: str
    idempotency_key: str
    scope: str


@dataclass(frozen=True)
class PaymentRequest:
    """A payment on a loan today: what is due by today, or (payoff) all that settles it."""

    loan_id: int
    idempotency_key: str
    scope: str
    payoff: bool = False


def credit_lines_open_many(*, customers, product, limits, rates) -> list[CreditLine]:
    """Credit lines as `credit_line_open` opens them, on the business date."""
    today = business_date_today()
    limits = [to_money(limit, what="credit limit") for limit in limits]
    rates = [to_rate(rate, what="daily rate") for rate in rates]
    for rate in rates:
        if not product.min_daily_rate <= rate <= product.max_daily_rate:
            raise LendingError(f"The daily rate {rate} lies outside the product's band.")
    return CreditLine.objects.bulk_create(
        [CreditLine(customer=c, product=product, credit_limit=limit, daily_rate=rate,
                    opened_on=today)
         for c, limit, rate in zip(customers, limits, rates, strict=True)], batch_size=BATCH)


def book_statistics_refresh():
    """After a large batch, so that the next queries (the nightly close's) plan for the real
    table sizes. It may run before the commit's deferred balance check."""
    statistics_refresh(Instalment, Loan, LoanFunding, CreditLine, Posting, JournalEntry)


def loans_originate_many(draws: list[DrawRequest]) -> list[Loan]:
    """Draw many cash loans at once, each exactly as `loan_originate` would."""
    today = business_date_today()
    quotes = {}
    loans, schedules = [], []
    draws = [replace(d, principal=to_money(d.principal, what="amount")) for d in draws]
    for d in draws:
        line = d.line
        if line.status != CreditLineStatus.ACTIVE:
            raise LineNotUsable(f"Line {line.pk} is {line.get_status_display().lower()}.")
        key = (d.principal, d.term_months, d.method, line.daily_rate, line.product_id)
        if key not in quotes:
            quotes[key] = loan_quote_for_line(line=line, principal=d.principal,
                                              term_months=d.term_months, method=d.method,
                                              start=today)
        if d.principal > line.available:
            raise InsufficientCredit(f"Only {line.available} is available on line {line.pk}.")
        line.outstanding_principal += d.principal
        loans.append(Loan(line=line, principal=d.principal, term_months=d.term_months,
                          method=d.method, daily_rate=line.daily_rate, apr=quotes[key].apr,
                          disbursed_on=today, outstanding_principal=d.principal))
        schedules.append(quotes[key].instalments)
    with transaction.atomic(durable=True):
        rows_update(CreditLine, ["outstanding_principal", "updated_at"],
                    [(d.line.outstanding_principal, timezone.now(), d.line.pk) for d in draws])
        Loan.objects.bulk_create(loans, batch_size=BATCH)
        Instalment.objects.bulk_create(
            [Instalment(loan=loan, seq=i.seq, period_start=i.period_start, due_date=i.due_date,
                        principal_due=i.principal, interest_due=i.interest)
             for loan, schedule in zip(loans, schedules, strict=True) for i in schedule],
            batch_size=BATCH)
        banks = partner_banks_with_funded_counts()
        fundings, per_loan, journal = [], [], JournalBatch(today)
        for loan in loans:
            bank = partner_bank_next(banks)
            mine = funding_rows(loan, loan.line.product, bank)
            if any(f.partner_bank is not None for f in mine):
                bank.funded += 1
            fundings += mine
            per_loan.append(mine)
            journal.add(kind="disbursement", loan_id=loan.pk, legs=disbursement_legs(mine),
                        memo=f"Loan {loan.pk} disbursed")
        LoanFunding.objects.bulk_create(fundings, batch_size=BATCH)
        journal.post()
        audit_events_append_many(
            AuditDraft(actor=actor_of_scope(d.scope), action="loan.originate",
                       subject_kind="loan", subject_id=loan.pk,
                       payload=origination_audit_payload(loan, loan_fundings))
            for d, loan, loan_fundings in zip(draws, loans, per_loan, strict=True))
        book_statistics_refresh()
        idempotency_records_store_many(
            (d.scope, d.idempotency_key,
             {"line": loan.line_id, "principal": str(loan.principal), "term": loan.term_months,
              "method": loan.method}, {"loan_id": loan.pk})
            for d, loan in zip(draws, loans, strict=True))
    return loans


class _Row:
    """A row read as plain values: building 240,000 model instances a day is slow."""

    __slots__ = ()

    def __init__(self, *values):
        for name, value in zip(self.__slots__, values, strict=True):
            setattr(self, name, value)


class _InstalmentRow(_Row):
    __slots__ = ("pk", "loan_id", *STATE_FIELDS, "status", "paid_on")
    total_due = property(Instalment.total_due.fget)
    total_paid = property(Instalment.total_paid.fget)
    remaining = property(Instalment.remaining.fget)


class _FundingRow(_Row):
    __slots__ = ("pk", "loan_id", "partner_bank_id", "share", "principal",
                 "outstanding_principal", "partner_bank")


def loans_repay_many(payments: list[PaymentRequest]) -> list[Repayment]:
    """Take many payments at once, each allocated and shared exactly as `loan_repay` would.
    A loan already settled, or owing nothing today, is skipped."""
    today = business_date_today()
    wanted = {p.loan_id: p for p in payments}
    with transaction.atomic(durable=True):
        owed = dict(CreditLine.objects.select_for_update(of=("self",))
                    .filter(loans__pk__in=list(wanted)).order_by("pk")
                    .values_list("pk", "outstanding_principal"))
        loans = {loan.pk: loan for loan in Loan.objects.select_for_update(of=("self",))
                 .filter(pk__in=list(wanted), status=LoanStatus.ACTIVE).order_by("pk")}
        instalments = _instalment_rows(loans)
        fundings = _funding_rows(loans)
        # One payment per loan in a batch: what the loan's earlier payments took, as
        # `loan_repay` reads it, so the banks' shares are rounded cumulatively the same way.
        income_before = income_repaid_before(loans)
        line_paid = defaultdict(lambda: ZERO)
        changed_instalments, repayments, booked = [], [], []
        for loan_id, loan in loans.items():
            states = [instalment_state(i) for i in instalments[loan_id]]
            amount = (payoff_amount(states, today, loan.daily_rate) if wanted[loan_id].payoff
                      else amount_due_by(instalments[loan_id], today))
            if amount <= 0:
                continue
            allocation = allocate_payment(states, amount, today, loan.daily_rate)
            changed_instalments += instalments_apply(instalments[loan_id], allocation, today)
            parts = funder_principal_parts(fundings[loan_id], loan, allocation.principal)
            income_parts = funder_income_parts(fundings[loan_id],
                                               income_before.get(loan_id, Income()), allocation)
            for f in fundings[loan_id]:
                f.outstanding_principal -= parts[f.pk]
            loan.outstanding_principal -= allocation.principal
            loan.days_past_due = days_past_due_of(instalments[loan_id], today)
            if all(i.status == InstalmentStatus.PAID for i in instalments[loan_id]):
                transition_check(LOAN_TRANSITIONS, loan.status, LoanStatus.PAID_OFF, what="loan")
                loan.status, loan.paid_off_on = LoanStatus.PAID_OFF, today
            line_paid[loan.line_id] += allocation.principal
            repayments.append(Repayment(
                loan_id=loan_id, amount=amount, principal=allocation.principal,
                interest=allocation.interest, fee=allocation.fee, penalty=allocation.penalty,
                paid_on=today))
            booked.append((loan, allocation, parts, income_parts))
        columns = STATE_FIELDS[1:] + ["status", "paid_on"]
        rows_update(Instalment, columns, [tuple(getattr(i, c) for c in columns) + (i.pk,)
                                          for i in changed_instalments])
        paid_loans = [loan for loan, *_rest in booked]
        rows_update(LoanFunding, ["outstanding_principal"],
                    [(f.outstanding_principal, f.pk) for loan in paid_loans
                     for f in fundings[loan.pk]])
        rows_update(Loan, ["outstanding_principal", "days_past_due", "status", "paid_off_on"],
                    [(loan.outstanding_principal, loan.days_past_due, loan.status,
                      loan.paid_off_on, loan.pk) for loan in paid_loans])
        now = timezone.now()
        rows_update(CreditLine, ["outstanding_principal", "updated_at"],
                    [(owed[line_id] - amount, now, line_id)
                     for line_id, amount in sorted(line_paid.items())])
        repayments = Repayment.objects.bulk_create(repayments, batch_size=BATCH)
        journal = JournalBatch(today)
        # Read under the loans' locks, as `loan_repay` reads it.
        penalty_receivable = penalty_receivable_by_loan(paid_loan.pk for paid_loan in paid_loans)
        for repayment, (loan, allocation, parts, income_parts) in zip(repayments, booked,
                                                                       strict=True):
            journal.add(kind="repayment", loan_id=loan.pk,
                        legs=repayment_legs(allocation, fundings[loan.pk], parts, income_parts,
                                            penalty_receivable.get(loan.pk, ZERO)),
                        memo=f"Repayment {repayment.pk} on loan {loan.pk}")
        journal.post()
        audit_events_append_many(
            AuditDraft(actor=actor_of_scope(wanted[loan.pk].scope), action="loan.repay",
                       subject_kind="loan", subject_id=loan.pk,
                       payload=repayment_audit_payload(repayment, loan))
            for repayment, (loan, *_rest) in zip(repayments, booked, strict=True))
        idempotency_records_store_many(
            (wanted[r.loan_id].scope, wanted[r.loan_id].idempotency_key,
             {"loan": r.loan_id, "amount": str(r.amount)}, {"repayment_id": r.pk})
            for r in repayments)
    return repayments


def _instalment_rows(loans):
    rows = defaultdict(list)
    for values in (Instalment.objects.filter(loan_id__in=list(loans))
                   .order_by("loan_id", "seq").values_list(*_InstalmentRow.__slots__)):
        row = _InstalmentRow(*values)
        rows[row.loan_id].append(row)
    return rows


def _funding_rows(loans):
    banks = {pk: SimpleNamespace(pk=pk, code=code)
             for pk, code in PartnerBank.objects.values_list("pk", "code")}
    rows = defaultdict(list)
    for values in (LoanFunding.objects.filter(loan_id__in=list(loans)).order_by("pk")
                   .values_list(*_FundingRow.__slots__[:-1])):
        row = _FundingRow(*values, banks.get(values[2]))
        rows[row.loan_id].append(row)
    return rows
