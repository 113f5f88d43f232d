"""The checkout's confirmation on PostgreSQL in two statements (and the commit), the step a
shopper waits on: `checkout_and_line_lock` locks the checkout and then the customer's
pay-later line in one statement, and `paid_ctes` marks the checkout paid inside the purchase's
own statement (`purchase_create_on_locked_line(also=...)`). SQLite takes the ORM's path."""

from django.db import connection

from accounts.models import Merchant

from ..models import Checkout, CheckoutStatus, CreditLine, ProductKind


def _plain_fields(model) -> list:
    # The fields whose database value is the Python value as it comes (a JSON field's is
    # not: it is decoded by the field). The instances built from the row below leave the
    # others deferred, so that reading one loads it properly.
    return [field for field in model._meta.concrete_fields
            if not hasattr(field, "from_db_value")]


_CHECKOUT, _MERCHANT, _LINE = (_plain_fields(model) for model in (Checkout, Merchant, CreditLine))


def _columns(alias, fields) -> str:
    return ", ".join(f'{alias}."{field.column}"' for field in fields)


# The checkout is locked in a materialised CTE, which the join reads first; the line's lateral
# subquery depends on the checkout's row (it locks the line only for a pending checkout), so it
# runs after: the order of `_checkout_lock` then `customer_pay_later_line_lock`, the order in
# which every confirmation takes its locks. A checkout confirmed by the transaction this one
# waited for comes back in its new state, and the line is then left alone.
_LOCKS_SQL = f"""
WITH checkout AS MATERIALIZED (
    SELECT {_columns("c", _CHECKOUT)} FROM lending_checkout c
    WHERE c.token = %(token)s
    FOR UPDATE
)
SELECT {_columns("checkout", _CHECKOUT)}, {_columns("m", _MERCHANT)}, {_columns("line", _LINE)}
FROM checkout
JOIN {Merchant._meta.db_table} m ON m.id = checkout.merchant_id
LEFT JOIN LATERAL (
    SELECT {_columns("l", _LINE)} FROM lending_creditline l
    WHERE l.customer_id = %(customer)s AND checkout.status = %(pending)s
      AND l.product_id IN (SELECT id FROM lending_creditproduct WHERE kind = %(pay_later)s)
    ORDER BY l.id
    LIMIT 1
    FOR UPDATE
) line ON true
"""


def checkout_and_line_lock(token, customer) -> tuple[Checkout, CreditLine | None]:
    """The checkout (its merchant attached) and, if it is pending, the customer's pay-later
    line, both locked. A token no checkout has raises `Checkout.DoesNotExist`."""
    with connection.cursor() as cursor:
        cursor.execute(_LOCKS_SQL, {"token": token, "customer": customer.pk,
                                    "pending": CheckoutStatus.PENDING,
                                    "pay_later": ProductKind.PAY_LATER})
        row = cursor.fetchone()
    if row is None:
        raise Checkout.DoesNotExist(f"No checkout has the token {token!r}.")
    checkout_values = row[:len(_CHECKOUT)]
    merchant_values = row[len(_CHECKOUT):len(_CHECKOUT) + len(_MERCHANT)]
    line_values = row[len(_CHECKOUT) + len(_MERCHANT):]
    checkout = _instance(Checkout, _CHECKOUT, checkout_values)
    checkout.merchant = _instance(Merchant, _MERCHANT, merchant_values)
    line = None if line_values[0] is None else _instance(CreditLine, _LINE, line_values)
    return checkout, line


def _instance(model, fields, values):
    return model.from_db(connection.alias, [field.attname for field in fields], values)


# Written in the purchase's statement, after its `made` CTE: the checkout paid by it.
_PAID_CTE = """,
paid AS (
    UPDATE lending_checkout
    SET status = %(confirmed)s, customer_id = %(customer)s, purchase_id = made.id,
        completed_at = %(completed_at)s
    FROM made
    WHERE lending_checkout.id = %(checkout)s
    RETURNING lending_checkout.id
)"""


def paid_ctes(checkout, customer, completed_at) -> tuple[str, dict]:
    """`also` for `purchase_create_on_locked_line`: mark the checkout paid by the purchase."""
    return _PAID_CTE, {"confirmed": CheckoutStatus.CONFIRMED, "customer": customer.pk,
                       "completed_at": completed_at, "checkout": checkout.pk}
