"""The pay-later line (花呗): purchases at merchants, monthly statements (账单), instalment plans
(分期), refunds and payments. The rules these rows follow are in `lending/rules/statements.py`
and `plans.py`; the services in `lending/services/revolving/` are the only writers.

A statement takes over the unpaid balance of the one before it when it is cut (the earlier one
becomes `rolled`), so a line has at most one open statement: what a customer owes is that
statement's balance plus the purchases not yet billed plus the unbilled principal of its plans.
The line's `outstanding_principal` is the principal of all three; interest, fees and penalty
are owed on the statement but never use the limit."""

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import F, Q

from accounts.models import Merchant
from core.money import money_field, rate_field

from .lines import CreditLine


class StatementStatus(models.TextChoices):
    OPEN = "open", "Open"
    PAID = "paid", "Paid in full"
    # Cut again before it was paid in full: its unpaid balance moved to the next statement.
    ROLLED = "rolled", "Carried to the next statement"
    # Written off (核销) with its line at the product's write-off days past due, for good: the
    # amounts stay as they were, and money received afterwards is a `LineRecovery`.
    WRITTEN_OFF = "written_off", "Written off"


class Statement(models.Model):
    """One month's bill of a pay-later line, cut on the line's statement day.

    Its amounts due, in the order a payment settles them: penalty, interest, fees, instalment
    parts, purchases (the purchases of the cycle and the principal revolved from the statement
    before). Amounts carried from the statement before are in the same fields; `carried_*` say
    how much of each was carried, so the minimum payment counts only what is new."""

    # No index of its own: `one_statement_per_seq` (line, seq) serves every lookup by line, and
    # each index more is paid for by the statement cut's million inserts on a statement day.
    line = models.ForeignKey(CreditLine, on_delete=models.PROTECT, related_name="statements",
                             db_index=False)
    seq = models.PositiveIntegerField()
    period_start = models.DateField()  # the day after the statement day before
    statement_date = models.DateField()
    due_date = models.DateField()
    # What the cut found: this cycle's purchases (net of what was refunded or paid before the
    # cut) and what the statement before left unpaid.
    new_purchases = money_field(default=0)
    revolved_principal = money_field(default=0)
    carried_charges = money_field(default=0)  # interest, fees and penalty left unpaid before
    earlier_minimum_unpaid = money_field(default=0)
    # The principal the cut billed (revolved + new purchases + plan parts): the revolving
    # interest's base on the statement day, lowered by its `credits` from then on.
    principal_billed = money_field(default=0)
    # Amounts due now (refunds and conversions lower `purchases_due`, the nightly penalty
    # raises `penalty_due`), and paid.
    penalty_due = money_field(default=0)
    interest_due = money_field(default=0)
    fees_due = money_field(default=0)
    parts_due = money_field(default=0)
    purchases_due = money_field(default=0)
    penalty_paid = money_field(default=0)
    interest_paid = money_field(default=0)
    fees_paid = money_field(default=0)
    parts_paid = money_field(default=0)
    purchases_paid = money_field(default=0)
    refunded = money_field(default=0)   # refunds credited to its purchases after the cut
    converted = money_field(default=0)  # moved into an instalment plan (账单分期 / 交易分期)
    minimum_due = money_field(default=0)
    status = models.CharField(max_length=12, choices=StatementStatus.choices,
                              default=StatementStatus.OPEN)
    # The day its balance reached zero: on or before the due date, it was interest-free.
    paid_on = models.DateField(null=True, blank=True)
    # Delinquency, as on a loan: days past due count from `overdue_since`, the due date of the
    # oldest minimum left unpaid (carried from statement to statement until it is paid).
    overdue_since = models.DateField(null=True, blank=True)
    days_past_due = models.PositiveIntegerField(default=0)
    penalty_charged_through = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["line_id", "seq"]
        indexes = [
            models.Index(fields=["due_date", "id"], name="statement_open_by_due",
                         condition=Q(status="open")),
            models.Index(fields=["id", "overdue_since"], name="statement_delinquent",
                         condition=Q(overdue_since__isnull=False, status="open")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["line", "seq"], name="one_statement_per_seq"),
            # Also the index that finds a line's open statement.
            models.UniqueConstraint(fields=["line"], condition=Q(status="open"),
                                    name="one_open_statement_per_line"),
            models.CheckConstraint(
                condition=Q(penalty_paid__gte=0, penalty_paid__lte=F("penalty_due"),
                            interest_paid__gte=0, interest_paid__lte=F("interest_due"),
                            fees_paid__gte=0, fees_paid__lte=F("fees_due"),
                            parts_paid__gte=0, parts_paid__lte=F("parts_due"),
                            purchases_paid__gte=0, purchases_paid__lte=F("purchases_due"),
                            minimum_due__gte=0, refunded__gte=0, converted__gte=0),
                name="statement_paid_within_due"),
            models.CheckConstraint(
                condition=(Q(days_past_due=0, overdue_since__isnull=True)
                           | Q(days_past_due__gt=0, overdue_since__isnull=False)),
                name="statement_past_due_since_a_date"),
        ]

    def __str__(self):
        return f"Statement {self.seq} of line {self.line_id} ({self.statement_date})"

    @property
    def total_due(self):
        return (self.penalty_due + self.interest_due + self.fees_due + self.parts_due
                + self.purchases_due)

    @property
    def total_paid(self):
        return (self.penalty_paid + self.interest_paid + self.fees_paid + self.parts_paid
                + self.purchases_paid)

    @property
    def balance(self):
        return self.total_due - self.total_paid

    @property
    def principal_unpaid(self):
        return self.parts_due - self.parts_paid + self.purchases_due - self.purchases_paid


class Purchase(models.Model):
    """A purchase paid with the line at a merchant's checkout. Until a statement bills it, it
    may be refunded or paid early (`paid_before_billing`); the cut bills what is left."""

    line = models.ForeignKey(CreditLine, on_delete=models.PROTECT, related_name="purchases")
    # No index of its own: `one_purchase_per_order` (merchant, order reference) serves it.
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="purchases",
                                 db_index=False)
    order_reference = models.CharField(max_length=64)
    description = models.CharField(max_length=200, blank=True)
    amount = money_field()
    merchant_fee = money_field(default=0)
    refunded = money_field(default=0)
    paid_before_billing = money_field(default=0)
    posted_on = models.DateField()
    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="purchases")
    plan = models.OneToOneField("InstalmentPlan", on_delete=models.PROTECT, null=True,
                                blank=True, related_name="source_purchase")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["line", "posted_on"], name="purchase_unbilled",
                         condition=Q(statement__isnull=True)),
        ]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "order_reference"],
                                    name="one_purchase_per_order"),
            models.CheckConstraint(
                condition=Q(amount__gt=0, merchant_fee__gte=0, refunded__gte=0,
                            paid_before_billing__gte=0,
                            amount__gte=F("refunded") + F("paid_before_billing")),
                name="purchase_refunds_within_amount"),
        ]

    def __str__(self):
        return f"Purchase {self.pk} of {self.amount} at {self.merchant_id}"

    @property
    def refundable(self):
        return self.amount - self.refunded


class PlanSource(models.TextChoices):
    STATEMENT = "statement", "Statement (账单分期)"
    PURCHASE = "purchase", "Purchase (交易分期)"


class PlanStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Every part billed"
    SETTLED = "settled", "Settled early"


class InstalmentPlan(models.Model):
    """A statement or a purchase converted into equal monthly parts with a fee (分期). Its parts
    are billed on the line's following statements."""

    line = models.ForeignKey(CreditLine, on_delete=models.PROTECT, related_name="plans")
    source = models.CharField(max_length=10, choices=PlanSource.choices)
    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="plans")
    principal = money_field()
    term_months = models.PositiveSmallIntegerField()
    fee_rate = rate_field()
    fee_total = money_field()
    apr = models.DecimalField(max_digits=6, decimal_places=2)
    created_on = models.DateField()
    status = models.CharField(max_length=10, choices=PlanStatus.choices,
                              default=PlanStatus.ACTIVE)
    settled_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["line"], name="plan_active_by_line",
                                condition=Q(status="active"))]
        constraints = [
            models.CheckConstraint(condition=Q(principal__gt=0, fee_total__gte=0),
                                   name="plan_amounts_positive"),
        ]

    def __str__(self):
        return f"Plan {self.pk}: {self.principal} in {self.term_months}"


class PlanPartStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Not yet billed"
    BILLED = "billed", "Billed"
    # Not billed and never to be: a refund shortened the plan or it was settled early (its
    # principal was paid then, its fee waived).
    CANCELLED = "cancelled", "Cancelled"


class PlanPart(models.Model):
    plan = models.ForeignKey(InstalmentPlan, on_delete=models.PROTECT, related_name="parts")
    seq = models.PositiveSmallIntegerField()
    principal = money_field()
    fee = money_field()
    status = models.CharField(max_length=10, choices=PlanPartStatus.choices,
                              default=PlanPartStatus.SCHEDULED)
    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="plan_parts")

    class Meta:
        ordering = ["plan_id", "seq"]
        indexes = [models.Index(fields=["plan", "seq"], name="plan_part_scheduled",
                                condition=Q(status="scheduled"))]
        constraints = [
            models.UniqueConstraint(fields=["plan", "seq"], name="one_plan_part_per_seq"),
            models.CheckConstraint(condition=Q(principal__gte=0, fee__gte=0),
                                   name="plan_part_amounts_not_negative"),
            models.CheckConstraint(
                condition=Q(status="billed", statement__isnull=False)
                | (~Q(status="billed") & Q(statement__isnull=True)),
                name="plan_part_billed_on_a_statement"),
        ]

    def __str__(self):
        return f"{self.plan} part {self.seq}"


class Refund(models.Model):
    """A merchant's refund of (part of) a purchase, and where it went: off the purchase before
    billing, off a statement's balance, off a plan's unbilled parts, or to the customer's
    credit balance."""

    purchase = models.ForeignKey(Purchase, on_delete=models.PROTECT, related_name="refunds")
    amount = money_field()
    unbilled = money_field(default=0)
    to_statement = money_field(default=0)
    to_plan = money_field(default=0)
    to_credit = money_field(default=0)
    # On a written-off line: what the refund paid of the debt written off (a recovery).
    to_recovery = money_field(default=0)
    fees_waived = money_field(default=0)
    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="refunds")
    business_date = models.DateField()
    reference = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["purchase", "reference"],
                                    name="one_refund_per_reference"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_positive"),
        ]
        triggers = [
            pgtrigger.ReadOnly(name="refund_append_only"),
            pgtrigger.Protect(name="refund_no_delete", operation=pgtrigger.Delete),
            pgtrigger.Protect(
                name="refund_split_exactly", operation=pgtrigger.Insert,
                condition=pgtrigger.Condition(
                    "NEW.amount <> NEW.unbilled + NEW.to_statement + NEW.to_plan "
                    "+ NEW.to_credit + NEW.to_recovery")),
        ]

    def __str__(self):
        return f"Refund {self.pk} of {self.amount} on purchase {self.purchase_id}"


class PayLaterPaymentKind(models.TextChoices):
    PAYMENT = "payment", "Payment"
    EARLY_SETTLEMENT = "early_settlement", "Plan settled early"
    CREDIT_APPLIED = "credit_applied", "Credit balance applied"


class PayLaterPayment(models.Model):
    """Money the customer paid on the line, and how it was spread: the open statement's
    penalty, interest, fees, parts and purchases, then purchases not yet billed (oldest
    first), or a plan's unbilled principal when it is settled early."""

    line = models.ForeignKey(CreditLine, on_delete=models.PROTECT, related_name="payments")
    kind = models.CharField(max_length=20, choices=PayLaterPaymentKind.choices,
                            default=PayLaterPaymentKind.PAYMENT)
    amount = money_field()
    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="payments")
    penalty = money_field(default=0)
    interest = money_field(default=0)
    fees = money_field(default=0)
    parts = money_field(default=0)
    purchases = money_field(default=0)
    unbilled = money_field(default=0)
    plan_principal = money_field(default=0)
    plan = models.ForeignKey(InstalmentPlan, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="settlements")
    business_date = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0),
                                              name="paylater_payment_positive")]
        triggers = [
            pgtrigger.ReadOnly(name="paylater_payment_append_only"),
            pgtrigger.Protect(name="paylater_payment_no_delete", operation=pgtrigger.Delete),
            pgtrigger.Protect(
                name="paylater_payment_split_exactly", operation=pgtrigger.Insert,
                condition=pgtrigger.Condition(
                    "NEW.amount <> NEW.penalty + NEW.interest + NEW.fees + NEW.parts "
                    "+ NEW.purchases + NEW.unbilled + NEW.plan_principal")),
        ]

    def __str__(self):
        return f"Payment {self.pk} of {self.amount} on line {self.line_id}"


class StatementCredit(models.Model):
    """Principal of a statement paid, refunded or converted on a day: the revolving interest's
    base falls by it from the next day (lending/rules/statements.py)."""

    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, related_name="credits")
    business_date = models.DateField()
    principal = money_field()

    class Meta:
        indexes = [models.Index(fields=["statement", "business_date"])]
        constraints = [models.CheckConstraint(condition=Q(principal__gt=0),
                                              name="statement_credit_positive")]

    def __str__(self):
        return f"{self.principal} off statement {self.statement_id} on {self.business_date}"


class CreditBalanceRefund(models.Model):
    """A customer's credit balance paid back to them on request."""

    line = models.ForeignKey(CreditLine, on_delete=models.PROTECT,
                             related_name="credit_refunds")
    amount = money_field()
    business_date = models.DateField()
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0),
                                              name="credit_balance_refund_positive")]

    def __str__(self):
        return f"{self.amount} paid back to line {self.line_id}"


class LineWriteOff(models.Model):
    """A pay-later line's write-off (核销, lending/services/revolving/write_off.py): the principal
    still owed on the line when its open statement reached the product's write-off days past
    due (the statement's unpaid principal, the purchases not yet billed and the plans' parts
    not yet billed), and the interest, plan fees and penalty receivable reversed. One per line;
    pay-later lines are the platform's own, so the loss is all the platform's. Money received
    afterwards is a `LineRecovery`."""

    line = models.OneToOneField(CreditLine, on_delete=models.PROTECT, related_name="write_off")
    statement = models.OneToOneField(Statement, on_delete=models.PROTECT,
                                     related_name="write_off")
    business_date = models.DateField()
    principal = money_field()
    interest_reversed = money_field(default=0)
    fees_reversed = money_field(default=0)
    penalty_reversed = money_field(default=0)
    days_past_due = models.PositiveIntegerField()
    reason = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        triggers = [pgtrigger.ReadOnly(name="line_write_off_append_only"),
                    pgtrigger.Protect(name="line_write_off_no_delete",
                                      operation=pgtrigger.Delete)]

    def __str__(self):
        return f"Write-off of line {self.line_id}"

    @property
    def total(self):
        """Everything the customer owed when the line was written off."""
        return self.principal + self.interest_reversed + self.fees_reversed + self.penalty_reversed


class LineRecovery(models.Model):
    """Money received on a written-off pay-later line (回收): the platform's recovery income."""

    line = models.ForeignKey(CreditLine, on_delete=models.PROTECT, related_name="recoveries")
    amount = money_field()
    received_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "line recoveries"
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0),
                                              name="line_recovery_positive")]
        triggers = [pgtrigger.ReadOnly(name="line_recovery_append_only"),
                    pgtrigger.Protect(name="line_recovery_no_delete",
                                      operation=pgtrigger.Delete)]

    def __str__(self):
        return f"Recovery {self.pk} of {self.amount} on line {self.line_id}"
