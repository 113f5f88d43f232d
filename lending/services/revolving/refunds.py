"""A merchant's refund of a purchase (退款), whole or in part, and where the money goes.

- not yet billed: off the purchase, so it leaves the next statement (what the customer had
  paid on it early comes back as a credit balance);
- billed, on a statement still open (or carried into the open one): off that statement's
  unpaid purchases, lowering its balance and its minimum;
- billed on a statement already paid: a credit balance, which pays the next statement first
  (the cut applies it) or is paid back on request;
- in an instalment plan: the plan's unbilled parts lose principal, last first (the plan is
  shortened) and every unbilled part's fee is waived; more than the unbilled principal goes as
  for a billed purchase;
- on a line written off: a recovery of the debt written off, the rest a credit balance.

What the customer had paid on the purchase before it was billed and comes back as a credit
balance is no longer "paid early": it leaves `paid_before_billing`.

Ledger: Dr cash (the merchant returns the money), Cr pay-later receivable for what came off
principal owed, Cr customers' credit balances for the rest. The merchant's fee is not
returned."""

from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from core.audit import actor_system
from core.calendar import business_date_today
from core.errors import IdempotencyConflict
from core.money import to_amount

from ...errors import LendingError
from ...models import (
    CreditLine,
    InstalmentPlan,
    PlanPart,
    PlanPartStatus,
    PlanStatus,
    Purchase,
    Refund,
    Statement,
    StatementStatus,
)
from ...models.revolving import LineWriteOff
from ...rules.plans import shorten_plan
from .. import ledger
from .common import (
    ZERO,
    cents,
    line_outstanding_lower,
    open_statement_lock,
    pay_later_line_lock,
    statement_minimum,
    statement_principal_credit,
    statement_settle_if_paid,
)
from .write_off import line_recovery_book, line_write_off_owed


def _plan_of(purchase) -> InstalmentPlan | None:
    """The active plan holding the purchase: its own (交易分期) or its statement's (账单分期)."""
    if purchase.plan_id is not None:
        return InstalmentPlan.objects.select_for_update().get(pk=purchase.plan_id)
    if purchase.statement_id is not None:
        return (InstalmentPlan.objects.select_for_update()
                .filter(statement_id=purchase.statement_id, status=PlanStatus.ACTIVE).first())
    return None


def _plan_shorten(plan, amount) -> tuple[Decimal, Decimal]:
    """Take up to `amount` off the plan's unbilled parts, last first, and waive the fees of
    all its unbilled parts. Returns (principal taken, fees waived)."""
    parts = list(PlanPart.objects.select_for_update()
                 .filter(plan=plan, status=PlanPartStatus.SCHEDULED).order_by("seq"))
    if not parts:
        return ZERO, ZERO
    by_seq = {p.seq: p for p in parts}
    taken = ZERO
    for seq, principal in shorten_plan([(p.seq, p.principal) for p in parts], amount):
        taken += by_seq[seq].principal - principal
        by_seq[seq].principal = principal
    fees_waived = sum((p.fee for p in parts), ZERO)
    for part in parts:
        part.fee = ZERO
        if part.principal == 0:
            part.status = PlanPartStatus.CANCELLED
        part.save(update_fields=["principal", "fee", "status"])
    if not PlanPart.objects.filter(plan=plan, status=PlanPartStatus.SCHEDULED).exists():
        plan.status = PlanStatus.COMPLETED
        plan.save(update_fields=["status"])
    return taken, fees_waived


def _statement_reduce(statement: Statement, amount, day, product, order) -> Decimal:
    """Take up to `amount` off the open statement's unpaid principal (`order`: its purchases
    and its plan parts, in the order to take them); its minimum is recomputed. Returns what was
    taken."""
    taken = ZERO
    for name in order:
        unpaid = getattr(statement, f"{name}_due") - getattr(statement, f"{name}_paid")
        take = min(amount - taken, unpaid)
        if take > 0:
            setattr(statement, f"{name}_due", getattr(statement, f"{name}_due") - take)
            taken += take
    if taken:
        statement.refunded += taken
        statement.minimum_due = statement_minimum(statement, product)
        statement_principal_credit(statement, day, taken)
        statement_settle_if_paid(statement, day)
        statement.save()
    return taken


def _billed_and_unpaid(purchase, plan) -> bool:
    """Whether what is left of the refund may come off the open statement: the purchase (or
    its plan's parts) was billed on a statement not paid in full."""
    if plan is not None:
        return True
    if purchase.statement_id is None:
        return False
    return (Statement.objects.filter(pk=purchase.statement_id)
            .values_list("status", flat=True).get() != StatementStatus.PAID)


def purchase_refund(*, purchase, amount, reference) -> Refund:
    """Refund `amount` of a purchase (see the module's doc). Idempotent per (purchase,
    reference): the same reference and amount return the first refund, another amount is a
    conflict. Joins the caller's transaction (the merchant API's request)."""
    amount = to_amount(amount)
    reference = (reference or "").strip()
    if not reference or len(reference) > 64:
        raise LendingError(_("A refund reference of 1 to 64 characters is required."),
                           translated=True)
    with transaction.atomic():
        line = pay_later_line_lock(purchase.line_id)
        purchase = Purchase.objects.select_for_update().get(pk=purchase.pk)
        first = Refund.objects.filter(purchase=purchase, reference=reference).first()
        if first is not None:
            if first.amount != amount:
                raise IdempotencyConflict("This refund reference was already used for another "
                                          "amount.")
            return first
        if amount > purchase.refundable:
            raise LendingError(_("At most %(refundable)s of this purchase can still be "
                                 "refunded.") % {"refundable": purchase.refundable},
                               translated=True)
        day = business_date_today()
        unbilled = to_plan = to_statement = fees_waived = to_recovery = ZERO
        statement = None
        left = amount
        plan = _plan_of(purchase)
        write_off = LineWriteOff.objects.filter(line=line).first()
        if write_off is not None:
            to_recovery = min(left, line_write_off_owed(line))
            if to_recovery > 0:
                line_recovery_book(line=line, amount=to_recovery, day=day,
                                   actor=actor_system("purchase_refund"))
            left -= to_recovery
        elif plan is not None:
            to_plan, fees_waived = _plan_shorten(plan, left)
            left -= to_plan
        elif purchase.statement_id is None:
            unbilled = min(left, purchase.amount - purchase.refunded
                           - purchase.paid_before_billing)
            left -= unbilled
        if left > 0 and write_off is None and _billed_and_unpaid(purchase, plan):
            # Billed on the open statement, or carried into it: off what is unpaid there.
            statement = open_statement_lock(line.pk)
            if statement is not None:
                order = ("parts", "purchases") if plan is not None else ("purchases", "parts")
                # A purchase paid in part before it was billed put only the rest on the
                # statement: only that comes off it, the part paid early is a credit balance.
                billed = left if plan is not None else min(
                    left, purchase.amount - purchase.refunded - purchase.paid_before_billing)
                to_statement = _statement_reduce(statement, billed, day, line.product, order)
                left -= to_statement
        to_credit = left
        Purchase.objects.filter(pk=purchase.pk).update(
            refunded=cents(F("refunded") + amount),
            paid_before_billing=cents(F("paid_before_billing")
                                      - min(to_credit, purchase.paid_before_billing)))
        line_outstanding_lower(line.pk, unbilled + to_plan + to_statement)
        if to_credit:
            CreditLine.objects.filter(pk=line.pk).update(
                credit_balance=cents(F("credit_balance") + to_credit))
        refund = Refund.objects.create(
            purchase=purchase, amount=amount, unbilled=unbilled, to_statement=to_statement,
            to_plan=to_plan, to_credit=to_credit, to_recovery=to_recovery,
            fees_waived=fees_waived,
            statement=statement if to_statement else None, business_date=day,
            reference=reference)
        # The recovery booked its own entry (Dr cash, Cr recovery income).
        ledger.journal_entry_post(
            kind="pay_later_refund", business_date=day, line=line,
            memo=f"Refund {reference} of purchase {purchase.pk}",
            legs=[(ledger.CASH, amount - to_recovery),
                  (ledger.PAY_LATER_RECEIVABLE, -(unbilled + to_plan + to_statement)),
                  (ledger.CUSTOMER_CREDIT, -to_credit)])
    return refund
