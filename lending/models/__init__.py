"""Lending's models, one module per subdomain (docs/architecture.md)."""

from .extensions import LoanExtension
from .ledger import AccountKind, JournalEntry, LedgerAccount, Posting
from .lines import CreditLine, CreditLineStatus, LimitChange, RateChange
from .loans import (
    Instalment,
    InstalmentStatus,
    Loan,
    LoanFunding,
    LoanStatus,
    PenaltyWaiver,
    Repayment,
)
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
    "LoanExtension",
    "LoanFunding",
    "LoanStatus",
    "PenaltyWaiver",
    "Posting",
    "ProductKind",
    "RateChange",
    "Repayment",
    "RepaymentMethod",
]
