"""A merchant's checkout (收银台): what a merchant asks the customer to pay with the pay-later
line, waiting for the customer on the platform's checkout page. Made through the merchant API
(`lending.services.checkout`); confirming it makes the purchase (`Purchase`)."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.models import Merchant
from core.money import money_field

from .revolving import Purchase


def checkout_token_new() -> str:
    """The checkout's public name in its URL: 192 random bits, so it cannot be guessed."""
    return secrets.token_urlsafe(24)


class CheckoutStatus(models.TextChoices):
    PENDING = "pending", "Waiting for the customer"
    CONFIRMED = "confirmed", "Paid"
    CANCELLED = "cancelled", "Cancelled by the customer"
    EXPIRED = "expired", "Expired"


class Checkout(models.Model):
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="checkouts")
    token = models.CharField(max_length=64, unique=True, default=checkout_token_new, editable=False)
    amount = money_field()
    order_reference = models.CharField(max_length=64)
    description = models.CharField(max_length=200, blank=True)
    return_url = models.URLField(max_length=500)
    status = models.CharField(
        max_length=10, choices=CheckoutStatus.choices, default=CheckoutStatus.PENDING
    )
    # Wall-clock time, like a token's expiry: a checkout lasts minutes, not business days.
    expires_at = models.DateTimeField()
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="checkouts",
    )
    purchase = models.OneToOneField(
        Purchase, on_delete=models.PROTECT, null=True, blank=True, related_name="checkout"
    )
    # The merchant's Idempotency-Key and a fingerprint of the request it came with: a replay
    # returns this checkout, the same key with another request is a conflict.
    idempotency_key = models.CharField(max_length=128)
    request_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "idempotency_key"], name="one_checkout_per_merchant_key"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="checkout_amount_positive"),
            # Confirmed exactly when it has its purchase and the customer who paid.
            models.CheckConstraint(
                condition=(
                    Q(status="confirmed", purchase__isnull=False, customer__isnull=False)
                    | (~Q(status="confirmed") & Q(purchase__isnull=True))
                ),
                name="checkout_confirmed_with_purchase",
            ),
        ]

    def __str__(self):
        return f"Checkout {self.order_reference} at {self.merchant_id} ({self.status})"
