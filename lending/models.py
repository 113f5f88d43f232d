"""Products, credit lines, loans and their schedules, repayments, co-funding, the business date,
idempotency records and the double-entry ledger.

Money is Decimal(18, 2) and rates Decimal(10, 8) everywhere (see `lending.money`)."""

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import F, Q

from accounts.models import PartnerBank


def money_field(**kwargs):
    return models.DecimalField(max_digits=18, decimal_places=2, **kwargs)


def rate_field(**kwargs):
    return models.DecimalField(max_digits=10, decimal_places=8, **kwargs)


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


class CreditLineStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    FROZEN = "frozen", "Frozen"
    CLOSED = "closed", "Closed"


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
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        permissions = [("lower_limit_creditline", "Can lower a credit line's limit")]
        constraints = [
            models.UniqueConstraint(fields=["customer", "product"], name="one_line_per_product"),
            models.CheckConstraint(condition=Q(credit_limit__gte=0),
                                   name="line_limit_not_negative"),
            models.CheckConstraint(condition=Q(outstanding_principal__gte=0),
                                   name="line_outstanding_not_negative"),
            models.CheckConstraint(condition=Q(daily_rate__gt=0), name="line_rate_positive"),
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


class LoanStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PAID_OFF = "paid_off", "Paid off"


class Loan(models.Model):
    line = models.ForeignKey(CreditLine, on_delete=models.PROTECT, related_name="loans")
    principal = money_field()
    term_months = models.PositiveSmallIntegerField()
    method = models.CharField(max_length=20, choices=RepaymentMethod.choices)
    daily_rate = rate_field()
    apr = models.DecimalField(max_digits=6, decimal_places=2)
    disbursed_on = models.DateField()
    outstanding_principal = money_field()
    status = models.CharField(max_length=10, choices=LoanStatus.choices, default=LoanStatus.ACTIVE)
    days_past_due = models.PositiveIntegerField(default=0)
    paid_off_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["status", "disbursed_on"])]
        constraints = [
            models.CheckConstraint(condition=Q(principal__gt=0), name="loan_principal_positive"),
            models.CheckConstraint(
                condition=Q(outstanding_principal__gte=0,
                            outstanding_principal__lte=F("principal")),
                name="loan_outstanding_in_range",
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


class Instalment(models.Model):
    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="instalments")
    seq = models.PositiveSmallIntegerField()
    due_date = models.DateField()
    period_start = models.DateField()
    principal_due = money_field()
    interest_due = money_field()
    fee_due = money_field(default=0)
    penalty_due = money_field(default=0)
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

    class Meta:
        ordering = ["loan_id", "seq"]
        indexes = [models.Index(fields=["status", "due_date"])]
        constraints = [
            models.UniqueConstraint(fields=["loan", "seq"], name="one_instalment_per_seq"),
            models.CheckConstraint(
                condition=Q(principal_paid__gte=0, principal_paid__lte=F("principal_due"),
                            interest_paid__gte=0, interest_paid__lte=F("interest_due"),
                            fee_paid__gte=0, fee_paid__lte=F("fee_due"),
                            penalty_paid__gte=0, penalty_paid__lte=F("penalty_due")),
                name="instalment_paid_within_due",
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


class BusinessDate(models.Model):
    """The lender's current day (营业日): one row; only the nightly close moves it."""

    singleton = models.BooleanField(primary_key=True, default=True)
    current = models.DateField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(singleton=True), name="one_business_date"),
        ]

    def __str__(self):
        return self.current.isoformat()


class CloseStep(models.Model):
    """One step of the nightly close for one business date; the unique key makes reruns no-ops."""

    business_date = models.DateField()
    step = models.CharField(max_length=40)
    rows = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)
    finished_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["business_date", "step"],
                                               name="one_run_per_step_and_date")]

    def __str__(self):
        return f"{self.business_date} {self.step}"


class IdempotencyRecord(models.Model):
    """The first result of a money-moving request, replayed for the same caller and key."""

    scope = models.CharField(max_length=80, help_text="Who called: a user or partner client.")
    key = models.CharField(max_length=128)
    request_hash = models.CharField(max_length=64)
    result = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="one_result_per_key")]

    def __str__(self):
        return f"{self.scope}:{self.key}"


class AccountKind(models.TextChoices):
    ASSET = "asset", "Asset"
    LIABILITY = "liability", "Liability"
    INCOME = "income", "Income"


class LedgerAccount(models.Model):
    """An account of the chart; per-funder accounts carry their partner bank."""

    code = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=AccountKind.choices)
    partner_bank = models.ForeignKey(PartnerBank, on_delete=models.PROTECT, null=True, blank=True)

    def __str__(self):
        return self.code


class JournalEntry(models.Model):
    """A balanced set of postings. Rows are never updated or deleted; mistakes are reversed."""

    kind = models.CharField(max_length=30)
    business_date = models.DateField()
    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="journal_entries")
    memo = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "journal entries"
        triggers = [pgtrigger.ReadOnly(name="journal_entry_append_only"),
                    pgtrigger.Protect(name="journal_entry_no_delete", operation=pgtrigger.Delete)]

    def __str__(self):
        return f"Entry {self.pk} {self.kind} {self.business_date}"


class Posting(models.Model):
    """One leg of an entry: positive amounts are debits, negative amounts credits."""

    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="postings")
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="postings")
    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="postings")
    amount = money_field()

    class Meta:
        indexes = [models.Index(fields=["loan", "account"])]
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="posting_not_zero")]
        triggers = [
            pgtrigger.ReadOnly(name="posting_append_only"),
            pgtrigger.Protect(name="posting_no_delete", operation=pgtrigger.Delete),
            # Checked at commit, once every leg of the entry is in: the legs must sum to zero.
            pgtrigger.Trigger(
                name="entry_balances",
                operation=pgtrigger.Insert,
                when=pgtrigger.After,
                level=pgtrigger.Row,
                timing=pgtrigger.Deferred,
                func="""
                    IF (SELECT COALESCE(SUM(amount), 0) FROM lending_posting
                        WHERE entry_id = NEW.entry_id) <> 0 THEN
                        RAISE EXCEPTION 'journal entry % does not balance', NEW.entry_id
                            USING ERRCODE = 'check_violation';
                    END IF;
                    RETURN NULL;
                """,
            ),
        ]

    def __str__(self):
        return f"{self.account} {self.amount}"
