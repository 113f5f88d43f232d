"""The catalogue: credit products and their terms."""

from django.db import models
from django.db.models import F, Q

from core.money import money_field, rate_field


class ProductKind(models.TextChoices):
    CASH_LOAN = "cash_loan", "Cash loan (借呗)"
    PAY_LATER = "pay_later", "Pay-later line (花呗)"


class RepaymentMethod(models.TextChoices):
    EQUAL_INSTALMENT = "equal_instalment", "Equal instalments"
    EQUAL_PRINCIPAL = "equal_principal", "Equal principal"
    INTEREST_FIRST = "interest_first", "Interest first, principal at the end"


class CreditProduct(models.Model):
    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=ProductKind.choices)
    min_daily_rate = rate_field()
    max_daily_rate = rate_field()
    penalty_daily_rate = rate_field()
    allowed_terms = models.JSONField(default=list, help_text="Terms in months, e.g. [3, 6, 12].")
    repayment_methods = models.JSONField(default=list)
    grace_days = models.PositiveSmallIntegerField(default=0)
    min_amount = money_field()
    max_amount = money_field()
    apr_cap = models.DecimalField(max_digits=6, decimal_places=2, default=24,
                                  help_text="Largest APR in percent (IRR method).")
    max_partner_share = rate_field(default="0.70")
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(min_daily_rate__gt=0,
                                               max_daily_rate__gte=F("min_daily_rate")),
                                   name="product_rate_band"),
            models.CheckConstraint(condition=Q(min_amount__gt=0, max_amount__gte=F("min_amount")),
                                   name="product_amount_bounds"),
            models.CheckConstraint(condition=Q(max_partner_share__gte=0,
                                               max_partner_share__lte="0.70"),
                                   name="product_partner_share_at_most_70pc"),
        ]

    def __str__(self):
        return self.name
