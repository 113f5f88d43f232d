"""Term extensions (展期): the record of each, holding the schedule it replaced.

An extension never deletes or rewrites history: the loan's unpaid instalments are settled out
as "superseded" (their amounts due lowered to what had been paid) and the new schedule is
appended with new seq numbers (lending/services/extension.py). This row keeps the replaced
rows exactly as they stood and the new schedule exactly as booked, with the terms, both APRs
and who extended why."""

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import F, Q

from core.money import money_field, rate_field

from .loans import Loan


class LoanExtension(models.Model):
    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="extensions")
    business_date = models.DateField()
    extra_months = models.PositiveSmallIntegerField()
    old_term_months = models.PositiveSmallIntegerField()
    new_term_months = models.PositiveSmallIntegerField()
    old_daily_rate = rate_field()
    new_daily_rate = rate_field()
    old_apr = models.DecimalField(max_digits=6, decimal_places=2)
    new_apr = models.DecimalField(max_digits=6, decimal_places=2)
    # The outstanding principal re-spread over the new schedule, and the booked interest and
    # penalty carried over to it (owed already, due on its first due date).
    principal = money_field()
    carried_interest = money_field(default=0)
    carried_penalty = money_field(default=0)
    # The superseded rows as they stood before (every amount, status and date), and the new
    # schedule as booked: the quote's own canonical form (`ExtensionQuote.as_dict`).
    old_schedule = models.JSONField()
    new_schedule = models.JSONField()
    # sha256 of the quote booked: the one the officer was shown.
    fingerprint = models.CharField(max_length=64)
    reason = models.TextField()
    officer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["loan_id", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(extra_months__gt=0),
                                   name="extension_adds_months"),
            models.CheckConstraint(condition=Q(principal__gt=0),
                                   name="extension_principal_positive"),
            # The rate stays or is lowered, never raised.
            models.CheckConstraint(condition=Q(new_daily_rate__gt=0,
                                               new_daily_rate__lte=F("old_daily_rate")),
                                   name="extension_rate_not_raised"),
        ]
        triggers = [pgtrigger.ReadOnly(name="loan_extension_append_only"),
                    pgtrigger.Protect(name="loan_extension_no_delete",
                                      operation=pgtrigger.Delete)]

    def __str__(self):
        return f"Extension of {self.loan} by {self.extra_months} months on {self.business_date}"
