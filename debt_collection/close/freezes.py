"""Collections' close step: freeze the lines of customers with anything overdue, and unfreeze
the ones this rule froze once nothing is overdue (lending/services/freezes.py has the rule).

After `set_days_past_due` (300), so it sees days past due as of the next business date; before
`send_dunning_notices` (500). Chunked by customer id."""

from core.close import close_step
from lending.services.freezes import freeze_candidate_customer_ids, lines_freeze_or_cure


def freeze_or_cure_ids(day):
    return freeze_candidate_customer_ids(day=day)


@close_step(name="freeze_or_cure_lines", order=400, ids=freeze_or_cure_ids)
def freeze_or_cure_lines(day, first_id=None, last_id=None):
    return lines_freeze_or_cure(day=day, first_id=first_id, last_id=last_id)
