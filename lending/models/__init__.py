"""Lending's models, one module per subdomain (docs/architecture.md)."""

from .ledger import AccountKind, JournalEntry, LedgerAccount, Posting
from .lines import CreditLine, CreditLineStatus, LimitChange, RateChange
from .loans import Instalment, InstalmentStatus, Loan, LoanFunding, LoanStatus, Repayment
from .products import CreditProduct, ProductKind, RepaymentMethod

__all__ = [
    "AccountKind",
    "CreditLine",
    "CreditLineStatus",
    "CreditProduct",
    "Instalment",
    "InstalmentStatus",
    "JournalEntry",
    "LedgerAccount",
    "LimitChange",
    "Loan",
    "LoanFunding",
    "LoanStatus",
    "Posting",
    "ProductKind",
    "RateChange",
    "Repayment",
    "RepaymentMethod",
]
