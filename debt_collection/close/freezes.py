"""Collections' close step: freeze the lines of customers with anything overdue, and unfreeze
the ones this rule froze once nothing is overdue (lending/services/freezes.py has the rule).

After `set_days_past_due` (300), so it sees days past due as of the next business date; before
`send_dunning_notices` (500)."""

from core.close import close_step
from lending.services.freezes import lines_freeze_or_cure


@close_step(name="freeze_or_cure_lines", order=400)
def freeze_or_cure_lines(day, first_id=None, last_id=None):
    """One chunk: a night's freezes and cures are a few thousand lines even on a large book, and
    finding them costs what doing them costs, so they are found and done in one transaction."""
    return lines_freeze_or_cure(day=day, first_id=first_id, last_id=last_id)
