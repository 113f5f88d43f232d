"""Lending's money rules as pure functions: no database, no clock (docs/architecture.md).

`schedule` quotes a loan, `allocation` spreads a payment over a schedule, `delinquency` says
how late a loan is and what is due on a day."""
