"""Opening credit lines and changing their limits."""

from django.db import transaction

from ..errors import LendingError
from ..models import CreditLine, LimitChange
from ..money import to_decimal, to_money
from ..selectors import business_date_today


def credit_line_open(*, customer, product, credit_limit, daily_rate) -> CreditLine:
    limit = to_money(credit_limit, what="credit limit")
    rate = to_decimal(daily_rate, what="daily rate")
    if not product.min_daily_rate <= rate <= product.max_daily_rate:
        raise LendingError(f"The daily rate must lie in the product's band "
                           f"{product.min_daily_rate}-{product.max_daily_rate}.")
    with transaction.atomic():
        return CreditLine.objects.create(customer=customer, product=product, credit_limit=limit,
                                         daily_rate=rate, opened_on=business_date_today())


def line_limit_lower(*, line_id: int, new_limit, reason: str, officer) -> LimitChange:
    """降额: lower a line's limit, recording who did it, why, and when."""
    new_limit = to_decimal(new_limit, what="new limit")
    if new_limit < 0 or new_limit != new_limit.quantize(to_decimal("0.01")):
        raise LendingError("The new limit must be zero or more, with at most two decimals.")
    reason = (reason or "").strip()
    if not reason:
        raise LendingError("A reason is required to lower a limit.")
    with transaction.atomic(durable=True):
        line = CreditLine.objects.select_for_update(of=("self",)).get(pk=line_id)
        if new_limit >= line.credit_limit:
            raise LendingError(f"The new limit must be below the current limit "
                               f"{line.credit_limit}.")
        change = LimitChange.objects.create(line=line, old_limit=line.credit_limit,
                                            new_limit=new_limit, reason=reason, officer=officer,
                                            business_date=business_date_today())
        line.credit_limit = new_limit
        line.save(update_fields=["credit_limit", "updated_at"])
    return change


def line_limit_raise(*, line_id: int, new_limit, reason: str, officer=None,
                     daily_rate=None) -> CreditLine:
    """Raise a line's limit to `new_limit` (recorded as a LimitChange) and, when given, set its
    daily rate within the product's band. A raise never lowers: a limit already at or above
    `new_limit` stays, with no change recorded.

    Joins the caller's transaction when there is one (accepting a credit offer marks the
    decision accepted in the same transaction); the line is locked either way."""
    new_limit = to_money(new_limit, what="new limit")
    rate = None if daily_rate is None else to_decimal(daily_rate, what="daily rate")
    reason = (reason or "").strip()
    if not reason:
        raise LendingError("A reason is required to raise a limit.")
    with transaction.atomic():
        line = (CreditLine.objects.select_for_update(of=("self",)).select_related("product")
                .get(pk=line_id))
        fields = []
        if rate is not None and rate != line.daily_rate:
            product = line.product
            if not product.min_daily_rate <= rate <= product.max_daily_rate:
                raise LendingError(f"The daily rate must lie in the product's band "
                                   f"{product.min_daily_rate}-{product.max_daily_rate}.")
            line.daily_rate = rate
            fields.append("daily_rate")
        if new_limit > line.credit_limit:
            LimitChange.objects.create(line=line, old_limit=line.credit_limit,
                                       new_limit=new_limit, reason=reason, officer=officer,
                                       business_date=business_date_today())
            line.credit_limit = new_limit
            fields.append("credit_limit")
        if fields:
            line.save(update_fields=[*fields, "updated_at"])
    return line
