"""Collections' own records: the daily picture of the book by delinquency bucket, and the
cases collectors work, with their contacts and promises to pay, and customers' hardship
requests."""

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.money import money_field
from lending.models import CreditProduct, Loan, LoanExtension


class Bucket(models.TextChoices):
    """Delinquency buckets by days past due (lending.rules.delinquency.bucket_of)."""

    CURRENT = "current", "Current"
    M1 = "M1", "M1 (1-30 days)"
    M2 = "M2", "M2 (31-60 days)"
    M3 = "M3", "M3 (61-90 days)"
    M4 = "M4", "M4 (91-180 days)"
    WRITTEN_OFF = "written_off", "Written off"


class BucketSnapshot(models.Model):
    """How many active loans of a product were in a bucket at the close of a business date, and
    their outstanding principal: the raw material of roll rates and the dashboards."""

    business_date = models.DateField()
    product = models.ForeignKey(CreditProduct, on_delete=models.PROTECT, related_name="+")
    bucket = models.CharField(max_length=12, choices=Bucket.choices)
    loans = models.PositiveIntegerField()
    outstanding_principal = money_field()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["business_date", "product", "bucket"],
                                    name="one_snapshot_per_date_product_bucket"),
        ]

    def __str__(self):
        return f"{self.business_date} {self.product.code} {self.bucket}"


class CaseStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class CollectionCase(models.Model):
    """A customer with overdue loans, worked by a collector (催收案件). The nightly close opens
    it when the customer turns delinquent, keeps its bucket, days past due and amount overdue
    current, and closes it when nothing is overdue any more: one open case per customer."""

    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="collection_cases")
    status = models.CharField(max_length=8, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    bucket = models.CharField(max_length=12, choices=Bucket.choices)
    # The worst of the customer's loans, and the sum of what is overdue on all of them.
    days_past_due = models.PositiveIntegerField(default=0)
    amount_overdue = money_field(default=0)
    opened_on = models.DateField()
    closed_on = models.DateField(null=True, blank=True)
    # The business date of the close that last wrote the figures above.
    updated_on = models.DateField()
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    null=True, blank=True,
                                    related_name="assigned_collection_cases")
    assigned_on = models.DateField(null=True, blank=True)
    # Set by the close when a promise to pay is broken; cleared when a new promise is taken.
    promise_broken_on = models.DateField(null=True, blank=True)

    class Meta:
        permissions = [
            ("work_collectioncase", "Can log contacts and take promises on assigned cases"),
            ("assign_collectioncase", "Can reassign collection cases"),
        ]
        indexes = [
            # A collector's queue: their open cases.
            models.Index(fields=["assigned_to", "bucket"], name="case_open_by_collector",
                         condition=Q(status="open")),
        ]
        constraints = [
            # Also the index the close reads open cases by customer through.
            models.UniqueConstraint(fields=["customer"], name="one_open_case_per_customer",
                                    condition=Q(status="open")),
            models.CheckConstraint(
                condition=(Q(status="open", closed_on__isnull=True)
                           | Q(status="closed", closed_on__isnull=False)),
                name="case_closed_on_a_date",
            ),
            models.CheckConstraint(condition=Q(amount_overdue__gte=0),
                                   name="case_overdue_not_negative"),
        ]

    def __str__(self):
        return f"Case {self.pk} ({self.customer})"


class ContactChannel(models.TextChoices):
    PHONE = "phone", "Phone call"
    SMS = "sms", "SMS"
    EMAIL = "email", "Email"
    VISIT = "visit", "Visit"
    LETTER = "letter", "Letter"


class ContactOutcome(models.TextChoices):
    PROMISED = "promised", "Promised to pay"
    NO_ANSWER = "no_answer", "No answer"
    REFUSED = "refused", "Refused to pay"
    WRONG_NUMBER = "wrong_number", "Wrong number"
    PAID = "paid", "Says they have paid"
    OTHER = "other", "Other"


class CollectionContact(models.Model):
    """One attempt to reach the customer of a case, as the collector logged it. Append-only."""

    case = models.ForeignKey(CollectionCase, on_delete=models.PROTECT, related_name="contacts")
    collector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="+")
    channel = models.CharField(max_length=8, choices=ContactChannel.choices)
    outcome = models.CharField(max_length=16, choices=ContactOutcome.choices)
    note = models.TextField(blank=True)
    business_date = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        triggers = [pgtrigger.ReadOnly(name="collection_contact_append_only"),
                    pgtrigger.Protect(name="collection_contact_no_delete",
                                      operation=pgtrigger.Delete)]

    def __str__(self):
        return f"{self.get_channel_display()} on {self.business_date}: {self.get_outcome_display()}"


class PromiseStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    KEPT = "kept", "Kept"
    BROKEN = "broken", "Broken"


class PromiseToPay(models.Model):
    """A customer's promise to pay an amount by a date (承诺还款). The close resolves it the
    night its date ends: kept if the customer's repayments and recoveries on their loans from
    the day it was made to its date reach the amount, else broken."""

    case = models.ForeignKey(CollectionCase, on_delete=models.PROTECT, related_name="promises")
    amount = money_field()
    promised_for = models.DateField()
    made_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                related_name="+")
    made_on = models.DateField()
    status = models.CharField(max_length=8, choices=PromiseStatus.choices,
                              default=PromiseStatus.PENDING)
    resolved_on = models.DateField(null=True, blank=True)
    # What the customer paid in the promise's window, recorded when it is resolved.
    amount_paid = money_field(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "promise to pay"
        verbose_name_plural = "promises to pay"
        indexes = [
            # The close's promises falling due: the pending ones by date.
            models.Index(fields=["promised_for", "id"], name="promise_pending_by_date",
                         condition=Q(status="pending")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="promise_amount_positive"),
            models.CheckConstraint(condition=Q(promised_for__gte=F("made_on")),
                                   name="promise_not_in_the_past"),
            models.CheckConstraint(
                condition=(Q(status="pending", resolved_on__isnull=True,
                             amount_paid__isnull=True)
                           | (~Q(status="pending") & Q(resolved_on__isnull=False,
                                                       amount_paid__isnull=False))),
                name="promise_resolved_on_a_date",
            ),
        ]

    def __str__(self):
        return f"Promise of {self.amount} by {self.promised_for}"


class HardshipKind(models.TextChoices):
    EXTENSION = "extension", "Extension (展期)"
    PAUSE = "pause", "Pause (暂缓)"


class HardshipReason(models.TextChoices):
    INCOME_FELL = "income_fell", _("My income fell")
    ILLNESS = "illness", _("Illness or injury")
    UNEMPLOYMENT = "unemployment", _("I lost my job")
    FAMILY = "family", _("Family circumstances")
    OTHER = "other", _("Something else")


class HardshipStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Waiting for an answer")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Not approved")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# The most a customer may ask for, and the longest account of their situation kept.
HARDSHIP_MONTHS_MAX = 12
HARDSHIP_SITUATION_MAX = 2000


class HardshipRequest(models.Model):
    """A customer's request for more time on a loan (困难申请): an extension of its term or a
    pause. An officer answers it: approving books a term extension with the officer's terms
    (`lending.services.extension.loan_term_extend`, recorded in `extension`), rejecting tells
    the customer why. One request per loan waits for an answer at a time."""

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="hardship_requests")
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="hardship_requests")
    kind = models.CharField(max_length=10, choices=HardshipKind.choices)
    months_asked = models.PositiveSmallIntegerField()
    reason = models.CharField(max_length=16, choices=HardshipReason.choices)
    situation = models.TextField(max_length=HARDSHIP_SITUATION_MAX)
    status = models.CharField(max_length=10, choices=HardshipStatus.choices,
                              default=HardshipStatus.SUBMITTED)
    submitted_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    # The extension an approval booked.
    extension = models.ForeignKey(LoanExtension, on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="hardship_requests")

    class Meta:
        permissions = [("decide_hardshiprequest", "Can approve or reject a hardship request")]
        indexes = [
            # The officers' queue: the requests waiting for an answer, oldest first.
            models.Index(fields=["created_at"], name="hardship_waiting",
                         condition=Q(status="submitted")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["loan"], name="one_open_hardship_request_per_loan",
                                    condition=Q(status="submitted")),
            models.CheckConstraint(
                condition=Q(months_asked__gte=1, months_asked__lte=HARDSHIP_MONTHS_MAX),
                name="hardship_months_in_range"),
            models.CheckConstraint(
                condition=(Q(status__in=["submitted", "withdrawn"], decided_by__isnull=True)
                           | Q(status="approved", decided_by__isnull=False,
                               extension__isnull=False)
                           | Q(status="rejected", decided_by__isnull=False)),
                name="hardship_decided_by_an_officer"),
        ]

    def __str__(self):
        return f"Hardship request {self.pk} on loan {self.loan_id}"
