"""The merchant checkout (收银台): a merchant creates a checkout through its API, the customer
confirms or cancels it on the platform's checkout page, and the merchant refunds its purchase.

Confirming is the money-moving step: one durable transaction that locks the checkout, then
books the purchase (`purchase_create`, which locks the line), so a replayed confirmation makes
one purchase and concurrent confirmations on one line never overdraw it."""

from datetime import timedelta
from typing import NoReturn
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import IdempotencyConflict
from core.idempotency import idempotency_key_check, request_fingerprint
from core.money import to_amount

from ..errors import LendingError
from ..models import Checkout, CheckoutStatus, CreditLine, ProductKind, Refund
from .checkout_sql import checkout_and_line_lock, paid_ctes
from .revolving import (
    customer_pay_later_line_lock,
    purchase_create_on_locked_line,
    purchase_refund,
)

MAX_RETURN_URL = 500
EXPIRED_MESSAGE = _("This checkout has expired: go back to the shop and start again.")


class CheckoutRefused(LendingError):
    """A checkout that cannot be confirmed, cancelled or refunded as asked. Its messages are
    marked for translation: the customer's checkout page shows them as they are."""

    code = "checkout_refused"
    translated = True


def _text(value, *, name, max_length, required) -> str:
    text = "" if value is None else value
    if (
        not isinstance(text, str)
        or (required and not text.strip())
        or len(text.strip()) > max_length
        or not text.strip().isprintable()
    ):
        raise LendingError(
            f"The {name} must be text of {1 if required else 0} to {max_length} "
            "printable characters.",
            code=f"invalid_{name.replace(' ', '_')}",
        )
    return text.strip()


def return_url_check(merchant, return_url) -> str:
    """The merchant's return address: an http(s) URL under one of its registered prefixes, so
    that a checkout can only ever send the customer back to the merchant's own pages."""
    url = _text(return_url, name="return url", max_length=MAX_RETURN_URL, required=True)
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc or parts.fragment:
        raise LendingError(
            "The return URL must be an absolute http(s) URL without a fragment.",
            code="invalid_return_url",
        )
    if not any(
        isinstance(prefix, str) and prefix and url.startswith(prefix)
        for prefix in merchant.return_url_prefixes
    ):
        raise LendingError(
            "The return URL is not under one of this merchant's registered return URL prefixes.",
            code="return_url_not_allowed",
        )
    return url


def checkout_create(
    *, merchant, amount, order_reference, description, return_url, idempotency_key
) -> Checkout:
    """A pending checkout for the merchant's order, waiting for the customer for
    settings.CHECKOUT_EXPIRES_MINUTES. Idempotent per (merchant, key): a replay of the same
    request returns the first checkout, the same key with another request is a conflict."""
    idempotency_key_check(idempotency_key)
    if not merchant.is_active:
        raise LendingError(
            "This merchant does not take pay-later payments now.", code="merchant_inactive"
        )
    amount = to_amount(amount)
    order_reference = _text(order_reference, name="order reference", max_length=64, required=True)
    description = _text(description, name="description", max_length=200, required=False)
    return_url = return_url_check(merchant, return_url)
    fingerprint = request_fingerprint(
        {
            "amount": str(amount),
            "order_reference": order_reference,
            "description": description,
            "return_url": return_url,
        }
    )
    try:
        with transaction.atomic():
            return Checkout.objects.create(
                merchant=merchant,
                amount=amount,
                order_reference=order_reference,
                description=description,
                return_url=return_url,
                expires_at=timezone.now() + timedelta(minutes=settings.CHECKOUT_EXPIRES_MINUTES),
                idempotency_key=idempotency_key,
                request_hash=fingerprint,
            )
    except IntegrityError:
        # The key was used before (or by a concurrent request, which committed first).
        first = Checkout.objects.get(merchant=merchant, idempotency_key=idempotency_key)
    if first.request_hash != fingerprint:
        raise IdempotencyConflict("This idempotency key was already used for another request.")
    return first


def pay_later_line_of(customer) -> CreditLine | None:
    """The customer's pay-later line (one per product; the platform offers one such product)."""
    return (
        CreditLine.objects.select_related("product")
        .filter(customer=customer, product__kind=ProductKind.PAY_LATER)
        .order_by("pk")
        .first()
    )


def _expired(checkout) -> bool:
    return checkout.status == CheckoutStatus.PENDING and timezone.now() >= checkout.expires_at


def _checkout_lock(checkout) -> Checkout:
    """The checkout, locked, found by its token: `checkout` may be one read before or only
    its token (`Checkout(token=...)`, the confirmation page's POST: one read fewer). A token
    no checkout has raises `Checkout.DoesNotExist`."""
    return (Checkout.objects.select_for_update(of=("self",)).select_related("merchant")
            .get(token=checkout.token))


def _refuse_unless_pending(checkout) -> None:
    if checkout.status == CheckoutStatus.CONFIRMED:
        raise CheckoutRefused(_("This checkout has been paid already."), code="checkout_paid")
    if checkout.status == CheckoutStatus.CANCELLED:
        raise CheckoutRefused(_("This checkout was cancelled."), code="checkout_cancelled")
    if checkout.status == CheckoutStatus.EXPIRED:
        raise CheckoutRefused(EXPIRED_MESSAGE, code="checkout_expired")


def _expire_and_refuse(checkout) -> NoReturn:
    """Mark a checkout past its time as expired, in a transaction of its own (the one that
    found it so has changed nothing), then refuse it."""
    with transaction.atomic(durable=True):
        Checkout.objects.filter(token=checkout.token, status=CheckoutStatus.PENDING).update(
            status=CheckoutStatus.EXPIRED, completed_at=timezone.now()
        )
    raise CheckoutRefused(EXPIRED_MESSAGE, code="checkout_expired")


def _checkout_and_line_lock(checkout, customer) -> tuple[Checkout, CreditLine | None]:
    if connection.vendor == "postgresql":
        return checkout_and_line_lock(checkout.token, customer)
    locked = _checkout_lock(checkout)
    pending = locked.status == CheckoutStatus.PENDING
    return locked, customer_pay_later_line_lock(customer) if pending else None


def checkout_confirm(*, checkout, customer) -> Checkout:
    """Pay the checkout with the customer's pay-later line: one purchase, once.

    The checkout is locked first, then the customer's line: of two confirmations
    at once the second waits, then finds it confirmed and, if it is the same customer's,
    returns it as it is (a replay). The line's checks (active, enough available, the merchant
    active, the order not paid before) raise their `LendingError`, and nothing is kept.

    On PostgreSQL the whole confirmation is two statements (the locks, then the purchase with
    the checkout marked paid) and the commit: it is the step a shopper waits on."""
    with transaction.atomic(durable=True):
        locked, line = _checkout_and_line_lock(checkout, customer)
        if locked.status == CheckoutStatus.CONFIRMED and locked.customer_id == customer.pk:
            return locked
        if not _expired(locked):
            _refuse_unless_pending(locked)
            if line is None:
                raise CheckoutRefused(
                    _("You have no pay-later line to pay with."), code="no_pay_later_line"
                )
            completed_at = timezone.now()
            on_postgresql = connection.vendor == "postgresql"
            locked.purchase = purchase_create_on_locked_line(
                line=line,
                merchant=locked.merchant,
                amount=locked.amount,
                order_reference=locked.order_reference,
                description=locked.description,
                also=paid_ctes(locked, customer, completed_at) if on_postgresql
                else None,
            )
            locked.status = CheckoutStatus.CONFIRMED
            locked.customer = customer
            locked.completed_at = completed_at
            if not on_postgresql:
                locked.save(update_fields=["purchase", "status", "customer", "completed_at"])
            return locked
    _expire_and_refuse(checkout)


def checkout_cancel(*, checkout, customer) -> Checkout:
    """The customer declines to pay: the checkout is cancelled for good (a second cancel
    returns it as it is)."""
    with transaction.atomic(durable=True):
        locked = _checkout_lock(checkout)
        if locked.status == CheckoutStatus.CANCELLED:
            return locked
        if not _expired(locked):
            _refuse_unless_pending(locked)
            locked.status = CheckoutStatus.CANCELLED
            locked.customer = customer
            locked.completed_at = timezone.now()
            locked.save(update_fields=["status", "customer", "completed_at"])
            return locked
    _expire_and_refuse(checkout)


def checkout_refund(*, checkout, amount, reference) -> Refund:
    """The merchant refunds (part of) a paid checkout's purchase: `purchase_refund`, in a
    transaction of its own. Idempotent per reference (the same amount returns the first
    refund, another amount is a conflict)."""
    if checkout.purchase_id is None:
        raise CheckoutRefused(
            _("This checkout has not been paid, so there is nothing to refund."),
            code="checkout_not_paid",
        )
    with transaction.atomic(durable=True):
        return purchase_refund(purchase=checkout.purchase, amount=amount, reference=reference)
