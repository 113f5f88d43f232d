"""Credit lines (额度) and the record of every change of their limits."""

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import F, Q

from core.money import money_field, rate_field

from .products import CreditProduct


class CreditLineStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    FROZEN = "frozen", "Frozen"
    CLOSED = "closed", "Closed"


class FreezeSource(models.TextChoices):
    """Who froze a line: the overdue rule lifts its own freezes when nothing is overdue any
    more; an officer's freeze holds until an officer lifts it."""

    OVERDUE = "overdue", "Overdue (automatic)"
    OFFICER = "officer", "Officer"


class CreditLine(models.Model):
    """A customer's limit (额度) on one product. `available = max(0, limit - outstanding)`."""

    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="credit_lines")
    product = models.ForeignKey(CreditProduct, on_delete=models.PROTECT, related_name="lines")
    credit_limit = money_field()
    outstanding_principal = money_field(default=0)
    daily_rate = rate_field()
    status = models.CharField(max_length=10, choices=CreditLineStatus.choices,
                              default=CreditLineStatus.ACTIVE)
    opened_on = models.DateField()
    # Set while the line is frozen: who froze it and why.
    frozen_by = models.CharField(max_length=10, choices=FreezeSource.choices, blank=True)
    freeze_reason = models.CharField(max_length=200, blank=True)
    # An officer's limit cut caps the limit: no acceptance, re-application or automatic raise
    # may take it above this until an officer lifts the cap.
    officer_cap = money_field(null=True, blank=True)
    # Pay-later lines only: the day of the month the statement is cut (出账日, 1 to 28), and
    # money the platform owes the customer (a refund on a statement already paid), which pays
    # the next statement first or is paid back on request.
    statement_day = models.PositiveSmallIntegerField(null=True, blank=True)
    credit_balance = money_field(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        permissions = [("lower_limit_creditline", "Can lower a credit line's limit"),
                       ("raise_limit_creditline", "Can raise a credit line's limit"),
                       ("freeze_creditline", "Can freeze and unfreeze a credit line"),
                       ("lift_cap_creditline", "Can lift an officer's cap on a credit line")]
        indexes = [
            # The close's cure: lines the overdue rule froze, few among many.
            models.Index(fields=["customer"], name="line_frozen_by_overdue",
                         condition=Q(frozen_by="overdue")),
            # The statement cut's lines: those whose statement day it is, cut into chunks.
            models.Index(fields=["statement_day", "id"], name="line_by_statement_day",
                         condition=Q(statement_day__isnull=False)),
        ]
        constraints = [
            models.UniqueConstraint(fields=["customer", "product"], name="one_line_per_product"),
            models.CheckConstraint(condition=Q(credit_limit__gte=0),
                                   name="line_limit_not_negative"),
            models.CheckConstraint(condition=Q(outstanding_principal__gte=0),
                                   name="line_outstanding_not_negative"),
            models.CheckConstraint(condition=Q(daily_rate__gt=0), name="line_rate_positive"),
            models.CheckConstraint(condition=Q(statement_day__isnull=True)
                                   | Q(statement_day__gte=1, statement_day__lte=28),
                                   name="line_statement_day_in_range"),
            models.CheckConstraint(condition=Q(credit_balance__gte=0),
                                   name="line_credit_balance_not_negative"),
            models.CheckConstraint(
                condition=Q(status=CreditLineStatus.FROZEN) | Q(frozen_by=""),
                name="line_frozen_by_only_when_frozen"),
            models.CheckConstraint(condition=Q(officer_cap__isnull=True)
                                   | Q(officer_cap__gte=0, credit_limit__lte=F("officer_cap")),
                                   name="line_limit_within_officer_cap"),
        ]
        triggers = [
            # A draw may never take outstanding above the limit. (A limit may be lowered below
            # what is outstanding: that only makes `available` zero.)
            pgtrigger.Protect(
                name="no_overdrawn_line",
                operation=pgtrigger.Update,
                condition=(
                    pgtrigger.Q(new__outstanding_principal__gt=pgtrigger.F(
                        "old__outstanding_principal"))
                    & pgtrigger.Q(new__outstanding_principal__gt=pgtrigger.F("new__credit_limit"))
                ),
            ),
        ]

    def __str__(self):
        return f"{self.customer} / {self.product.code}"

    @property
    def available(self):
        return max(self.credit_limit - self.outstanding_principal, 0)


class LimitChange(models.Model):
    """Every change of a line's limit: who, why, from what to what, when."""

    line = models.ForeignKey(CreditLine, on_delete=models.PROTECT, related_name="limit_changes")
    old_limit = money_field()
    new_limit = money_field()
    reason = models.TextField()
    officer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                blank=True, related_name="+")
    business_date = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        triggers = [pgtrigger.ReadOnly(name="limit_change_append_only"),
                    pgtrigger.Protect(name="limit_change_no_delete", operation=pgtrigger.Delete)]

    def __str__(self):
        return f"{self.line}: {self.old_limit} -> {self.new_limit}"


class RateChange(models.Model):
    """Every change of a line's daily rate for new draws (loans already drawn keep theirs): from
    what to what, why, when. The rate set when a line opens is on its audit trail instead."""

    line = models.ForeignKey(CreditLine, on_delete=models.PROTECT, related_name="rate_changes")
    old_rate = rate_field()
    new_rate = rate_field()
    reason = models.TextField()
    business_date = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        triggers = [pgtrigger.ReadOnly(name="rate_change_append_only"),
                    pgtrigger.Protect(name="rate_change_no_delete", operation=pgtrigger.Delete)]
        constraints = [models.CheckConstraint(condition=Q(new_rate__gt=0),
                                              name="rate_change_positive")]

    def __str__(self):
        return f"{self.line}: {self.old_rate} -> {self.new_rate}"
