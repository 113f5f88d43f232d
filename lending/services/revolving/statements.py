"""The statement cut (出账), a step of the nightly close (lending/close.py, `cut_statements`).

In the close of business date D, for each pay-later line whose statement day is D's day, in
chunks of lines, each chunk one transaction, reading and writing each kind of row in a few
statements for the whole chunk (docs/architecture.md, "The nightly close"):

1. revolving interest (循环利息) on the line's last statement, unless it was paid in full by
   its due date: `rules.statements.revolving_interest` from its statement day to D over its
   principal billed less each credit (payment, refund, conversion) from the day after;
2. each active instalment plan's next part (principal and fee); the fee is booked then
   (Dr plan fees receivable, Cr plan fee income);
3. the open statement's unpaid balance carried over (it becomes `rolled`): principal as the
   revolved balance, interest, fees and penalty as they were, days past due carried on, and
   what was left of its minimum;
4. the purchases posted since the last cut up to D (those in a plan are not billed: their
   parts are);
5. the customer's credit balance paying the new statement first;
6. the minimum payment (`rules.statements.minimum_payment`).

A line with nothing to bill and nothing carried gets no statement that month. A rerun finds
the lines cut on D already (a statement dated D) and skips them."""

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import F, OuterRef, Subquery

from core.batch import field_in, rows_insert, rows_update

from ...models import (
    CreditLine,
    CreditLineStatus,
    CreditProduct,
    InstalmentPlan,
    PayLaterPayment,
    PayLaterPaymentKind,
    PlanPart,
    PlanPartStatus,
    PlanStatus,
    ProductKind,
    Purchase,
    Statement,
    StatementCredit,
    StatementStatus,
)
from ...rules.statements import (
    StatementOwed,
    due_date_of,
    minimum_payment,
    revolving_interest,
    split_payment,
    statement_owed,
)
from .. import ledger
from .common import ZERO, cents, statement_settle_if_paid
from .statements_sql import statements_cut_sql


def lines_due_a_statement(day) -> list[int]:
    """The close step's ids: pay-later lines whose statement day is `day`'s, opened before."""
    return list(CreditLine.objects.filter(
        statement_day=day.day, product__kind=ProductKind.PAY_LATER, opened_on__lt=day)
        .exclude(status=CreditLineStatus.CLOSED).order_by("pk").values_list("pk", flat=True))


def _latest_statements(line_ids) -> dict[int, Statement]:
    """Each line's last statement (open, paid or rolled), in one query."""
    newest = Statement.objects.filter(line_id=OuterRef("line_id")).order_by("-seq")
    return {s.line_id: s for s in Statement.objects.filter(
        field_in("line_id", line_ids), pk=Subquery(newest.values("pk")[:1]))}


def _interest_free(last: Statement | None) -> bool:
    return last is None or (last.paid_on is not None and last.paid_on <= last.due_date)


def _credits_by_statement(latest) -> dict[int, list]:
    """The credits of the last statements that bear interest, in one query."""
    bearing = [s.pk for s in latest.values() if not _interest_free(s)]
    credits = defaultdict(list)
    for statement_id, day, principal in (StatementCredit.objects.filter(
            field_in("statement_id", bearing))
            .values_list("statement_id", "business_date", "principal")):
        credits[statement_id].append((day, principal))
    return credits


def _interest(last: Statement | None, day, product, credits) -> Decimal:
    """Revolving interest on the last statement, charged on the one cut on `day`."""
    if _interest_free(last):
        return ZERO
    return revolving_interest(principal=last.principal_billed,
                              credits=credits.get(last.pk, []), start=last.statement_date,
                              end=day, daily_rate=product.revolving_daily_rate)


def statements_cut(*, day, first_id=None, last_id=None, in_python=False) -> int:
    """Cut the statements dated `day` of the lines from `first_id` to `last_id` whose statement
    day it is (see the module's doc); returns how many statements were cut. PostgreSQL runs
    the set-based statements of `statements_sql.py`; the embedded demo database (SQLite), or
    `in_python` (the test that compares both), the same rules in Python."""
    lines = CreditLine.objects.filter(statement_day=day.day, product__kind=ProductKind.PAY_LATER,
                                      opened_on__lt=day).exclude(status=CreditLineStatus.CLOSED)
    if first_id is not None:
        lines = lines.filter(pk__gte=first_id, pk__lte=last_id)
    with transaction.atomic():
        rows = list(lines.select_for_update(of=("self",)).order_by("pk").values_list(
            "pk", "product_id", "credit_balance", "opened_on"))
        done = set(Statement.objects.filter(field_in("line_id", [r[0] for r in rows]),
                                            statement_date=day).values_list("line_id", flat=True))
        rows = [r for r in rows if r[0] not in done]
        if not rows:
            return 0
        if connection.vendor == "postgresql" and not in_python:
            cut, with_credit = statements_cut_sql(day=day, line_ids=[r[0] for r in rows])
            _credit_balances_apply(with_credit, day)
            return cut
        return _cut_in_python(rows, day)


def _credit_balances_apply(with_credit, day):
    """The credit balances of lines just cut pay their new statements first (few lines: a
    credit balance comes from a refund on a statement already paid)."""
    if not with_credit:
        return
    balances = dict(CreditLine.objects.filter(pk__in=[line for line, _ in with_credit])
                    .values_list("pk", "credit_balance"))
    batch = ledger.JournalBatch(day)
    used, payments = {}, []
    for line_id, statement_id in with_credit:
        statement = Statement.objects.get(pk=statement_id)
        used[line_id] = _credit_apply(statement, balances[line_id], day, payments)
        statement_settle_if_paid(statement, day)
        statement.save()
    _credit_book(used, payments, dict(with_credit), batch, day)
    batch.post()


def _cut_in_python(rows, day) -> int:
    line_ids = [r[0] for r in rows]
    products = {p.pk: p for p in CreditProduct.objects.filter(
        pk__in={product_id for _, product_id, _, _ in rows})}
    latest = _latest_statements(line_ids)
    credits = _credits_by_statement(latest)
    purchases = _unbilled_by_line(line_ids, day)
    parts = _next_parts_by_line(line_ids, day)
    batch = ledger.JournalBatch(day)
    new_rows, rolled, credit_used, payments = [], [], {}, []
    for line_id, product_id, credit_balance, opened_on in rows:
        product = products[product_id]
        last = latest.get(line_id)
        interest = _interest(last, day, product, credits)
        carried = statement_owed(last) if last is not None and last.status == (
            StatementStatus.OPEN) else StatementOwed()
        bill_parts = parts.get(line_id, [])
        parts_principal = sum((p[1] for p in bill_parts), ZERO)
        parts_fee = sum((p[2] for p in bill_parts), ZERO)
        new_purchases = sum((net for _, net, in_plan in purchases.get(line_id, [])
                             if not in_plan), ZERO)
        revolved = carried.parts + carried.purchases
        carried_charges = carried.penalty + carried.interest + carried.fees
        if not (interest or carried.total or parts_principal or parts_fee or new_purchases
                or purchases.get(line_id)):
            continue
        statement = Statement(
            line_id=line_id, seq=(last.seq + 1) if last else 1,
            period_start=(last.statement_date + timedelta(days=1)) if last else opened_on,
            statement_date=day, due_date=due_date_of(day, product.statement_due_days),
            new_purchases=new_purchases, revolved_principal=revolved,
            carried_charges=carried_charges,
            earlier_minimum_unpaid=(max(last.minimum_due - last.total_paid, ZERO)
                                    if carried.total else ZERO),
            principal_billed=revolved + new_purchases + parts_principal,
            penalty_due=carried.penalty, interest_due=carried.interest + interest,
            fees_due=carried.fees + parts_fee, parts_due=parts_principal,
            purchases_due=revolved + new_purchases,
            overdue_since=last.overdue_since if carried.total else None,
            days_past_due=last.days_past_due if carried.total else 0,
            penalty_charged_through=last.penalty_charged_through if carried.total else None)
        statement.minimum_due = minimum_payment(
            rate=product.minimum_payment_rate, new_purchases=new_purchases,
            revolved_principal=revolved, parts=parts_principal, fees=statement.fees_due,
            interest=statement.interest_due, penalty=statement.penalty_due,
            carried_charges=carried_charges,
            earlier_minimum_unpaid=statement.earlier_minimum_unpaid,
            balance=statement.total_due)
        if carried.total:
            rolled.append(last.pk)
        if credit_balance > 0:
            credit_used[line_id] = _credit_apply(statement, credit_balance, day, payments)
        statement_settle_if_paid(statement, day)
        new_rows.append(statement)
        if interest:
            batch.add(kind="revolving_interest", line_id=line_id, memo="Revolving interest",
                      legs=[(ledger.INTEREST_RECEIVABLE, interest),
                            (ledger.REVOLVING_INTEREST_INCOME, -interest)])
        if parts_fee:
            batch.add(kind="plan_fee", line_id=line_id, memo="Instalment plan fees billed",
                      legs=[(ledger.PLAN_FEE_RECEIVABLE, parts_fee),
                            (ledger.PLAN_FEE_INCOME, -parts_fee)])
    # The statements before roll first: a line has one open statement at a time.
    Statement.objects.filter(field_in("id", rolled)).update(status=StatementStatus.ROLLED)
    ids = _statements_insert(new_rows)
    by_line = {s.line_id: pk for s, pk in zip(new_rows, ids, strict=True)}
    _purchases_attach(purchases, by_line)
    _parts_bill(parts, by_line)
    _credit_book(credit_used, payments, by_line, batch, day)
    batch.post()
    return len(new_rows)


def _unbilled_by_line(line_ids, day) -> dict[int, list[tuple[int, Decimal, bool]]]:
    """Purchases posted up to `day` and not yet on a statement: (id, what is left to bill,
    whether it is in a plan)."""
    found = defaultdict(list)
    for pk, line_id, amount, refunded, paid, plan_id in (
            Purchase.objects.filter(field_in("line_id", line_ids), statement__isnull=True,
                                    posted_on__lte=day)
            .values_list("pk", "line_id", "amount", "refunded", "paid_before_billing",
                         "plan_id")):
        found[line_id].append((pk, amount - refunded - paid, plan_id is not None))
    return found


def _next_parts_by_line(line_ids, day) -> dict[int, list[tuple[int, Decimal, Decimal]]]:
    """Each active plan's next part not yet billed (the one with the lowest seq), for plans
    made up to `day`: (part id, principal, fee)."""
    parts = defaultdict(list)
    plans = dict(InstalmentPlan.objects.filter(field_in("line_id", line_ids),
                                               status=PlanStatus.ACTIVE, created_on__lte=day)
                 .values_list("pk", "line_id"))
    seen = set()
    for pk, plan_id, principal, fee in (
            PlanPart.objects.filter(field_in("plan_id", list(plans)),
                                    status=PlanPartStatus.SCHEDULED)
            .order_by("plan_id", "seq").values_list("pk", "plan_id", "principal", "fee")):
        if plan_id not in seen:
            seen.add(plan_id)
            parts[plans[plan_id]].append((pk, principal, fee))
    return parts


def _credit_apply(statement, credit_balance, day, payments) -> Decimal:
    """The credit balance pays the new statement first: returns what it used."""
    owed = statement_owed(statement)
    use = min(credit_balance, owed.total)
    if use <= 0:
        return ZERO
    split = split_payment(use, owed, [])
    for name in ("penalty", "interest", "fees", "parts", "purchases"):
        setattr(statement, f"{name}_paid", getattr(statement, f"{name}_paid")
                + getattr(split, name))
    payments.append((statement.line_id, use, split))
    return use


def _statements_insert(statements) -> list[int]:
    names = ["line_id", "seq", "period_start", "statement_date", "due_date", "new_purchases",
             "revolved_principal", "carried_charges", "earlier_minimum_unpaid",
             "principal_billed", "penalty_due", "interest_due", "fees_due", "parts_due",
             "purchases_due", "penalty_paid", "interest_paid", "fees_paid", "parts_paid",
             "purchases_paid", "refunded", "converted", "minimum_due", "status", "paid_on",
             "overdue_since", "days_past_due", "penalty_charged_through"]
    return rows_insert(Statement, names, [[getattr(s, n) for n in names] for s in statements],
                       ids=True)


def _purchases_attach(purchases, by_line):
    rows_update(Purchase, ["statement_id"],
                [(by_line[line_id], pk) for line_id, found in purchases.items()
                 if line_id in by_line for pk, _, _ in found])


def _parts_bill(parts, by_line):
    rows = [(PlanPartStatus.BILLED.value, by_line[line_id], pk)
            for line_id, found in parts.items() if line_id in by_line for pk, _, _ in found]
    rows_update(PlanPart, ["status", "statement_id"], rows)
    billed_plans = [pk for _, _, pk in rows]
    # A plan whose last part is billed is complete.
    finished = (InstalmentPlan.objects.filter(parts__pk__in=billed_plans)
                .exclude(parts__status=PlanPartStatus.SCHEDULED).values_list("pk", flat=True))
    InstalmentPlan.objects.filter(pk__in=list(finished)).update(status=PlanStatus.COMPLETED)


def _credit_book(credit_used, payments, by_line, batch, day):
    """The credit balances used: off the lines, recorded as payments, booked (Dr customers'
    credit balances, Cr the receivables they paid)."""
    if not payments:
        return
    for line_id, use in credit_used.items():
        if use:
            CreditLine.objects.filter(pk=line_id).update(
                credit_balance=cents(F("credit_balance") - use))
    principal_by_line = {}
    for line_id, use, split in payments:
        principal = split.parts + split.purchases
        principal_by_line[line_id] = principal
        PayLaterPayment.objects.create(
            line_id=line_id, kind=PayLaterPaymentKind.CREDIT_APPLIED, amount=use,
            statement_id=by_line[line_id], penalty=split.penalty, interest=split.interest,
            fees=split.fees, parts=split.parts, purchases=split.purchases, business_date=day)
        if principal:
            StatementCredit.objects.create(statement_id=by_line[line_id], business_date=day,
                                           principal=principal)
            CreditLine.objects.filter(pk=line_id).update(
                outstanding_principal=cents(F("outstanding_principal") - principal))
        batch.add(kind="pay_later_credit_applied", line_id=line_id,
                  memo="Credit balance applied",
                  legs=[(ledger.CUSTOMER_CREDIT, use),
                        (ledger.PENALTY_RECEIVABLE, -split.penalty),
                        (ledger.INTEREST_RECEIVABLE, -split.interest),
                        (ledger.PLAN_FEE_RECEIVABLE, -split.fees),
                        (ledger.PAY_LATER_RECEIVABLE, -principal)])
