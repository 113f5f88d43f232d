"""Collections' close step: payment reminders (催收提醒) before, on and after due dates
(debt_collection/notices.py has the rule).

After `set_days_past_due` (300) and `freeze_or_cure_lines` (400), so it sees days past due as
of the next business date. Chunked by loan id; the notices' e-mail goes out after each chunk
commits."""

from core.close import close_step

from ..notices import dunning_candidate_loan_ids, dunning_notices_send


def send_dunning_notices_ids(day):
    return dunning_candidate_loan_ids(day=day)


@close_step(name="send_dunning_notices", order=500, ids=send_dunning_notices_ids)
def send_dunning_notices(day, first_id=None, last_id=None):
    return dunning_notices_send(day=day, first_id=first_id, last_id=last_id)
