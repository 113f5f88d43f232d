"""One page per customer for officers and collectors (客户视图): the profile, lines, loans and
their schedules, decisions, collections, hardship requests, notices and one timeline of the
audit trail, with every officer action one click away. Read-only: the actions are the admin's
own, started from here (`actions`), and change nothing without their intermediate page.

`reads` gathers the page in a fixed number of queries, `timeline` reads and verifies the
customer's audit chains, `views` serves it at /admin/customers/<user id>/."""
