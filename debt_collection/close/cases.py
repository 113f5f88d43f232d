"""Collections' cases in the nightly close: open, update, close and assign them
(debt_collection/services/case_sync.py has the rule), then resolve the promises to pay whose
date has passed (debt_collection/services/promises.py).

After `snapshot_buckets` (650), so the night's days past due and write-offs are in; before
`rescore_lines` (700)."""

from core.close import close_step

from ..services.case_sync import cases_sync, customers_in_collections
from ..services.promises import promises_check, promises_due


@close_step(name="sync_collection_cases", order=660, ids=customers_in_collections)
def sync_collection_cases(day, first_id, last_id):
    """Chunks of customers: those with a loan past due and those with an open case."""
    return cases_sync(day=day, first_id=first_id, last_id=last_id)


@close_step(name="check_promises", order=670, ids=promises_due)
def check_promises(day, first_id, last_id):
    """Chunks of pending promises whose date has passed."""
    return promises_check(day=day, first_id=first_id, last_id=last_id)
