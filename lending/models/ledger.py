"""The double-entry ledger: the chart of accounts, journal entries and their postings."""

import pgtrigger
from django.db import models
from django.db.models import Q

from accounts.models import PartnerBank
from core.money import money_field

from .lines import CreditLine
from .loans import Loan


class AccountKind(models.TextChoices):
    ASSET = "asset", "Asset"
    LIABILITY = "liability", "Liability"
    INCOME = "income", "Income"
    EXPENSE = "expense", "Expense"


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
    # A pay-later line's entries carry the line instead (they are per line, not per loan).
    line = models.ForeignKey(CreditLine, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="journal_entries", db_index=False)
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
    line = models.ForeignKey(CreditLine, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="postings", db_index=False)
    amount = money_field()

    class Meta:
        indexes = [models.Index(fields=["loan", "account"]),
                   models.Index(fields=["line", "account"], name="posting_by_line",
                                condition=Q(line__isnull=False))]
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="posting_not_zero")]
        triggers = [
            pgtrigger.ReadOnly(name="posting_append_only"),
            pgtrigger.Protect(name="posting_no_delete", operation=pgtrigger.Delete),
            # The legs of an entry must sum to zero: checked per statement and, for entries a
            # statement leaves open, once more at commit. Plain SQL, not a pgtrigger (so it
            # cannot be ignored): migration 0009.
        ]

    def __str__(self):
        return f"{self.account} {self.amount}"
