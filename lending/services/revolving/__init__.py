"""The pay-later line's services (花呗): purchases, refunds, payments, instalment plans and the
statement cut. The only writers of `lending/models/revolving.py`; the rules they apply are in
`lending/rules/statements.py` and `plans.py`."""

from .delinquency import statements_past_due_set, statements_past_their_due_date
from .payments import credit_balance_pay_back, line_pay
from .plans import (
    plan_quote_fingerprint,
    plan_quote_for_purchase,
    plan_quote_for_statement,
    plan_settle_early,
    purchase_convert,
    statement_convert,
)
from .purchases import (
    customer_pay_later_line_lock,
    pay_later_line_open,
    purchase_create,
    purchase_create_on_locked_line,
)
from .refunds import purchase_refund
from .statements import lines_due_a_statement, statements_cut
from .write_off import (
    line_recovery_book,
    line_write_off_owed,
    lines_write_off,
    statements_due_for_write_off_ids,
)

__all__ = [
    "customer_pay_later_line_lock",
    "purchase_create_on_locked_line",
    "credit_balance_pay_back",
    "line_pay",
    "line_recovery_book",
    "line_write_off_owed",
    "lines_due_a_statement",
    "lines_write_off",
    "pay_later_line_open",
    "plan_quote_fingerprint",
    "plan_quote_for_purchase",
    "plan_quote_for_statement",
    "plan_settle_early",
    "purchase_convert",
    "purchase_create",
    "purchase_refund",
    "statement_convert",
    "statements_past_due_set",
    "statements_past_their_due_date",
    "statements_cut",
    "statements_due_for_write_off_ids",
]
