"""Instalment plans (分期): a statement (账单分期) or a purchase (交易分期) converted into
monthly parts with a fee, and a plan settled early (提前还款).

A conversion books nothing: the principal stays owed (pay-later receivable) and keeps using
the limit until its parts are paid; each part's fee is booked when a statement bills it, so a
fee never billed (a plan settled early, a refund) needs no reversal."""

import hashlib
import json
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from core.calendar import business_date_today
from core.idempotency import idempotency_key_claim, idempotency_result_store

from ...errors import LendingError
from ...models import (
    InstalmentPlan,
    PayLaterPayment,
    PayLaterPaymentKind,
    PlanPart,
    PlanPartStatus,
    PlanSource,
    PlanStatus,
    Purchase,
    Statement,
    StatementStatus,
)
from ...rules.plans import PlanQuote, quote_plan
from .. import ledger
from .common import (
    ZERO,
    line_outstanding_lower,
    open_statement_lock,
    pay_later_line_lock,
    statement_minimum,
    statement_principal_credit,
    statement_settle_if_paid,
)


class ConversionRefused(LendingError):
    code = "conversion_refused"
    translated = True


def _fee_rate(product, term_months) -> Decimal:
    rates = product.plan_fee_rates or {}
    if str(term_months) not in rates:
        offered = ", ".join(sorted(rates, key=int))
        raise ConversionRefused(_("Choose one of the terms offered: %(offered)s months.")
                                % {"offered": offered})
    return Decimal(str(rates[str(term_months)]))


def _check_amount(principal, product):
    if principal < product.plan_min_amount:
        raise ConversionRefused(_("Only %(least)s or more can be converted into instalments; "
                                  "this is %(amount)s.") % {"least": product.plan_min_amount,
                                                            "amount": principal})


def _statement_convertible(statement: Statement, day) -> Decimal:
    """What of a statement may be converted: its purchases (and revolved balance) still unpaid,
    while it is open, current and before its due date."""
    if statement.status != StatementStatus.OPEN:
        raise ConversionRefused(_("Only an open statement can be converted into instalments."))
    if day > statement.due_date:
        raise ConversionRefused(_("A statement can be converted only up to its due date."))
    if statement.overdue_since is not None:
        raise ConversionRefused(_("An overdue statement cannot be converted into instalments."))
    return statement.purchases_due - statement.purchases_paid


def _purchase_convertible(purchase: Purchase, statement: Statement | None, day) -> Decimal:
    """What of a purchase may be converted: what is left of it, before it is billed, or billed
    on the open statement before its due date (up to what is unpaid there)."""
    if purchase.plan_id is not None:
        raise ConversionRefused(_("This purchase is in an instalment plan already."))
    left = purchase.amount - purchase.refunded - purchase.paid_before_billing
    if purchase.statement_id is None:
        return left
    if statement is None or statement.pk != purchase.statement_id:
        raise ConversionRefused(_("This purchase's statement is closed: it can no longer be "
                                  "converted."))
    return min(left, _statement_convertible(statement, day))


def plan_quote_for_statement(*, statement, term_months) -> PlanQuote:
    product = statement.line.product
    principal = _statement_convertible(statement, business_date_today())
    _check_amount(principal, product)
    return quote_plan(principal=principal, term_months=term_months,
                      fee_rate=_fee_rate(product, term_months))


def plan_quote_for_purchase(*, purchase, term_months) -> PlanQuote:
    product = purchase.line.product
    statement = (Statement.objects.filter(pk=purchase.statement_id).first()
                 if purchase.statement_id else None)
    principal = _purchase_convertible(purchase, statement, business_date_today())
    _check_amount(principal, product)
    return quote_plan(principal=principal, term_months=term_months,
                      fee_rate=_fee_rate(product, term_months))


def plan_quote_fingerprint(quote: PlanQuote) -> str:
    """What the customer was shown, so that what is booked is what was shown."""
    shown = {"principal": str(quote.principal), "term": quote.term_months,
             "fee_rate": str(quote.fee_rate), "apr": str(quote.apr),
             "parts": [[str(p.principal), str(p.fee)] for p in quote.parts]}
    return hashlib.sha256(json.dumps(shown, sort_keys=True).encode()).hexdigest()


def _plan_book(*, line, source, statement, quote: PlanQuote, shown, day) -> InstalmentPlan:
    if plan_quote_fingerprint(quote) != shown:
        raise ConversionRefused(_("The figures have changed since you saw them (a payment, a "
                                  "refund or a new statement): look at the new ones."))
    plan = InstalmentPlan.objects.create(
        line=line, source=source, statement=statement, principal=quote.principal,
        term_months=quote.term_months, fee_rate=quote.fee_rate, fee_total=quote.fee_total,
        apr=quote.apr, created_on=day)
    PlanPart.objects.bulk_create(PlanPart(plan=plan, seq=p.seq, principal=p.principal,
                                          fee=p.fee) for p in quote.parts)
    return plan


def _statement_lower(statement, principal, day, product):
    """The converted principal leaves the statement's purchases: its balance and minimum fall,
    and the revolving interest's base with them."""
    statement.purchases_due -= principal
    statement.converted += principal
    statement.minimum_due = statement_minimum(statement, product)
    statement_principal_credit(statement, day, principal)
    statement_settle_if_paid(statement, day)
    statement.save()


def statement_convert(*, statement, term_months, shown) -> InstalmentPlan:
    """账单分期: convert the open statement's unpaid purchases into `term_months` parts, as
    quoted (`shown`: the quote's fingerprint). Its parts fall on the following statements."""
    with transaction.atomic(durable=True):
        asked = statement.pk
        line = pay_later_line_lock(statement.line_id)
        statement = open_statement_lock(line.pk)
        if statement is None or statement.pk != asked:
            raise ConversionRefused(_("This statement is no longer open."))
        day = business_date_today()
        principal = _statement_convertible(statement, day)
        _check_amount(principal, line.product)
        quote = quote_plan(principal=principal, term_months=term_months,
                           fee_rate=_fee_rate(line.product, term_months))
        plan = _plan_book(line=line, source=PlanSource.STATEMENT, statement=statement,
                          quote=quote, shown=shown, day=day)
        _statement_lower(statement, principal, day, line.product)
    return plan


def purchase_convert(*, purchase, term_months, shown) -> InstalmentPlan:
    """交易分期: convert one purchase (what is left of it) into `term_months` parts, as quoted."""
    with transaction.atomic(durable=True):
        line = pay_later_line_lock(purchase.line_id)
        statement = open_statement_lock(line.pk)
        purchase = Purchase.objects.select_for_update().get(pk=purchase.pk)
        day = business_date_today()
        principal = _purchase_convertible(purchase, statement, day)
        _check_amount(principal, line.product)
        quote = quote_plan(principal=principal, term_months=term_months,
                           fee_rate=_fee_rate(line.product, term_months))
        plan = _plan_book(line=line, source=PlanSource.PURCHASE,
                          statement=statement if purchase.statement_id else None,
                          quote=quote, shown=shown, day=day)
        Purchase.objects.filter(pk=purchase.pk).update(plan=plan)
        if purchase.statement_id is not None:
            _statement_lower(statement, principal, day, line.product)
    return plan


def plan_settle_early(*, plan, scope, idempotency_key) -> PayLaterPayment:
    """提前还款: pay a plan's parts not yet billed, principal only: their fees are waived.
    Parts already billed stay on their statement. One durable transaction; the same key
    replays the first settlement."""
    payload = {"plan": plan.pk, "kind": "plan_settle_early"}
    with transaction.atomic(durable=True):
        record, replay = idempotency_key_claim(scope=scope, key=idempotency_key, payload=payload)
        if replay is not None:
            return PayLaterPayment.objects.get(pk=replay["payment_id"])
        line = pay_later_line_lock(plan.line_id)
        plan = InstalmentPlan.objects.select_for_update().get(pk=plan.pk)
        if plan.status != PlanStatus.ACTIVE:
            raise LendingError(_("This plan has no parts left to settle."), translated=True)
        parts = list(PlanPart.objects.select_for_update()
                     .filter(plan=plan, status=PlanPartStatus.SCHEDULED))
        principal = sum((p.principal for p in parts), ZERO)
        if principal <= 0:
            raise LendingError(_("This plan has no principal left to settle."), translated=True)
        day = business_date_today()
        PlanPart.objects.filter(pk__in=[p.pk for p in parts]).update(
            status=PlanPartStatus.CANCELLED)
        plan.status, plan.settled_on = PlanStatus.SETTLED, day
        plan.save(update_fields=["status", "settled_on"])
        line_outstanding_lower(line.pk, principal)
        payment = PayLaterPayment.objects.create(
            line=line, kind=PayLaterPaymentKind.EARLY_SETTLEMENT, amount=principal,
            plan_principal=principal, plan=plan, business_date=day)
        ledger.journal_entry_post(kind="pay_later_plan_settlement", business_date=day,
                                  line=line, memo=f"Plan {plan.pk} settled early",
                                  legs=[(ledger.CASH, principal),
                                        (ledger.PAY_LATER_RECEIVABLE, -principal)])
        idempotency_result_store(record, {"payment_id": payment.pk})
    return payment
