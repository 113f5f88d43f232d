"""Opening a pay-later line and buying with it (the merchant checkout's booking)."""

from django.db import connection, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from core.audit import actor_system
from core.batch import instance_saved
from core.calendar import business_date_today
from core.money import round_money, to_amount

from ...errors import InsufficientCredit, LendingError, LineNotUsable
from ...models import CreditLine, CreditLineStatus, ProductKind, Purchase
from .. import ledger
from ..lines import credit_line_open
from .common import cents, pay_later_line_lock


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


def customer_pay_later_line_lock(customer) -> CreditLine | None:
    """The customer's pay-later line, locked, or None (the platform offers one such product)."""
    return (CreditLine.objects.select_for_update(of=("self",)).select_related("product")
            .filter(customer=customer, product__kind=ProductKind.PAY_LATER).order_by("pk")
            .first())


def purchase_create_on_locked_line(*, line, merchant, amount, order_reference,
                                   description="", also=None) -> Purchase:
    """`purchase_create` for a caller that has locked the line in its own transaction
    (`customer_pay_later_line_lock`): the checkout's confirmation, one query fewer.

    `also`, on PostgreSQL only: `(ctes, params)`, more writes of the caller's made in the
    purchase's one statement, as CTEs that may read `made` (the new purchase's row): the
    checkout marks itself paid without a round trip of its own. Ignored on SQLite."""
    if not connection.in_atomic_block:
        raise RuntimeError("purchase_create_on_locked_line needs the caller's transaction")
    return _purchase_checked_and_written(line, merchant, to_amount(amount),
                                         _reference_checked(order_reference), description,
                                         also=also)


def _reference_checked(order_reference) -> str:
    order_reference = (order_reference or "").strip()
    if not order_reference or len(order_reference) > 64:
        raise LendingError("An order reference of 1 to 64 characters is required.")
    return order_reference


def _purchase_book(line, merchant, amount, order_reference, description) -> Purchase:
    return _purchase_checked_and_written(pay_later_line_lock(line.pk), merchant, amount,
                                         order_reference, description)


def _purchase_checked_and_written(line, merchant, amount, order_reference,
                                  description, also=None) -> Purchase:
    """The checks under the line's lock, then the writes (refusals come before any write)."""
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
    fee = round_money(amount * merchant.fee_rate)
    if connection.vendor == "postgresql":
        return _purchase_write_in_one_statement(line, merchant, amount, fee, order_reference,
                                                description, also)
    today = business_date_today()
    if Purchase.objects.filter(merchant=merchant, order_reference=order_reference).exists():
        raise DuplicateOrder("This order has been paid already.")
    purchase = Purchase.objects.create(
        line=line, merchant=merchant, order_reference=order_reference,
        description=(description or "")[:200], amount=amount, merchant_fee=fee,
        posted_on=today)
    CreditLine.objects.filter(pk=line.pk).update(
        outstanding_principal=cents(F("outstanding_principal") + amount))
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


# The same writes as the Python path above in one statement, for PostgreSQL: a checkout's
# confirmation waits on it. The purchase is inserted unless the merchant's order was paid
# already (then nothing else is written and no row comes back), the line's outstanding rises,
# and the two entries are posted with the legs the Python path gives them (a zero fee leg
# left out, as `ledger.legs_merge` does).
_PURCHASE_SQL = """
WITH made AS (
    INSERT INTO lending_purchase (line_id, merchant_id, order_reference, description, amount,
                                  merchant_fee, refunded, paid_before_billing, posted_on,
                                  created_at)
    SELECT %(line)s, %(merchant)s, %(reference)s, %(description)s, %(amount)s, %(fee)s, 0, 0,
           current, now()
    FROM lending_businessdate
    ON CONFLICT ON CONSTRAINT one_purchase_per_order DO NOTHING
    RETURNING id, posted_on, created_at
),
line AS (
    UPDATE lending_creditline SET outstanding_principal = outstanding_principal + %(amount)s
    WHERE id = %(line)s AND EXISTS (SELECT 1 FROM made)
    RETURNING id
),
entries AS (
    INSERT INTO lending_journalentry (kind, business_date, line_id, memo, created_at)
    SELECT kind, made.posted_on, %(line)s, 'Purchase ' || made.id || ' at ' || %(code)s, now()
    FROM made CROSS JOIN (VALUES ('purchase'), ('merchant_settlement')) AS k(kind)
    RETURNING id, kind
),
legs AS (
    INSERT INTO lending_posting (entry_id, account_id, line_id, amount)
    SELECT e.id, a.id, %(line)s, leg.amount
    FROM entries e
    JOIN (VALUES ('purchase', %(receivable)s, %(amount)s::numeric),
                 ('purchase', %(payable)s, -%(amount)s::numeric),
                 ('merchant_settlement', %(payable)s, %(amount)s::numeric),
                 ('merchant_settlement', %(cash)s, %(fee)s::numeric - %(amount)s::numeric),
                 ('merchant_settlement', %(fee_income)s, -%(fee)s::numeric))
         AS leg(kind, code, amount) ON leg.kind = e.kind
    JOIN lending_ledgeraccount a ON a.code = leg.code
    WHERE leg.amount <> 0
    RETURNING id
){also}
SELECT made.id, made.posted_on, made.created_at, (SELECT count(*) FROM line),
       (SELECT count(*) FROM legs)
FROM made
"""


def _purchase_write_in_one_statement(line, merchant, amount, fee, order_reference,
                                     description, also=None) -> Purchase:
    description = (description or "")[:200]
    also_ctes, also_params = also or ("", {})
    with connection.cursor() as cursor:
        cursor.execute(_PURCHASE_SQL.format(also=also_ctes), {
            **also_params,
            "line": line.pk, "merchant": merchant.pk, "reference": order_reference,
            "description": description, "amount": amount, "fee": fee, "code": merchant.code,
            "receivable": ledger.PAY_LATER_RECEIVABLE, "payable": ledger.MERCHANT_PAYABLE,
            "cash": ledger.CASH, "fee_income": ledger.MERCHANT_FEE_INCOME})
        row = cursor.fetchone()
    if row is None:
        raise DuplicateOrder("This order has been paid already.")
    pk, posted_on, created_at, lines_updated, legs = row
    if lines_updated != 1 or legs != (5 if fee else 4):
        raise RuntimeError(f"purchase {pk}: {lines_updated} lines, {legs} postings written")
    purchase = Purchase(line=line, merchant=merchant, order_reference=order_reference,
                        description=description, amount=amount, merchant_fee=fee,
                        posted_on=posted_on, created_at=created_at)
    return instance_saved(purchase, pk)
