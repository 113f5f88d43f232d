"""Opening a pay-later line and buying with it (the merchant checkout's booking)."""

from django.db import connection, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from core.audit import actor_system
from core.calendar import business_date_today
from core.money import round_money, to_amount

from ...errors import InsufficientCredit, LendingError, LineNotUsable
from ...models import CreditLine, CreditLineStatus, ProductKind, Purchase
from .. import ledger
from ..lines import credit_line_open
from .common import pay_later_line_lock


def pay_later_line_open(*, customer, product, credit_limit, statement_day=1,
                        actor=None) -> CreditLine:
    """A pay-later line at the product's (single) revolving rate, cut on `statement_day`."""
    if product.kind != ProductKind.PAY_LATER:
        raise LendingError(_("This product is not a pay-later line."), translated=True)
    return credit_line_open(customer=customer, product=product, credit_limit=credit_limit,
                            daily_rate=product.min_daily_rate, statement_day=statement_day,
                            actor=actor or actor_system("pay_later_line_open"))


# The accounts a purchase posts to: authorisation (Dr pay-later receivable, Cr owed to
# merchants) and settlement (Dr owed to merchants, Cr cash less the fee, Cr merchant fee income).
_PURCHASE_ACCOUNTS = (ledger.PAY_LATER_RECEIVABLE, ledger.MERCHANT_PAYABLE, ledger.CASH,
                      ledger.MERCHANT_FEE_INCOME)


class DuplicateOrder(LendingError):
    code = "duplicate_order"
    translated = True


def purchase_create(*, line, merchant, amount, order_reference, description="") -> Purchase:
    """Authorise and book a purchase on the line: the line is locked and its available amount
    checked under the lock (the database's `no_overdrawn_line` trigger refuses an overdraw as
    well), the purchase is booked to the next statement, and the merchant is paid the amount
    less its fee: two entries (`_PURCHASE_ACCOUNTS`), written together. About six statements
    in all: the checkout's confirmation is on a customer's screen.

    Joins the caller's transaction (the checkout's confirmation locks its checkout first)."""
    amount = to_amount(amount)
    order_reference = (order_reference or "").strip()
    if not order_reference or len(order_reference) > 64:
        raise LendingError(_("An order reference of 1 to 64 characters is required."),
                           translated=True)
    if connection.in_atomic_block:
        # The caller's transaction (the checkout's): no savepoint of our own to pay for.
        return _purchase_book(line, merchant, amount, order_reference, description)
    with transaction.atomic():
        return _purchase_book(line, merchant, amount, order_reference, description)


def _purchase_book(line, merchant, amount, order_reference, description) -> Purchase:
    """The checks under the line's lock, then the writes (refusals come before any write)."""
    line = pay_later_line_lock(line.pk)
    if line.status != CreditLineStatus.ACTIVE:
        raise LineNotUsable(_("Your pay-later line is frozen: it cannot be used for purchases "
                              "now.") if line.status == CreditLineStatus.FROZEN
                            else _("Your pay-later line is closed."), translated=True)
    if not merchant.is_active:
        raise LendingError(_("This merchant does not take pay-later payments now."),
                           translated=True)
    if amount > line.available:
        raise InsufficientCredit(_("The amount %(amount)s is more than your available credit "
                                   "%(available)s.") % {"amount": amount,
                                                        "available": line.available},
                                 translated=True)
    today = business_date_today()
    fee = round_money(amount * merchant.fee_rate)
    if Purchase.objects.filter(merchant=merchant, order_reference=order_reference).exists():
        raise DuplicateOrder(_("This order has been paid already."))
    purchase = Purchase.objects.create(
        line=line, merchant=merchant, order_reference=order_reference,
        description=(description or "")[:200], amount=amount, merchant_fee=fee,
        posted_on=today)
    CreditLine.objects.filter(pk=line.pk).update(
        outstanding_principal=F("outstanding_principal") + amount)
    memo = f"Purchase {purchase.pk} at {merchant.code}"
    entries = ledger.JournalBatch(today, codes=_PURCHASE_ACCOUNTS)
    entries.add(kind="purchase", line_id=line.pk, memo=memo,
                legs=[(ledger.PAY_LATER_RECEIVABLE, amount),
                      (ledger.MERCHANT_PAYABLE, -amount)])
    entries.add(kind="merchant_settlement", line_id=line.pk, memo=memo,
                legs=[(ledger.MERCHANT_PAYABLE, amount), (ledger.CASH, fee - amount),
                      (ledger.MERCHANT_FEE_INCOME, -fee)])
    entries.post()
    return purchase
