"""Cash loans, their co-funding, their schedules and the repayments taken on them."""

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import F, Q

from accounts.models import PartnerBank
from core.money import money_field, rate_field

from .lines import CreditLine
from .products import RepaymentMethod


class LoanStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PAID_OFF = "paid_off", "Paid off"
    # Written off (核销) at the product's write-off days past due, or by an officer.
    WRITTEN_OFF = "written_off", "Written off"


class Loan(models.Model):
    line = models.ForeignKey(CreditLine, on_delete=models.PROTECT, related_name="loans")
    principal = money_field()
    term_months = models.PositiveSmallIntegerField()
    method = models.CharField(max_length=20, choices=RepaymentMethod.choices)
    daily_rate = rate_field()
    apr = models.DecimalField(max_digits=6, decimal_places=2)
    disbursed_on = models.DateField()
    outstanding_principal = money_field()
    status = models.CharField(max_length=12, choices=LoanStatus.choices, default=LoanStatus.ACTIVE)
    days_past_due = models.PositiveIntegerField(default=0)
    # The due date days past due count from (None when current). It changes only when the loan
    # turns delinquent, is cured or pays its oldest overdue instalment, so the index of
    # delinquent loans is keyed on it, not on days past due: the close's nightly "+1 day" then
    # touches no indexed column and PostgreSQL updates the row in place (a HOT update).
    overdue_since = models.DateField(null=True, blank=True)
    paid_off_on = models.DateField(null=True, blank=True)
    written_off_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        permissions = [("extend_term_loan", "Can extend a loan's term"),
                       ("waive_penalty_loan", "Can waive penalty interest"),
                       ("write_off_loan", "Can write off a loan by hand")]
        indexes = [
            models.Index(fields=["status", "disbursed_on"]),
            # The close's delinquent loans: a small slice of a large book, found and cut into
            # chunks of ids without a scan.
            models.Index(fields=["id", "overdue_since"], name="loan_delinquent",
                         condition=Q(overdue_since__isnull=False, status="active")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(principal__gt=0), name="loan_principal_positive"),
            models.CheckConstraint(
                condition=Q(outstanding_principal__gte=0,
                            outstanding_principal__lte=F("principal")),
                name="loan_outstanding_in_range",
            ),
            models.CheckConstraint(
                condition=(Q(days_past_due=0, overdue_since__isnull=True)
                           | Q(days_past_due__gt=0, overdue_since__isnull=False)),
                name="loan_past_due_since_a_date",
            ),
        ]

    def __str__(self):
        return f"Loan {self.pk}"


class LoanFunding(models.Model):
    """One funder's share of a loan: a partner bank, or the platform itself (no bank)."""

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="fundings")
    partner_bank = models.ForeignKey(PartnerBank, on_delete=models.PROTECT, null=True,
                                     blank=True, related_name="fundings")
    share = rate_field()
    principal = money_field()
    outstanding_principal = money_field()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["loan", "partner_bank"], name="one_share_per_funder",
                                    nulls_distinct=False),
            models.CheckConstraint(condition=Q(share__gte=0, share__lte=1),
                                   name="funding_share_in_range"),
            models.CheckConstraint(
                condition=Q(outstanding_principal__gte=0,
                            outstanding_principal__lte=F("principal")),
                name="funding_outstanding_in_range",
            ),
        ]

    def __str__(self):
        return f"{self.loan}: {self.partner_bank or 'platform'} {self.principal}"


class InstalmentStatus(models.TextChoices):
    PENDING = "pending", "Not yet due"
    OVERDUE = "overdue", "Overdue"
    PAID = "paid", "Paid"
    # Replaced by a term extension's new schedule: its amounts due were lowered to what had
    # been paid (what was owed moved to the new schedule), the figures as they stood are kept
    # on the extension (lending/models/extensions.py).
    SUPERSEDED = "superseded", "Replaced by a new schedule"


class Instalment(models.Model):
    # Indexed by `instalment_history_by_loan` (and `one_instalment_per_seq`), not on its own.
    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="instalments",
                             db_index=False)
    seq = models.PositiveSmallIntegerField()
    due_date = models.DateField()
    period_start = models.DateField()
    principal_due = money_field()
    interest_due = money_field()
    fee_due = money_field(default=0)
    penalty_due = money_field(default=0)
    # The last business date whose penalty the nightly close added to `penalty_due`: the step
    # skips a loan charged for the night already (lending/services/penalty.py).
    penalty_charged_through = models.DateField(null=True, blank=True)
    principal_paid = money_field(default=0)
    interest_paid = money_field(default=0)
    fee_paid = money_field(default=0)
    penalty_paid = money_field(default=0)
    # After an early repayment, interest up to this day has been charged already.
    interest_settled_to = models.DateField(null=True, blank=True)
    # Set by the nightly close when the instalment falls due and its interest is booked as
    # receivable; interest paid before that is booked straight to income.
    interest_accrued = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=InstalmentStatus.choices,
                              default=InstalmentStatus.PENDING)
    paid_on = models.DateField(null=True, blank=True)
    # Interest and penalty an extension carried over from the schedule it replaced: owed
    # already (a payment settles it before anything of the new schedule) and falling due on
    # this row's due date, the new schedule's first. Its interest is booked as receivable
    # already, so `interest_accrued` is set and the close books nothing for it.
    carried = models.BooleanField(default=False)
    # The extension whose new schedule holds this row (None: the loan's original schedule),
    # and the one that replaced it (set with status "superseded").
    extension = models.ForeignKey("LoanExtension", on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="instalments")
    superseded_by = models.ForeignKey("LoanExtension", on_delete=models.PROTECT, null=True,
                                      blank=True, related_name="superseded_instalments")

    class Meta:
        ordering = ["loan_id", "seq"]
        indexes = [
            models.Index(fields=["status", "due_date"]),
            # The close's daily reads, each a small slice of a large table: what falls due
            # (not yet accrued, not yet overdue) and what is overdue, by partial indexes the
            # planner cannot misjudge.
            models.Index(fields=["due_date"], name="instalment_interest_unaccrued",
                         condition=Q(interest_accrued=False)),
            models.Index(fields=["due_date"], name="instalment_pending_by_due",
                         condition=Q(status="pending")),
            models.Index(fields=["loan", "due_date"], name="instalment_overdue_by_loan",
                         condition=Q(status="overdue")),
            # The nightly rescoring reads every customer's repayment history (risk.features.
            # behaviour): with the columns it reads in the index, a chunk's 60,000 instalments
            # come from the index alone, without a visit to the table per loan.
            models.Index(fields=["loan", "due_date", "status", "paid_on", "superseded_by"],
                         name="instalment_history_by_loan"),
            # The rescoring's plan finds the instalments paid late whose date leaves a
            # look-back window tonight (risk.services.rescoring_selection).
            models.Index(fields=["paid_on"], name="instalment_paid_late",
                         condition=Q(paid_on__gt=F("due_date"))),
        ]
        constraints = [
            models.UniqueConstraint(fields=["loan", "seq"], name="one_instalment_per_seq"),
            models.CheckConstraint(
                condition=Q(principal_paid__gte=0, principal_paid__lte=F("principal_due"),
                            interest_paid__gte=0, interest_paid__lte=F("interest_due"),
                            fee_paid__gte=0, fee_paid__lte=F("fee_due"),
                            penalty_paid__gte=0, penalty_paid__lte=F("penalty_due")),
                name="instalment_paid_within_due",
            ),
            models.CheckConstraint(
                condition=(Q(status="superseded", superseded_by__isnull=False)
                           | (~Q(status="superseded") & Q(superseded_by__isnull=True))),
                name="instalment_superseded_by_an_extension",
            ),
        ]

    def __str__(self):
        return f"{self.loan} #{self.seq}"

    @property
    def total_due(self):
        return self.principal_due + self.interest_due + self.fee_due + self.penalty_due

    @property
    def total_paid(self):
        return self.principal_paid + self.interest_paid + self.fee_paid + self.penalty_paid

    @property
    def remaining(self):
        return self.total_due - self.total_paid


class Repayment(models.Model):
    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="repayments")
    amount = money_field()
    principal = money_field()
    interest = money_field()
    fee = money_field()
    penalty = money_field()
    paid_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="repayment_positive"),
        ]
        triggers = [
            pgtrigger.ReadOnly(name="repayment_append_only"),
            pgtrigger.Protect(name="repayment_no_delete", operation=pgtrigger.Delete),
            # A trigger rather than a CHECK: SQLite (the demo database) sums decimals as floats.
            pgtrigger.Protect(
                name="repayment_allocated_exactly",
                operation=pgtrigger.Insert,
                condition=pgtrigger.Condition(
                    "NEW.amount <> NEW.principal + NEW.interest + NEW.fee + NEW.penalty"),
            ),
        ]

    def __str__(self):
        return f"Repayment {self.pk} of {self.amount} on {self.loan}"


class WriteOff(models.Model):
    """A loan's write-off (核销): the principal still owed when it was written off, and the
    receivable interest and penalty reversed. One per loan; its funders' losses are in
    `WriteOffShare`, and money received afterwards is a `Recovery`."""

    loan = models.OneToOneField(Loan, on_delete=models.PROTECT, related_name="write_off")
    business_date = models.DateField()
    principal = money_field()
    interest_reversed = money_field(default=0)
    penalty_reversed = money_field(default=0)
    days_past_due = models.PositiveIntegerField()
    reason = models.TextField()
    officer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        triggers = [pgtrigger.ReadOnly(name="write_off_append_only"),
                    pgtrigger.Protect(name="write_off_no_delete", operation=pgtrigger.Delete)]

    def __str__(self):
        return f"Write-off of {self.loan}"


class WriteOffShare(models.Model):
    """One funder's part of a write-off: the loss it bears, and so its share of recoveries."""

    write_off = models.ForeignKey(WriteOff, on_delete=models.PROTECT, related_name="shares")
    partner_bank = models.ForeignKey(PartnerBank, on_delete=models.PROTECT, null=True,
                                     blank=True, related_name="+")
    principal = money_field()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["write_off", "partner_bank"],
                                    name="one_write_off_share_per_funder", nulls_distinct=False),
        ]
        triggers = [pgtrigger.ReadOnly(name="write_off_share_append_only"),
                    pgtrigger.Protect(name="write_off_share_no_delete",
                                      operation=pgtrigger.Delete)]

    def __str__(self):
        return f"{self.write_off}: {self.partner_bank or 'platform'} {self.principal}"


class Recovery(models.Model):
    """Money received on a written-off loan (回收), shared among its funders in proportion to
    the losses they bore."""

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="recoveries")
    amount = money_field()
    received_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "recoveries"
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="recovery_positive"),
        ]
        triggers = [pgtrigger.ReadOnly(name="recovery_append_only"),
                    pgtrigger.Protect(name="recovery_no_delete", operation=pgtrigger.Delete)]

    def __str__(self):
        return f"Recovery {self.pk} of {self.amount} on {self.loan}"


class PenaltyWaiver(models.Model):
    """Penalty interest an officer waived (减免罚息): lowered on the loan's overdue instalments,
    oldest first (`by_instalment`: seq -> amount), and reversed from penalty receivable."""

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="penalty_waivers")
    business_date = models.DateField()
    amount = money_field()
    by_instalment = models.JSONField(default=dict)
    reason = models.TextField()
    officer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0),
                                              name="penalty_waiver_positive")]
        triggers = [pgtrigger.ReadOnly(name="penalty_waiver_append_only"),
                    pgtrigger.Protect(name="penalty_waiver_no_delete",
                                      operation=pgtrigger.Delete)]

    def __str__(self):
        return f"Penalty waiver of {self.amount} on {self.loan}"
