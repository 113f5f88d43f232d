"""The back office for risk officers and collectors (docs/architecture.md, "Admin"), one module
per subdomain.

What is booked — schedules, repayments, fundings, the ledger, limit changes — is shown and
never edited or deleted here: it changes only through `lending.services`, and the database
refuses updates to several of those tables anyway. A line's limit, balance, rate and status are
read-only too; an officer changes them through an action with an intermediate form that calls
the service, so the change is checked, locked and recorded like any other."""

from . import extension, ledger, lines, loans, pay_later, products  # noqa: F401  (registers the model admins)
