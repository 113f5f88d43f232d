"""Two ways of writing the simulated history onto the platform, with one interface.

`ServiceBook` calls the lending services one request at a time, exactly as the customer pages
would. `BulkBook` writes a whole business day at once with set-based inserts and updates, and
is what a population of tens of thousands needs (a repayment through the service costs about
20 ms, a year of monthly repayments for 20,000 customers over an hour). It reuses the services'
own pure arithmetic (quote, allocation, funder shares, ledger legs, idempotency fingerprints)
so that it books exactly what the services would: `tests/risk/test_simulation.py` runs the same
small population through both and compares every row.

Both take the business date from the platform; neither moves it (the nightly close does)."""

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from types import SimpleNamespace

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from accounts.models import PartnerBank
from lending import services
from lending.allocation import allocate_payment, payoff_amount
from lending.errors import InsufficientCredit, LineNotUsable
from lending.models import (
    CreditLine,
    CreditLineStatus,
    IdempotencyRecord,
    Instalment,
    InstalmentStatus,
    JournalEntry,
    LedgerAccount,
    Loan,
    LoanFunding,
    LoanStatus,
    Posting,
    Repayment,
)
from lending.selectors import amount_due_on, business_date_today
from lending.services.idempotency import request_fingerprint
from lending.services.origination import (
    _disbursement_legs,
    funding_rows,
    loan_quote_for_line,
)
from lending.services.repayment import (
    STATE_FIELDS,
    _funder_principal_parts,
    _repayment_legs,
    _state_of,
    days_past_due,
    instalments_apply,
)

ZERO = Decimal("0.00")
BATCH = 5000


@dataclass(frozen=True)
class Draw:
    line: CreditLine
    principal: Decimal
    term_months: int
    method: str


@dataclass(frozen=True)
class Payment:
    """A payment on a loan today: what is due by today, or (payoff) everything that settles it."""

    loan_id: int
    customer_id: int
    payoff: bool = False


def originate_key(line_id):
    return f"sim-loan-{line_id}"


def repay_key(loan_id, day):
    return f"sim-pay-{loan_id}-{day.isoformat()}"


def scope_of(customer_id):
    return f"user:{customer_id}"


def open_lines(*, customers, product, limits, rates):
    """Credit lines as `credit_line_open` makes them (opened on the business date)."""
    today = business_date_today()
    for rate in rates:
        if not product.min_daily_rate <= rate <= product.max_daily_rate:
            raise ValueError(f"daily rate {rate} outside the product's band")
    return CreditLine.objects.bulk_create(
        [CreditLine(customer=c, product=product, credit_limit=limit, daily_rate=rate,
                    opened_on=today)
         for c, limit, rate in zip(customers, limits, rates, strict=True)], batch_size=BATCH)


def statistics_refresh():
    """Tell PostgreSQL's planner how big the tables just became: right after a bulk insert its
    statistics still describe the empty tables, and the nightly close's queries then pick plans
    that take seconds instead of milliseconds.
    It can run inside the inserting transaction, before the commit runs the ledger's deferred
    balance check on every new posting."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in (Instalment, Loan, LoanFunding, CreditLine, Posting, JournalEntry):
            cursor.execute(f"ANALYZE {model._meta.db_table}")


class ServiceBook:
    """One service call per draw and per payment: the reference the bulk book must match."""

    def originate(self, draws):
        return [services.loan_originate(
            line_id=d.line.pk, principal=d.principal, term_months=d.term_months,
            method=d.method, idempotency_key=originate_key(d.line.pk),
            scope=scope_of(d.line.customer_id)) for d in draws]

    def repay(self, payments):
        today = business_date_today()
        for p in payments:
            loan = Loan.objects.get(pk=p.loan_id)
            if loan.status != LoanStatus.ACTIVE:
                continue
            amount = services.loan_payoff_amount(loan) if p.payoff else amount_due_on(loan,
                                                                                      today)
            if amount > 0:
                services.loan_repay(loan_id=p.loan_id, amount=amount,
                                    idempotency_key=repay_key(p.loan_id, today),
                                    scope=scope_of(p.customer_id))


class _Postings:
    """Journal entries with their legs, merged and ordered as `journal_entry_post` does."""

    def __init__(self, today):
        self.today = today
        self.entries = []
        self.legs = []
        self.accounts = {a.code: a.pk for a in LedgerAccount.objects.all()}

    def add(self, *, kind, loan_id, legs, memo):
        merged = defaultdict(Decimal)
        for code, amount in legs:
            merged[code] += amount
        merged = {code: amount for code, amount in merged.items() if amount != 0}
        if sum(merged.values(), Decimal("0")) != 0:
            raise ValueError(f"unbalanced {kind} entry: {merged}")
        self.entries.append(JournalEntry(kind=kind, business_date=self.today, loan_id=loan_id,
                                         memo=memo))
        self.legs.append(sorted(merged.items()))

    def save(self):
        entries = JournalEntry.objects.bulk_create(self.entries, batch_size=BATCH)
        Posting.objects.bulk_create(
            [Posting(entry_id=entry.pk, account_id=self.accounts[code], loan_id=entry.loan_id,
                     amount=amount)
             for entry, legs in zip(entries, self.legs, strict=True) for code, amount in legs],
            batch_size=BATCH)


def _update_rows(model, columns, rows):
    """UPDATE model SET columns... WHERE id = ... for many rows: on PostgreSQL one statement
    per batch joining a VALUES list (an UPDATE per row costs ten times more), elsewhere one
    executemany. Each row is (values of `columns`..., id)."""
    if not rows:
        return
    table = model._meta.db_table
    fields = [model._meta.get_field(c) for c in columns]
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            assignments = ", ".join(f"{f.column} = %s" for f in fields)
            cursor.executemany(f"UPDATE {table} SET {assignments} WHERE id = %s", rows)
            return
        assignments = ", ".join(f"{f.column} = v.{f.column}" for f in fields)
        names = ", ".join([f.column for f in fields] + ["id"])
        # Typed placeholders: a NULL in a VALUES list would otherwise be read as text.
        row_sql = "(" + ", ".join([f"%s::{f.db_type(connection)}" for f in fields]
                                  + ["%s::bigint"]) + ")"
        for start in range(0, len(rows), BATCH):
            batch = rows[start:start + BATCH]
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM (VALUES "
                + ", ".join([row_sql] * len(batch))
                + f") AS v({names}) WHERE {table}.id = v.id",
                [value for row in batch for value in row])


def _idempotency_records(rows):
    now = timezone.now()
    IdempotencyRecord.objects.bulk_create(
        [IdempotencyRecord(scope=scope, key=key, request_hash=request_fingerprint(payload),
                           result=result, created_at=now)
         for scope, key, payload, result in rows], batch_size=BATCH)


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


class BulkBook:
    """A day's draws or payments in one transaction of set-based writes."""

    def originate(self, draws):
        today = business_date_today()
        quotes = {}
        banks = list(PartnerBank.objects.filter(is_active=True)
                     .annotate(funded=Count("fundings")).order_by("pk"))
        loans, schedules = [], []
        for d in draws:
            line = d.line
            if line.status != CreditLineStatus.ACTIVE:
                raise LineNotUsable(f"line {line.pk} is not active")
            key = (d.principal, d.term_months, d.method, line.daily_rate, line.product_id)
            if key not in quotes:
                quotes[key] = loan_quote_for_line(line=line, principal=d.principal,
                                                  term_months=d.term_months, method=d.method,
                                                  start=today)
            quote = quotes[key]
            if d.principal > line.available:
                raise InsufficientCredit(f"Only {line.available} is available on line {line.pk}.")
            line.outstanding_principal += d.principal
            loans.append(Loan(line=line, principal=d.principal, term_months=d.term_months,
                              method=d.method, daily_rate=line.daily_rate, apr=quote.apr,
                              disbursed_on=today, outstanding_principal=d.principal))
            schedules.append(quote.instalments)
        with transaction.atomic(durable=True):
            # An UPDATE, so that the database's no-overdraw trigger checks every line.
            _update_rows(CreditLine, ["outstanding_principal", "updated_at"],
                         [(d.line.outstanding_principal, timezone.now(), d.line.pk)
                          for d in draws])
            Loan.objects.bulk_create(loans, batch_size=BATCH)
            Instalment.objects.bulk_create(
                [Instalment(loan=loan, seq=i.seq, period_start=i.period_start,
                            due_date=i.due_date, principal_due=i.principal,
                            interest_due=i.interest)
                 for loan, schedule in zip(loans, schedules, strict=True) for i in schedule],
                batch_size=BATCH)
            fundings, postings = [], _Postings(today)
            for loan in loans:
                mine = self._funding(loan, banks)
                fundings += mine
                postings.add(kind="disbursement", loan_id=loan.pk,
                             legs=_disbursement_legs(mine), memo=f"Loan {loan.pk} disbursed")
            LoanFunding.objects.bulk_create(fundings, batch_size=BATCH)
            postings.save()
            statistics_refresh()
            _idempotency_records(
                (scope_of(loan.line.customer_id), originate_key(loan.line_id),
                 {"line": loan.line_id, "principal": str(loan.principal),
                  "term": loan.term_months, "method": loan.method}, {"loan_id": loan.pk})
                for loan in loans)
        return loans

    @staticmethod
    def _funding(loan, banks):
        """`_partner_bank_for_next_loan` kept in step across the batch (the active bank that
        has funded the fewest loans takes its share), then origination's own split."""
        bank = min(banks, key=lambda b: (b.funded, b.pk)) if banks else None
        fundings = funding_rows(loan, loan.line.product, bank)
        if any(f.partner_bank is not None for f in fundings):
            bank.funded += 1
        return fundings

    def repay(self, payments):
        today = business_date_today()
        wanted = {p.loan_id: p for p in payments}
        with transaction.atomic(durable=True):
            # loan_repay's lock order: lines, then loans.
            owed = dict(CreditLine.objects.select_for_update(of=("self",))
                        .filter(loans__pk__in=list(wanted)).order_by("pk")
                        .values_list("pk", "outstanding_principal"))
            loans = {loan.pk: loan for loan in Loan.objects.select_for_update(of=("self",))
                     .filter(pk__in=list(wanted), status=LoanStatus.ACTIVE).order_by("pk")}
            instalments = defaultdict(list)
            for values in (Instalment.objects.filter(loan_id__in=list(loans))
                           .order_by("loan_id", "seq").values_list(*_InstalmentRow.__slots__)):
                row = _InstalmentRow(*values)
                instalments[row.loan_id].append(row)
            fundings = defaultdict(list)
            banks = {pk: SimpleNamespace(pk=pk, code=code)
                     for pk, code in PartnerBank.objects.values_list("pk", "code")}
            for values in (LoanFunding.objects.filter(loan_id__in=list(loans)).order_by("pk")
                           .values_list(*_FundingRow.__slots__[:-1])):
                row = _FundingRow(*values, banks.get(values[2]))
                fundings[row.loan_id].append(row)
            line_paid = defaultdict(lambda: ZERO)
            changed_instalments, repayments, booked = [], [], []
            for loan_id, loan in loans.items():
                states = [_state_of(i) for i in instalments[loan_id]]
                if wanted[loan_id].payoff:
                    amount = payoff_amount(states, today, loan.daily_rate)
                else:
                    amount = sum((i.remaining for i in instalments[loan_id]
                                  if i.due_date <= today and i.status != InstalmentStatus.PAID),
                                 ZERO)
                if amount <= 0:
                    continue
                allocation = allocate_payment(states, amount, today, loan.daily_rate)
                changed_instalments += instalments_apply(instalments[loan_id], allocation, today)
                parts = _funder_principal_parts(fundings[loan_id], loan, allocation.principal)
                for f in fundings[loan_id]:
                    f.outstanding_principal -= parts[f.pk]
                loan.outstanding_principal -= allocation.principal
                loan.days_past_due = days_past_due(instalments[loan_id], today)
                if all(i.status == InstalmentStatus.PAID for i in instalments[loan_id]):
                    loan.status, loan.paid_off_on = LoanStatus.PAID_OFF, today
                line_paid[loan.line_id] += allocation.principal
                repayments.append(Repayment(
                    loan_id=loan_id, amount=amount, principal=allocation.principal,
                    interest=allocation.interest, fee=allocation.fee,
                    penalty=allocation.penalty, paid_on=today))
                booked.append((loan, allocation, parts))
            self._save_repayments(today, wanted, owed, fundings, line_paid,
                                  changed_instalments, repayments, booked)

    @staticmethod
    def _save_repayments(today, wanted, owed, fundings, line_paid, changed_instalments,
                         repayments, booked):
        columns = STATE_FIELDS[1:] + ["status", "paid_on"]
        _update_rows(Instalment, columns,
                     [tuple(getattr(i, c) for c in columns) + (i.pk,)
                      for i in changed_instalments])
        paid_loans = [loan for loan, _a, _p in booked]
        _update_rows(LoanFunding, ["outstanding_principal"],
                     [(f.outstanding_principal, f.pk) for loan in paid_loans
                      for f in fundings[loan.pk]])
        _update_rows(Loan, ["outstanding_principal", "days_past_due", "status", "paid_off_on"],
                     [(loan.outstanding_principal, loan.days_past_due, loan.status,
                       loan.paid_off_on, loan.pk) for loan in paid_loans])
        now = timezone.now()
        _update_rows(CreditLine, ["outstanding_principal", "updated_at"],
                     [(owed[line_id] - amount, now, line_id)
                      for line_id, amount in sorted(line_paid.items())])
        repayments = Repayment.objects.bulk_create(repayments, batch_size=BATCH)
        postings = _Postings(today)
        for repayment, (loan, allocation, parts) in zip(repayments, booked, strict=True):
            postings.add(kind="repayment", loan_id=loan.pk,
                         legs=_repayment_legs(allocation, fundings[loan.pk], parts),
                         memo=f"Repayment {repayment.pk} on loan {loan.pk}")
        postings.save()
        _idempotency_records(
            (scope_of(wanted[r.loan_id].customer_id), repay_key(r.loan_id, today),
             {"loan": r.loan_id, "amount": str(r.amount)}, {"repayment_id": r.pk})
            for r in repayments)

