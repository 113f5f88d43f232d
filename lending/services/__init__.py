"""Every change of lending state goes through a function here; see DESIGN.md §4 "One write path".

Views, admin actions, API views, tasks and commands import from this package."""

from .business_date import (
    business_date_ensure,
    business_date_reset,
    business_dates_catch_up,
    business_day_close,
    business_days_advance,
)
from .ledger import chart_of_accounts_ensure
from .lines import credit_line_open, line_limit_lower, line_limit_raise
from .origination import loan_originate
from .products import credit_product_create, partner_bank_create
from .repayment import loan_payoff_amount, loan_repay

__all__ = [
    "business_date_ensure",
    "business_date_reset",
    "business_dates_catch_up",
    "business_day_close",
    "business_days_advance",
    "chart_of_accounts_ensure",
    "credit_line_open",
    "credit_product_create",
    "line_limit_lower",
    "line_limit_raise",
    "loan_originate",
    "loan_payoff_amount",
    "loan_repay",
    "partner_bank_create",
]
