"""The set-based booking path: many lines, loans or repayments in one transaction.

It books exactly what the one-at-a-time services book — the same quote, allocation, funder
shares, ledger legs and idempotency records, through the same functions — with a handful of
statements instead of a few per row (a repayment through `loan_repay` costs about 20 ms; a
simulated year of 20,000 customers would take over an hour). `tests/operations/
test_simulation.py` books one population both ways and compares every row.

New rows go in through `core.batch.rows_insert` (COPY on PostgreSQL), with ids taken from the
tables' own sequences first where later rows refer to them, and changed rows through
`core.batch.rows_update`: building a model instance per row and the INSERT's SQL for it cost
more than everything else a repayment does. Rows are read as plain values, never as model
instances.

The same guarantees hold: lines are updated (never inserted with a balance) so the database's
no-overdraw trigger checks each one, every entry balances, and locks are taken in the services'
order (lines, then loans)."""

from collections import defaultdict
from dataclasses import dataclass, replace
from decimal import Decimal
from types import SimpleNamespace

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from core.audit import AuditDraft, audit_events_append_many
from core.batch import (
    field_in,
    instance_saved,
    rows_insert,
    rows_update,
    statistics_refresh,
)
from core.calendar import business_date_today
from core.idempotency import actor_of_scope, idempotency_records_store_many
from core.money import CENT, to_decimal, to_money, to_rate

from ..errors import InsufficientCredit, LendingError, LineNotUsable
from ..models import (
    CreditLine,
    CreditLineStatus,
    Instalment,
    InstalmentStatus,
    JournalEntry,
    LedgerAccount,
    LimitChange,
    Loan,
    LoanFunding,
    LoanStatus,
    Posting,
    Repayment,
)
from ..rules.allocation import InstalmentState, allocate_payment, payoff_amount
from ..rules.delinquency import amount_due_by, days_past_due, oldest_overdue_due_date
from ..rules.status import LOAN_TRANSITIONS, transition_check
from .ledger import legs_merge
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


def _journal_post(business_date, entries) -> list[int]:
    """Post many entries of one business date: the set-based twin of `journal_entry_post`, with
    the same merging and balance check per entry (`legs_merge`; the database checks the balance
    again at commit). `entries` are (kind, loan id, memo, merged legs)."""
    accounts = dict(LedgerAccount.objects.values_list("code", "pk"))
    ids = rows_insert(JournalEntry, ["kind", "business_date", "loan_id", "memo"],
                      [(kind, business_date, loan_id, memo)
                       for kind, loan_id, memo, _legs in entries], ids=True)
    rows_insert(Posting, ["entry_id", "account_id", "loan_id", "amount"],
                [(entry_id, accounts[code], loan_id, amount)
                 for entry_id, (_kind, loan_id, _memo, legs) in zip(ids, entries, strict=True)
                 for code, amount in legs])
    return ids


def credit_lines_open_many(*, customers, product, limits, rates) -> list[CreditLine]:
    """Credit lines as `credit_line_open` opens them, on the business date."""
    today = business_date_today()
    limits = [to_money(limit, what="credit limit") for limit in limits]
    rates = [to_rate(rate, what="daily rate") for rate in rates]
    for rate in rates:
        if not product.min_daily_rate <= rate <= product.max_daily_rate:
            raise LendingError(f"The daily rate {rate} lies outside the product's band.")
    lines = [CreditLine(customer=c, product=product, credit_limit=limit, daily_rate=rate,
                        opened_on=today)
             for c, limit, rate in zip(customers, limits, rates, strict=True)]
    names = [f.attname for f in CreditLine._meta.concrete_fields
             if not (f.primary_key or getattr(f, "auto_now", False)
                     or getattr(f, "auto_now_add", False))]
    now = timezone.now()
    ids = rows_insert(CreditLine, names, [tuple(getattr(line, n) for n in names)
                                          for line in lines], ids=True)
    for line, pk in zip(lines, ids, strict=True):
        instance_saved(line, pk).updated_at = now
    return lines


def credit_lines_limit_lower_many(*, cuts, reason: str, actor):
    """降额 by a rule on many lines at once: `cuts` are (line id, new limit), each line lowered
    as `line_limit_lower` lowers it for a rule (the system as `actor`, no officer, so no cap):
    a LimitChange, the line's new limit, and the event on its audit chain."""
    reason = (reason or "").strip()
    if not reason:
        raise LendingError("A reason is required to lower a limit.")
    new_limits = {}
    for line_id, new_limit in cuts:
        new_limit = to_decimal(new_limit, what="new limit")
        if new_limit < 0 or new_limit != new_limit.quantize(CENT):
            raise LendingError("The new limit must be zero or more, with at most two decimals.")
        new_limits[line_id] = new_limit.quantize(CENT)
    if not new_limits:
        return
    today = business_date_today()
    with transaction.atomic(durable=True):
        lines = list(CreditLine.objects.select_for_update(of=("self",))
                     .filter(field_in("pk", new_limits)).order_by("pk")
                     .values_list("pk", "credit_limit", "officer_cap"))
        if len(lines) != len(new_limits):
            raise LendingError("No such line.", code="not_found")
        for line_id, limit, _cap in lines:
            if new_limits[line_id] >= limit:
                raise LendingError(f"The new limit must be below the current limit {limit}.")
        rows_insert(LimitChange, ["line_id", "old_limit", "new_limit", "reason", "business_date"],
                    [(line_id, limit, new_limits[line_id], reason, today)
                     for line_id, limit, _cap in lines])
        now = timezone.now()
        rows_update(CreditLine, ["credit_limit", "updated_at"],
                    [(new_limits[line_id], now, line_id) for line_id, _limit, _cap in lines])
        audit_events_append_many(
            AuditDraft(actor=actor, action="line.limit_lower", subject_kind="line",
                       subject_id=line_id,
                       payload={"from": limit, "to": new_limits[line_id], "reason": reason,
                                "business_date": today, "officer_cap": cap})
            for line_id, limit, cap in lines)


def book_statistics_refresh(*, vacuum=False):
    """After a large batch, so that the next queries (the nightly close's) plan for the real
    table sizes; with `vacuum`, outside a transaction, the dead row versions are reclaimed too
    (`core.batch.statistics_refresh`)."""
    statistics_refresh(Instalment, Loan, LoanFunding, CreditLine, Posting, JournalEntry,
                       vacuum=vacuum)


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
        now = timezone.now()
        loan_ids = rows_insert(
            Loan, ["line_id", "principal", "term_months", "method", "daily_rate", "apr",
                   "disbursed_on", "outstanding_principal", "status", "days_past_due"],
            [(loan.line_id, loan.principal, loan.term_months, loan.method, loan.daily_rate,
              loan.apr, loan.disbursed_on, loan.outstanding_principal, loan.status,
              loan.days_past_due) for loan in loans], ids=True)
        for loan, pk in zip(loans, loan_ids, strict=True):
            instance_saved(loan, pk).created_at = now
        rows_insert(Instalment, ["loan_id", "seq", "period_start", "due_date", "principal_due",
                                 "interest_due"],
                    [(loan.pk, i.seq, i.period_start, i.due_date, i.principal, i.interest)
                     for loan, schedule in zip(loans, schedules, strict=True) for i in schedule])
        banks = partner_banks_with_funded_counts()
        fundings, per_loan, entries = [], [], []
        for loan in loans:
            bank = partner_bank_next(banks)
            mine = funding_rows(loan, loan.line.product, bank)
            if any(f.partner_bank is not None for f in mine):
                bank.funded += 1
            fundings += mine
            per_loan.append(mine)
            entries.append(("disbursement", loan.pk, f"Loan {loan.pk} disbursed",
                            legs_merge("disbursement", disbursement_legs(mine))))
        funding_ids = rows_insert(
            LoanFunding, ["loan_id", "partner_bank_id", "share", "principal",
                          "outstanding_principal"],
            [(f.loan_id, f.partner_bank_id, f.share, f.principal, f.outstanding_principal)
             for f in fundings], ids=True)
        for funding, pk in zip(fundings, funding_ids, strict=True):
            instance_saved(funding, pk)
        _journal_post(today, entries)
        audit_events_append_many(
            AuditDraft(actor=actor_of_scope(d.scope), action="loan.originate",
                       subject_kind="loan", subject_id=loan.pk,
                       payload=origination_audit_payload(loan, loan_fundings))
            for d, loan, loan_fundings in zip(draws, loans, per_loan, strict=True))
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


class _LoanRow(_Row):
    __slots__ = ("pk", "line_id", "principal", "outstanding_principal", "daily_rate", "status",
                 "days_past_due", "overdue_since", "paid_off_on")


class _InstalmentRow(_Row):
    __slots__ = ("pk", "loan_id", *STATE_FIELDS, "status", "paid_on")
    total_due = property(Instalment.total_due.fget)
    total_paid = property(Instalment.total_paid.fget)
    remaining = property(Instalment.remaining.fget)


_STATE_SLICE = slice(2, 2 + len(STATE_FIELDS))


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
                    .filter(pk__in=Loan.objects.filter(field_in("pk", wanted))
                            .values("line_id")).order_by("pk")
                    .values_list("pk", "outstanding_principal"))
        loans = {values[0]: _LoanRow(*values) for values in
                 Loan.objects.select_for_update(of=("self",))
                 .filter(field_in("pk", wanted), status=LoanStatus.ACTIVE).order_by("pk")
                 .values_list(*_LoanRow.__slots__)}
        payoffs = [loan_id for loan_id in loans if wanted[loan_id].payoff]
        instalments, states = _instalment_rows(loans, today, whole=payoffs)
        unpaid_later = _unpaid_later([loan_id for loan_id in loans
                                      if not wanted[loan_id].payoff], today)
        fundings = _funding_rows(loans)
        # One payment per loan in a batch: what the loan's earlier payments took, as
        # `loan_repay` reads it, so the banks' shares are rounded cumulatively the same way.
        income_before = income_repaid_before(loans)
        line_paid = defaultdict(lambda: ZERO)
        changed_instalments, repayments, booked = [], [], []
        for loan_id, loan in loans.items():
            rows, loan_states = instalments[loan_id], states[loan_id]
            amount = (payoff_amount(loan_states, today, loan.daily_rate)
                      if wanted[loan_id].payoff else amount_due_by(rows, today))
            if amount <= 0:
                continue
            allocation = allocate_payment(loan_states, amount, today, loan.daily_rate)
            changed_instalments += instalments_apply(rows, allocation, today)
            parts = funder_principal_parts(fundings[loan_id], loan, allocation.principal)
            income_parts = funder_income_parts(fundings[loan_id],
                                               income_before.get(loan_id, Income()), allocation)
            for f in fundings[loan_id]:
                f.outstanding_principal -= parts[f.pk]
            loan.outstanding_principal -= allocation.principal
            loan.overdue_since = oldest_overdue_due_date(rows)
            loan.days_past_due = days_past_due(loan.overdue_since, today)
            # Of those not read (`_instalment_rows`), the ones due by today are paid.
            if (loan_id not in unpaid_later
                    and all(i.status == InstalmentStatus.PAID for i in rows)):
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
        rows_update(Loan, ["outstanding_principal", "days_past_due", "overdue_since", "status",
                           "paid_off_on"],
                    [(loan.outstanding_principal, loan.days_past_due, loan.overdue_since,
                      loan.status, loan.paid_off_on, loan.pk) for loan in paid_loans])
        now = timezone.now()
        rows_update(CreditLine, ["outstanding_principal", "updated_at"],
                    [(owed[line_id] - amount, now, line_id)
                     for line_id, amount in sorted(line_paid.items())])
        repayment_fields = ["loan_id", "amount", "principal", "interest", "fee", "penalty",
                            "paid_on"]
        repayment_ids = rows_insert(Repayment, repayment_fields,
                                    [tuple(getattr(r, f) for f in repayment_fields)
                                     for r in repayments], ids=True)
        for repayment, pk in zip(repayments, repayment_ids, strict=True):
            instance_saved(repayment, pk).created_at = now
        # Read under the loans' locks, as `loan_repay` reads it; only for the payments that pay
        # penalty: `repayment_legs` clears at most the penalty paid from the receivable.
        penalty_receivable = penalty_receivable_by_loan(
            loan.pk for loan, allocation, *_rest in booked if allocation.penalty > 0)
        _journal_post(today, [
            ("repayment", loan.pk, f"Repayment {repayment.pk} on loan {loan.pk}",
             legs_merge("repayment", repayment_legs(
                 allocation, fundings[loan.pk], parts, income_parts,
                 penalty_receivable.get(loan.pk, ZERO))))
            for repayment, (loan, allocation, parts, income_parts) in zip(repayments, booked,
                                                                           strict=True)])
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


def _instalment_rows(loans, today, *, whole):
    """The instalments a payment can touch (rows, and the allocation's states), by loan.

    Left out: those due by `today` and paid in full, which `allocate_payment`, `payoff_amount`,
    `instalments_apply`, `oldest_overdue_due_date` and `amount_due_by` all pass over; and,
    except for the loans in `whole` (paid off today), those due after today. A payment of what
    is due by today (`amount_due_by`) is spent on the instalments due by today before anything
    later: they owe at least that much, so nothing is left to pay ahead and the later
    instalments only tell whether the loan is settled (`_unpaid_later`). An overdue instalment
    is always due by today. So a repayment reads one or two instalments, not the whole schedule
    again."""
    rows, states = defaultdict(list), defaultdict(list)
    query = (Instalment.objects.filter(field_in("loan_id", loans))
             .filter(Q(due_date__lte=today) | Q(loan_id__in=list(whole)))
             .exclude(due_date__lte=today, status=InstalmentStatus.PAID,
                      principal_paid=F("principal_due"), interest_paid=F("interest_due"),
                      fee_paid=F("fee_due"), penalty_paid=F("penalty_due"))
             .exclude(status=InstalmentStatus.SUPERSEDED)
             .order_by("loan_id", "seq").values_list(*_InstalmentRow.__slots__))
    for values in query:
        rows[values[1]].append(_InstalmentRow(*values))
        states[values[1]].append(InstalmentState(*values[_STATE_SLICE]))
    return rows, states


def _unpaid_later(loan_ids, today) -> set[int]:
    """The loans with an instalment due after today that is not paid."""
    return set(Instalment.objects.filter(field_in("loan_id", loan_ids), due_date__gt=today)
               .exclude(status__in=[InstalmentStatus.PAID, InstalmentStatus.SUPERSEDED])
               .order_by()
               .values_list("loan_id", flat=True).distinct())


def _funding_rows(loans):
    """The loans' fundings, each with its partner bank's pk and code (None: the platform's)."""
    rows = defaultdict(list)
    for *values, code in (LoanFunding.objects.filter(field_in("loan_id", loans)).order_by("pk")
                          .values_list(*_FundingRow.__slots__[:-1], "partner_bank__code")):
        bank = None if values[2] is None else SimpleNamespace(pk=values[2], code=code)
        rows[values[1]].append(_FundingRow(*values, bank))
    return rows
