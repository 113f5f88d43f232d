"""Every change of lending state goes through a function here (docs/architecture.md, "One write
path"). Views, admin actions, API views, tasks and commands import from this package."""

from .accrual import interest_due_accrue
from .batch import (
    book_statistics_refresh,
    credit_lines_open_many,
    loans_originate_many,
    loans_repay_many,
)
from .checkout import checkout_cancel, checkout_confirm, checkout_create, checkout_refund
from .delinquency import instalments_mark_overdue, loans_days_past_due_set
from .extension import loan_extension_quote, loan_term_extend
from .ledger import chart_of_accounts_ensure
from .line_reviews import LineTermsChange, lines_terms_change
from .lines import (
    credit_line_cap_lift,
    credit_line_close,
    credit_line_freeze,
    credit_line_open,
    credit_line_unfreeze,
    line_limit_lower,
    line_limit_raise,
)
from .origination import loan_originate
from .penalty import loans_penalty_accrue
from .products import credit_product_create, credit_product_update, partner_bank_create
from .repayment import loan_payoff_amount, loan_repay
from .revolving import (
    credit_balance_pay_back,
    line_pay,
    lines_due_a_statement,
    pay_later_line_open,
    plan_quote_fingerprint,
    plan_quote_for_purchase,
    plan_quote_for_statement,
    plan_settle_early,
    purchase_convert,
    purchase_create,
    purchase_refund,
    statement_convert,
    statements_cut,
)
from .waiver import loan_penalty_waive
from .write_off import loan_write_off, loans_write_off

__all__ = [
    "LineTermsChange",
    "book_statistics_refresh",
    "chart_of_accounts_ensure",
    "checkout_cancel",
    "checkout_confirm",
    "checkout_create",
    "checkout_refund",
    "credit_balance_pay_back",
    "credit_line_cap_lift",
    "credit_line_close",
    "credit_line_freeze",
    "credit_line_open",
    "credit_line_unfreeze",
    "credit_lines_open_many",
    "credit_product_create",
    "credit_product_update",
    "instalments_mark_overdue",
    "interest_due_accrue",
    "line_limit_lower",
    "line_limit_raise",
    "line_pay",
    "lines_due_a_statement",
    "lines_terms_change",
    "loan_extension_quote",
    "loan_originate",
    "loan_payoff_amount",
    "loan_penalty_waive",
    "loan_repay",
    "loan_term_extend",
    "loan_write_off",
    "loans_days_past_due_set",
    "loans_originate_many",
    "loans_penalty_accrue",
    "loans_repay_many",
    "loans_write_off",
    "partner_bank_create",
    "pay_later_line_open",
    "plan_quote_fingerprint",
    "plan_quote_for_purchase",
    "plan_quote_for_statement",
    "plan_settle_early",
    "purchase_convert",
    "purchase_create",
    "purchase_refund",
    "statement_convert",
    "statements_cut",
]
