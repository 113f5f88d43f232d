"""Collections' close steps: write off (核销) loans whose days past due have reached their
product's write-off days (lending/services/write_off.py has the booking), then pay-later lines
whose open statement has (lending/services/revolving/write_off.py).

After `set_days_past_due` (300) and `set_statements_past_due` (310), so they see days past due
as of the next business date, and after the freezes and notices; before `snapshot_buckets`
(650), so the night's picture counts what was written off. Chunked by loan id, then by
statement id."""

from core.close import close_step
from lending.services.revolving import lines_write_off, statements_due_for_write_off_ids
from lending.services.write_off import loans_due_for_write_off_ids, loans_write_off


@close_step(name="write_off", order=600, ids=loans_due_for_write_off_ids)
def write_off(day, first_id=None, last_id=None):
    return loans_write_off(day=day, first_id=first_id, last_id=last_id)


@close_step(name="write_off_pay_later", order=610, ids=statements_due_for_write_off_ids)
def write_off_pay_later(day, first_id=None, last_id=None):
    """Chunks of open statements past the least write-off days: each takes its line."""
    return lines_write_off(day=day, first_id=first_id, last_id=last_id)
