"""Collections' close step: write off (核销) loans whose days past due have reached their
product's write-off days (lending/services/write_off.py has the booking).

After `set_days_past_due` (300), so it sees days past due as of the next business date, and
after the freezes and notices; before `snapshot_buckets` (650), so the night's picture counts
the loans written off. Chunked by loan id."""

from core.close import close_step
from lending.services.write_off import loans_due_for_write_off_ids, loans_write_off


@close_step(name="write_off", order=600, ids=loans_due_for_write_off_ids)
def write_off(day, first_id=None, last_id=None):
    return loans_write_off(day=day, first_id=first_id, last_id=last_id)
