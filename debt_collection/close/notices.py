"""Collections' close steps: payment reminders (催收提醒) before, on and after due dates, for
loans (debt_collection/notices.py has the rule) and for pay-later statements
(debt_collection/statement_notices.py, the same rule read for a statement).

After `set_days_past_due` (300), `set_statements_past_due` (310) and `freeze_or_cure_lines`
(400), so they see days past due as of the next business date. Chunked by loan id, then by
statement id; the notices' e-mail goes out after each chunk commits."""

from core.close import close_step

from ..notices import dunning_candidate_loan_ids, dunning_notices_send
from ..statement_notices import statement_reminder_candidate_ids, statement_reminders_send


def send_dunning_notices_ids(day):
    return dunning_candidate_loan_ids(day=day)


@close_step(name="send_dunning_notices", order=500, ids=send_dunning_notices_ids)
def send_dunning_notices(day, first_id=None, last_id=None):
    return dunning_notices_send(day=day, first_id=first_id, last_id=last_id)


def send_statement_reminders_ids(day):
    return statement_reminder_candidate_ids(day=day)


@close_step(name="send_statement_reminders", order=510, ids=send_statement_reminders_ids)
def send_statement_reminders(day, first_id=None, last_id=None):
    return statement_reminders_send(day=day, first_id=first_id, last_id=last_id)
