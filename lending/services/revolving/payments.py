"""Payments on a pay-later line (还款), and a credit balance paid back to the customer."""

from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from core.calendar import business_date_today
from core.idempotency import actor_of_scope, idempotency_key_claim, idempotency_result_store
from core.money import to_amount

from ...errors import LendingError, Overpayment
from ...models import (
    CreditBalanceRefund,
    CreditLine,
    PayLaterPayment,
    PayLaterPaymentKind,
    Purchase,
)
from ...models.revolving import LineRecovery, LineWriteOff
from ...rules.delinquency import days_past_due
from ...rules.statements import PaymentTooLarge, overdue_since, split_payment, statement_owed
from .. import ledger
from .common import (
    ZERO,
    cents,
    line_outstanding_lower,
    open_statement_lock,
    pay_later_line_lock,
    statement_principal_credit,
    statement_settle_if_paid,
)
from .write_off import line_recovery_book


def unbilled_left(line_id: int, *, lock: bool) -> list[tuple[int, Decimal]]:
    """Purchases not yet billed nor in a plan, oldest first, with what is left to pay on each."""
    rows = Purchase.objects.filter(line_id=line_id, statement__isnull=True, plan__isnull=True)
    if lock:
        rows = rows.select_for_update()
    return [(pk, amount - refunded - paid) for pk, amount, refunded, paid in rows.order_by(
        "posted_on", "pk").values_list("pk", "amount", "refunded", "paid_before_billing")
        if amount - refunded - paid > 0]


def payment_apply(*, line, statement, amount, day, kind, legs_from, memo) -> PayLaterPayment:
    """Spread `amount` over the open statement then the unbilled purchases (locked by the
    caller) and book it: `legs_from` is the account the money comes from (cash for a payment,
    the customer's credit balance when the cut applies it)."""
    unbilled = unbilled_left(line.pk, lock=True)
    try:
        split = split_payment(amount, statement_owed(statement), unbilled)
    except PaymentTooLarge as refused:
        raise Overpayment(_("That is more than you owe: at most %(owed)s.")
                          % {"owed": refused.owed}, translated=True) from None
    if statement is not None and split.to_statement:
        for name in ("penalty", "interest", "fees", "parts", "purchases"):
            setattr(statement, f"{name}_paid", getattr(statement, f"{name}_paid")
                    + getattr(split, name))
        statement_principal_credit(statement, day, split.parts + split.purchases)
        statement_settle_if_paid(statement, day)
        if statement.overdue_since is not None:
            since = overdue_since(
                carried_since=statement.overdue_since
                if statement.overdue_since < statement.due_date else None,
                earlier_minimum_unpaid=statement.earlier_minimum_unpaid,
                minimum_due=statement.minimum_due, paid=statement.total_paid,
                due_date=statement.due_date, grace_days=line.product.grace_days, day=day)
            statement.overdue_since = since
            statement.days_past_due = days_past_due(since, day)
        statement.save()
    for purchase_id, paid in split.unbilled:
        Purchase.objects.filter(pk=purchase_id).update(
            paid_before_billing=cents(F("paid_before_billing") + paid))
    principal = split.parts + split.purchases + split.to_unbilled
    line_outstanding_lower(line.pk, principal)
    payment = PayLaterPayment.objects.create(
        line=line, kind=kind, amount=amount,
        statement=statement if split.to_statement else None, penalty=split.penalty,
        interest=split.interest, fees=split.fees, parts=split.parts,
        purchases=split.purchases, unbilled=split.to_unbilled, business_date=day)
    ledger.journal_entry_post(
        kind=f"pay_later_{kind}", business_date=day, line=line, memo=memo,
        legs=[(legs_from, amount), (ledger.PENALTY_RECEIVABLE, -split.penalty),
              (ledger.INTEREST_RECEIVABLE, -split.interest),
              (ledger.PLAN_FEE_RECEIVABLE, -split.fees),
              (ledger.PAY_LATER_RECEIVABLE, -principal)])
    return payment


def line_pay(*, line, amount, scope, idempotency_key) -> PayLaterPayment | LineRecovery:
    """还款: pay the open statement (penalty, interest, fees, instalment parts, purchases), then
    purchases not yet billed, oldest first; more than all of it is refused. Paying the
    statement's minimum (or what was past due) makes it current at once; paid in full by the
    due date, it was interest-free. On a written-off line the payment is a `LineRecovery`
    (`write_off.line_recovery_book`). One durable transaction; the same key replays the first
    payment."""
    amount = to_amount(amount)
    payload = {"line": line.pk, "amount": str(amount), "kind": "pay_later_payment"}
    with transaction.atomic(durable=True):
        record, replay = idempotency_key_claim(scope=scope, key=idempotency_key, payload=payload)
        if replay is not None:
            if "recovery_id" in replay:
                return LineRecovery.objects.get(pk=replay["recovery_id"])
            return PayLaterPayment.objects.get(pk=replay["payment_id"])
        line = pay_later_line_lock(line.pk)
        if LineWriteOff.objects.filter(line=line).exists():
            # Money received after a write-off is a recovery: nothing is open to pay.
            recovery = line_recovery_book(line=line, amount=amount, day=business_date_today(),
                                          actor=actor_of_scope(scope))
            idempotency_result_store(record, {"recovery_id": recovery.pk})
            return recovery
        statement = open_statement_lock(line.pk)
        payment = payment_apply(line=line, statement=statement, amount=amount,
                                day=business_date_today(), kind=PayLaterPaymentKind.PAYMENT,
                                legs_from=ledger.CASH, memo="Pay-later payment")
        idempotency_result_store(record, {"payment_id": payment.pk})
    return payment


def credit_balance_pay_back(*, line, requested_by) -> CreditBalanceRefund:
    """Pay the customer's credit balance (a refund on a statement already paid) back to them."""
    with transaction.atomic(durable=True):
        line = pay_later_line_lock(line.pk)
        amount = line.credit_balance
        if amount <= ZERO:
            raise LendingError(_("There is no credit balance to pay back."), translated=True)
        day = business_date_today()
        CreditLine.objects.filter(pk=line.pk).update(credit_balance=ZERO)
        refund = CreditBalanceRefund.objects.create(line=line, amount=amount, business_date=day,
                                                    requested_by=requested_by)
        ledger.journal_entry_post(kind="credit_balance_refund", business_date=day, line=line,
                                  memo="Credit balance paid back",
                                  legs=[(ledger.CUSTOMER_CREDIT, amount),
                                        (ledger.CASH, -amount)])
    return refund
