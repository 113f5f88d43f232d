"""Write-off (核销) of pay-later lines, and recoveries (回收) on them: the pay-later twin of
`lending/services/write_off.py`, for the close step `write_off_pay_later`
(debt_collection/close/write_off.py, after the loans' `write_off`).

Write-off. In the close of business date D (days past due as of D+1, as
`set_statements_past_due` left them), every open statement whose days past due have reached its
product's `write_off_days` (180 by default) takes its line with it. Per line, one balanced
journal entry of kind "write_off" (the line's entries carry the line):

* all the principal still owed on the line leaves the books: the open statement's unpaid
  principal, the purchases not yet billed and the plans' parts not yet billed, which together
  are the line's `outstanding_principal` (checked). Pay-later lines are the platform's own (no
  partner bank funds them), so the loss is all the platform's: Dr credit_loss,
  Cr pay_later_receivable;
* interest, plan fees and penalty receivable still on the line's books are reversed:
  Dr revolving_interest_income, Cr interest_receivable; Dr plan_fee_income,
  Cr plan_fee_receivable; Dr penalty_income, Cr penalty_receivable. Afterwards every receivable
  of the line is zero.

The rows then say the same as the ledger. The whole balance falls due on the written-off
statement (as a card issuer's charge-off accelerates it): the purchases not yet billed join it
(`purchases_due`), the plans' parts not yet billed are billed on it with their fees waived
(never booked, so nothing to reverse) and the plans are complete; the statement becomes
`written_off`, its amounts kept, so its balance is what the customer still owes. The line is
closed for good (no purchases, no more statements, the freeze rule no longer touches it) with
nothing outstanding: the claim is the statement's and the `LineWriteOff`'s (the principal, the
reversed interest, fees and penalty, the days past due), not the limit's. The customer's other
lines stay frozen by the freeze rule, which counts a written-off line as a written-off loan.
An audit event "line.write_off" goes on the line's chain.

So after a write-off the state machine's invariants still hold with nothing open: the line's
principal receivable and `outstanding_principal` are both zero, as are its other receivables.

Recovery. A payment on a written-off line (`line_pay` routes it here, under the line's lock and
its idempotency key) is a `LineRecovery`, refused above what is still owed (the write-off's
total less what was recovered before): Dr cash, Cr recovery_income, all of it the platform's.

Locks: lines first, by primary key, then their statements, as every pay-later change locks them.
Idempotent: a statement written off is no longer open, so a rerun finds nothing to do."""

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Min, Sum
from django.utils.translation import gettext

from core.audit import AuditDraft, actor_system, audit_event_append, audit_events_append_many
from core.batch import field_in, rows_update
from core.money import round_money

from ...errors import Overpayment
from ...models import (
    CreditLine,
    CreditLineStatus,
    CreditProduct,
    InstalmentPlan,
    PlanPart,
    PlanPartStatus,
    PlanStatus,
    Posting,
    ProductKind,
    Purchase,
    Statement,
    StatementStatus,
)
from ...models.revolving import LineRecovery, LineWriteOff
from ...rules.status import LINE_TRANSITIONS, transition_check
from .. import ledger
from .common import ZERO

KIND = "write_off"
RECOVERY_KIND = "recovery"
STEP = "write_off_pay_later"
# The receivables a write-off reverses, each against the income it was booked to.
REVERSED = (
    (ledger.INTEREST_RECEIVABLE, ledger.REVOLVING_INTEREST_INCOME, "interest"),
    (ledger.PLAN_FEE_RECEIVABLE, ledger.PLAN_FEE_INCOME, "fees"),
    (ledger.PENALTY_RECEIVABLE, ledger.PENALTY_INCOME, "penalty"),
)


def statements_due_for_write_off_ids(day: date) -> list[int]:
    """The step's ids, ascending: open pay-later statements whose days past due have reached the
    smallest `write_off_days` of the pay-later products (each statement's own product decides
    in `lines_write_off`). Through the partial index of past-due statements: a slice."""
    least = CreditProduct.objects.filter(kind=ProductKind.PAY_LATER).aggregate(
        least=Min("write_off_days")
    )["least"]
    if least is None:
        return []
    return list(
        Statement.objects.filter(
            status=StatementStatus.OPEN, overdue_since__isnull=False, days_past_due__gte=least
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _due(statements):
    return statements.filter(
        status=StatementStatus.OPEN,
        overdue_since__isnull=False,
        days_past_due__gte=F("line__product__write_off_days"),
    )


def lines_write_off(*, day, first_id=None, last_id=None) -> int:
    """Write off the lines of the open statements with ids from `first_id` to `last_id` whose
    days past due have reached their product's `write_off_days` (see the module's doc), in the
    caller's transaction; returns how many lines were written off."""
    statements = _due(Statement.objects.all())
    if first_id is not None:
        statements = statements.filter(pk__gte=first_id, pk__lte=last_id)
    with transaction.atomic():
        line_ids = list(statements.order_by("line_id").values_list("line_id", flat=True))
        if not line_ids:
            return 0
        # Lines first, by primary key, as a payment or a purchase locks them; then the
        # statements are read again under the lock (a payment may have made one current).
        lines = dict(
            CreditLine.objects.select_for_update(of=("self",))
            .filter(field_in("pk", line_ids))
            .order_by("pk")
            .values_list("pk", "outstanding_principal")
        )
        rows = list(
            _due(Statement.objects.filter(field_in("line_id", list(lines))))
            .select_for_update(of=("self",))
            .order_by("pk")
            .values_list(
                "pk",
                "line_id",
                "days_past_due",
                "line__product__write_off_days",
                "parts_due",
                "parts_paid",
                "purchases_due",
                "purchases_paid",
            )
        )
        if not rows:
            return 0
        targets = [line_id for _pk, line_id, *_rest in rows]
        unbilled = _unbilled_by_line(targets)
        parts = _scheduled_parts_by_line(targets)
        receivable = _receivables_by_line(targets)
        journal = ledger.JournalBatch(day)
        write_offs, statement_rows = [], []
        for (
            pk,
            line_id,
            dpd,
            threshold,
            parts_due,
            parts_paid,
            purchases_due,
            purchases_paid,
        ) in rows:
            purchases_added = sum(
                (left for _pk, left, in_plan in unbilled[line_id] if not in_plan), ZERO
            )
            parts_added = sum((principal for _pk, principal in parts[line_id]), ZERO)
            principal = (
                parts_due
                - parts_paid
                + purchases_due
                - purchases_paid
                + purchases_added
                + parts_added
            )
            if principal != lines[line_id]:
                raise RuntimeError(
                    f"line {line_id}: the principal owed on its rows, "
                    f"{principal}, is not its outstanding {lines[line_id]}"
                )
            reversed_ = {
                name: receivable.get((line_id, code), ZERO) for code, _income, name in REVERSED
            }
            journal.add(
                kind=KIND,
                line_id=line_id,
                memo=f"Write-off of pay-later line {line_id}",
                legs=write_off_legs(principal, reversed_),
            )
            statement_rows.append(
                (
                    StatementStatus.WRITTEN_OFF.value,
                    purchases_due + purchases_added,
                    parts_due + parts_added,
                    pk,
                )
            )
            write_offs.append(
                LineWriteOff(
                    line_id=line_id,
                    statement_id=pk,
                    business_date=day,
                    principal=principal,
                    interest_reversed=reversed_["interest"],
                    fees_reversed=reversed_["fees"],
                    penalty_reversed=reversed_["penalty"],
                    days_past_due=dpd,
                    reason=f"{dpd} days past due (the product writes off at {threshold})",
                )
            )
        journal.post()
        _rows_accelerate(unbilled, parts, {line_id: pk for pk, line_id, *_rest in rows})
        rows_update(Statement, ["status", "purchases_due", "parts_due"], statement_rows)
        old_status = _lines_close(targets)
        write_offs = LineWriteOff.objects.bulk_create(write_offs)
        actor = actor_system(STEP)
        audit_events_append_many(
            AuditDraft(
                actor=actor,
                action="line.write_off",
                subject_kind="line",
                subject_id=w.line_id,
                payload={
                    "write_off": w.pk,
                    "statement": w.statement_id,
                    "business_date": day,
                    "days_past_due": w.days_past_due,
                    "principal": w.principal,
                    "interest_reversed": w.interest_reversed,
                    "fees_reversed": w.fees_reversed,
                    "penalty_reversed": w.penalty_reversed,
                    "reason": w.reason,
                    "from": old_status[w.line_id],
                    "to": CreditLineStatus.CLOSED,
                },
            )
            for w in write_offs
        )
    return len(write_offs)


def write_off_legs(principal, reversed_) -> list[tuple[str, Decimal]]:
    """One line's write-off: the principal to credit loss, each receivable reversed against
    its income (`reversed_`: interest, fees, penalty)."""
    legs = [(ledger.CREDIT_LOSS, principal), (ledger.PAY_LATER_RECEIVABLE, -principal)]
    for code, income, name in REVERSED:
        legs += [(income, reversed_[name]), (code, -reversed_[name])]
    return legs


def _unbilled_by_line(line_ids) -> dict[int, list[tuple[int, Decimal, bool]]]:
    """Purchases no statement has billed: (id, what is left of it, whether a plan holds it)."""
    found = defaultdict(list)
    for pk, line_id, amount, refunded, paid, plan_id in (
        Purchase.objects.filter(field_in("line_id", line_ids), statement__isnull=True)
        .select_for_update()
        .values_list("pk", "line_id", "amount", "refunded", "paid_before_billing", "plan_id")
    ):
        found[line_id].append((pk, amount - refunded - paid, plan_id is not None))
    return found


def _scheduled_parts_by_line(line_ids) -> dict[int, list[tuple[int, Decimal]]]:
    """The parts of active plans not yet billed: (part id, principal)."""
    found = defaultdict(list)
    for pk, line_id, principal in (
        PlanPart.objects.filter(
            field_in("plan__line_id", line_ids),
            plan__status=PlanStatus.ACTIVE,
            status=PlanPartStatus.SCHEDULED,
        )
        .select_for_update(of=("self",))
        .values_list("pk", "plan__line_id", "principal")
    ):
        found[line_id].append((pk, principal))
    return found


def _receivables_by_line(line_ids) -> dict[tuple[int, str], Decimal]:
    """Interest, plan fees and penalty receivable per line, from the ledger, in one query."""
    totals = (
        Posting.objects.filter(
            field_in("line_id", line_ids), account__code__in=[code for code, *_ in REVERSED]
        )
        .values("line_id", "account__code")
        .annotate(total=Sum("amount"))
        .values_list("line_id", "account__code", "total")
    )
    # Rounded to the cent: SQLite (the demo database) sums decimals as floats.
    return {
        (line_id, code): round_money(Decimal(total)) for line_id, code, total in totals if total
    }


def _rows_accelerate(unbilled, parts, statement_of):
    """The purchases not yet billed join the written-off statement, and the plans' parts not
    yet billed are billed on it, their fees waived; the plans are then complete."""
    rows_update(
        Purchase,
        ["statement_id"],
        [
            (statement_of[line_id], pk)
            for line_id, found in unbilled.items()
            for pk, _left, _in_plan in found
        ],
    )
    rows_update(
        PlanPart,
        ["status", "statement_id", "fee"],
        [
            (PlanPartStatus.BILLED.value, statement_of[line_id], ZERO, pk)
            for line_id, found in parts.items()
            for pk, _principal in found
        ],
    )
    InstalmentPlan.objects.filter(
        field_in("line_id", list(statement_of)), status=PlanStatus.ACTIVE
    ).update(status=PlanStatus.COMPLETED)


def _lines_close(line_ids) -> dict[int, str]:
    """Close the written-off lines for good, nothing outstanding on them; returns each line's
    status before."""
    old = dict(CreditLine.objects.filter(field_in("pk", line_ids)).values_list("pk", "status"))
    for status in set(old.values()):
        transition_check(LINE_TRANSITIONS, status, CreditLineStatus.CLOSED, what="credit line")
    CreditLine.objects.filter(field_in("pk", line_ids)).update(
        status=CreditLineStatus.CLOSED, frozen_by="", freeze_reason="", outstanding_principal=0
    )
    return old


def line_write_off_owed(line) -> Decimal:
    """What the customer still owes on a written-off line: everything written off, less what
    has been recovered."""
    recovered = LineRecovery.objects.filter(line=line).aggregate(total=Sum("amount"))["total"]
    recovered = round_money(Decimal(recovered)) if recovered else ZERO
    return line.write_off.total - recovered


def line_recovery_book(*, line, amount, day, actor) -> LineRecovery:
    """Book `amount` received on the written-off `line`, which the caller has locked, in the
    caller's transaction (`line_pay` routes a payment on a written-off line here, keyed by its
    idempotency key). Refused above what is still owed."""
    owed = line_write_off_owed(line)
    if owed <= 0:
        raise Overpayment(
            gettext("Nothing is owed on this written-off line any more."), translated=True
        )
    if amount > owed:
        raise Overpayment(
            gettext("That is more than you owe: at most %(owed)s.") % {"owed": owed},
            translated=True,
        )
    recovery = LineRecovery.objects.create(line=line, amount=amount, received_on=day)
    ledger.journal_entry_post(
        kind=RECOVERY_KIND,
        business_date=day,
        line=line,
        legs=[(ledger.CASH, amount), (ledger.RECOVERY_INCOME, -amount)],
        memo=f"Recovery {recovery.pk} on written-off line {line.pk}",
    )
    audit_event_append(
        actor=actor,
        action="line.recover",
        subject_kind="line",
        subject_id=line.pk,
        payload={
            "recovery": recovery.pk,
            "received_on": day,
            "amount": amount,
            "owed": owed - amount,
        },
    )
    return recovery
