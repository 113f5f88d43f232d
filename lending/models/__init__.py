"""Lending's models, one module per subdomain (docs/architecture.md)."""

from .checkout import Checkout, CheckoutStatus
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
from .revolving import (
    CreditBalanceRefund,
    InstalmentPlan,
    PayLaterPayment,
    PayLaterPaymentKind,
    PlanPart,
    PlanPartStatus,
    PlanSource,
    PlanStatus,
    Purchase,
    Refund,
    Statement,
    StatementCredit,
    StatementStatus,
)

__all__ = [
    "AccountKind",
    "Checkout",
    "CheckoutStatus",
    "CreditBalanceRefund",
    "CreditLine",
    "CreditLineStatus",
    "CreditProduct",
    "Instalment",
    "InstalmentPlan",
    "InstalmentStatus",
    "JournalEntry",
    "LedgerAccount",
    "LimitChange",
    "Loan",
    "LoanExtension",
    "LoanFunding",
    "LoanStatus",
    "PayLaterPayment",
    "PayLaterPaymentKind",
    "PenaltyWaiver",
    "PlanPart",
    "PlanPartStatus",
    "PlanSource",
    "PlanStatus",
    "Posting",
    "ProductKind",
    "Purchase",
    "RateChange",
    "Refund",
    "Repayment",
    "RepaymentMethod",
    "Statement",
    "StatementCredit",
    "StatementStatus",
]
