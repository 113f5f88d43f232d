"""The loan the simulator books from a customer's plan, as the B-card's ceiling reads it."""

from datetime import timedelta

from risk.bcard_truth import LoanHistory


def history_from_plan(plan, dues, end) -> LoanHistory:
    """What operations/simulation/history.py books for one `LoanPlan`: instalments paid on
    their due date or the plan's days late, none from the default instalment on, everything
    due on or after an early payoff settled that day, and nothing paid on or after the end."""
    paid = []
    for seq, due in enumerate(dues, start=1):
        if plan.default_seq is not None and seq >= plan.default_seq:
            paid.append(None)
        elif plan.payoff_on is not None and due >= plan.payoff_on:
            paid.append(plan.payoff_on)
        else:
            day = due + timedelta(days=plan.late_days.get(seq, 0))
            paid.append(day if day < end else None)
    return LoanHistory(due_dates=tuple(dues), paid_on=tuple(paid), paid_off_on=plan.payoff_on)
