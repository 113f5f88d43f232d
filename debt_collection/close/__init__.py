"""Collections' steps of the nightly close, one module per rule (docs/architecture.md, "The
nightly close"). The order numbers leave room between steps:

  200 mark_overdue, 250 accrue_penalty, 300 set_days_past_due,
  310 set_statements_past_due                                    (overdue.py)
  400 freeze_or_cure_lines                                       (freezes.py)
  500 send_dunning_notices, 510 send_statement_reminders         (notices.py)
  600 write_off, 610 write_off_pay_later                         (write_off.py)
  650 snapshot_buckets                                           (overdue.py)
  660 sync_collection_cases, 670 check_promises                  (cases.py)

The delinquency rules and the tables they change are lending's; these steps decide when they
run, through lending's services. Importing a module registers its steps."""

from . import (
    cases,  # noqa: F401
    freezes,  # noqa: F401
    notices,  # noqa: F401
    overdue,  # noqa: F401
    write_off,  # noqa: F401
)
