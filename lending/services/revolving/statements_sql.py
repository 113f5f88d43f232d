"""The statement cut on PostgreSQL: the same rules as `statements.py`'s Python path (the pure
functions in `lending/rules/statements.py`), as a few set-based statements per chunk, so that
a million lines cut in one night cost about what plain SQL costs. Each statement below says
which rule it applies; `tests/lending/test_statement_cut_paths.py` cuts one varied book both
ways and compares every row."""

from django.db import connection

from core.batch import ids_array

from ...models import LedgerAccount
from .. import ledger

# Each line's last statement, what it carried, its revolving interest (rules.statements.
# revolving_interest: the principal billed for every day from its statement day to the day
# before this one, less each credit from the day after it, rounded half-up once; none when it
# was paid in full by its due date), this cycle's purchases and the plans' next parts.
_CUT_SQL = """
CREATE TEMP TABLE cut_parts ON COMMIT DROP AS
SELECT DISTINCT ON (pp.plan_id) pp.id, pp.plan_id, pl.line_id, pp.principal, pp.fee
FROM lending_instalmentplan pl
JOIN lending_planpart pp ON pp.plan_id = pl.id AND pp.status = 'scheduled'
WHERE pl.line_id = ANY(%(ids)s::bigint[]) AND pl.status = 'active' AND pl.created_on <= %(day)s
ORDER BY pp.plan_id, pp.seq;

CREATE TEMP TABLE cut ON COMMIT DROP AS
SELECT l.id AS line_id, l.credit_balance, p.minimum_payment_rate AS min_rate,
       COALESCE(s.seq, 0) + 1 AS seq,
       COALESCE(s.statement_date + 1, l.opened_on) AS period_start,
       %(day)s::date + p.statement_due_days AS due_date,
       s.id AS last_id, COALESCE(s.status = 'open', false) AS carries,
       CASE WHEN s.id IS NULL OR (s.paid_on IS NOT NULL AND s.paid_on <= s.due_date) THEN 0
            ELSE GREATEST(ROUND((s.principal_billed * (%(day)s::date - s.statement_date)
                                 - COALESCE(cr.reduction, 0)) * p.revolving_daily_rate, 2), 0)
       END AS interest,
       COALESCE(pu.new_purchases, 0) AS new_purchases, COALESCE(pu.seen, 0) AS purchases_seen,
       COALESCE(pa.principal, 0) AS parts_principal, COALESCE(pa.fee, 0) AS parts_fee,
       CASE WHEN s.status = 'open' THEN s.parts_due - s.parts_paid + s.purchases_due
                                        - s.purchases_paid ELSE 0 END AS revolved,
       CASE WHEN s.status = 'open' THEN s.penalty_due - s.penalty_paid ELSE 0 END AS c_penalty,
       CASE WHEN s.status = 'open' THEN s.interest_due - s.interest_paid ELSE 0 END AS c_interest,
       CASE WHEN s.status = 'open' THEN s.fees_due - s.fees_paid ELSE 0 END AS c_fees,
       CASE WHEN s.status = 'open' THEN GREATEST(s.minimum_due - (s.penalty_paid
            + s.interest_paid + s.fees_paid + s.parts_paid + s.purchases_paid), 0)
            ELSE 0 END AS earlier_min,
       CASE WHEN s.status = 'open' THEN s.overdue_since END AS overdue_since,
       CASE WHEN s.status = 'open' THEN s.days_past_due ELSE 0 END AS days_past_due,
       CASE WHEN s.status = 'open' THEN s.penalty_charged_through END
           AS penalty_charged_through,
       NULL::bigint AS new_id
FROM lending_creditline l
JOIN lending_creditproduct p ON p.id = l.product_id
LEFT JOIN LATERAL (SELECT * FROM lending_statement s WHERE s.line_id = l.id
                   ORDER BY s.seq DESC LIMIT 1) s ON true
LEFT JOIN LATERAL (
    SELECT SUM(c.principal * LEAST(GREATEST(%(day)s::date - c.business_date - 1, 0),
                                   %(day)s::date - s.statement_date)) AS reduction
    FROM lending_statementcredit c
    WHERE c.statement_id = s.id AND NOT (s.paid_on IS NOT NULL AND s.paid_on <= s.due_date)
) cr ON true
LEFT JOIN LATERAL (
    SELECT SUM(u.amount - u.refunded - u.paid_before_billing) FILTER (WHERE u.plan_id IS NULL)
               AS new_purchases,
           count(*) AS seen
    FROM lending_purchase u
    WHERE u.line_id = l.id AND u.statement_id IS NULL AND u.posted_on <= %(day)s
) pu ON true
LEFT JOIN (SELECT line_id, SUM(principal) AS principal, SUM(fee) AS fee FROM cut_parts
           GROUP BY line_id) pa ON pa.line_id = l.id
WHERE l.id = ANY(%(ids)s::bigint[]);

-- Nothing to bill and nothing owed: no statement this month.
DELETE FROM cut WHERE interest = 0 AND NOT carries AND parts_principal = 0 AND parts_fee = 0
                  AND new_purchases = 0 AND purchases_seen = 0;

-- The statement before, still owing, is carried into the new one: rolled first, as a line
-- has one open statement at a time.
UPDATE lending_statement s SET status = 'rolled' FROM cut
WHERE s.id = cut.last_id AND cut.carries;

-- The new statements; the minimum is rules.statements.minimum_payment.
WITH made AS (
    INSERT INTO lending_statement (
        line_id, seq, period_start, statement_date, due_date, new_purchases,
        revolved_principal, carried_charges, earlier_minimum_unpaid, principal_billed,
        penalty_due, interest_due, fees_due, parts_due, purchases_due, penalty_paid,
        interest_paid, fees_paid, parts_paid, purchases_paid, refunded, converted, minimum_due,
        status, paid_on, overdue_since, days_past_due, penalty_charged_through, created_at)
    SELECT line_id, seq, period_start, %(day)s, due_date, new_purchases, revolved,
           c_penalty + c_interest + c_fees, earlier_min,
           revolved + new_purchases + parts_principal,
           c_penalty, c_interest + interest, c_fees + parts_fee, parts_principal,
           revolved + new_purchases, 0, 0, 0, 0, 0, 0, 0,
           LEAST(ROUND(min_rate * (new_purchases + revolved), 2) + parts_principal
                 + c_fees + parts_fee + c_interest + interest + c_penalty
                 + GREATEST(earlier_min - (c_penalty + c_interest + c_fees), 0),
                 GREATEST(total, 0)),
           CASE WHEN total = 0 THEN 'paid' ELSE 'open' END,
           CASE WHEN total = 0 THEN %(day)s::date END,
           CASE WHEN total = 0 THEN NULL ELSE overdue_since END,
           CASE WHEN total = 0 THEN 0 ELSE days_past_due END,
           penalty_charged_through, now()
    FROM (SELECT *, c_penalty + c_interest + interest + c_fees + parts_fee + parts_principal
                    + revolved + new_purchases AS total FROM cut) c
    ORDER BY line_id  -- ids in the lines' order: the same book cut twice gets the same ids
    RETURNING id, line_id
)
UPDATE cut SET new_id = made.id FROM made WHERE made.line_id = cut.line_id;

UPDATE lending_purchase u SET statement_id = cut.new_id FROM cut
WHERE u.line_id = cut.line_id AND u.statement_id IS NULL AND u.posted_on <= %(day)s;

UPDATE lending_planpart pp SET status = 'billed', statement_id = cut.new_id
FROM cut_parts cp JOIN cut ON cut.line_id = cp.line_id WHERE pp.id = cp.id;

-- A plan whose last part is billed is complete.
UPDATE lending_instalmentplan pl SET status = 'completed'
WHERE pl.id IN (SELECT plan_id FROM cut_parts cp JOIN cut ON cut.line_id = cp.line_id)
  AND NOT EXISTS (SELECT 1 FROM lending_planpart x
                  WHERE x.plan_id = pl.id AND x.status = 'scheduled');

-- Interest and the parts' fees, booked (Dr receivable, Cr income), one entry each per line.
CREATE TEMP TABLE cut_legs ON COMMIT DROP AS
SELECT cut.line_id, k.kind, k.memo, k.amount, k.receivable, k.income
FROM cut CROSS JOIN LATERAL (VALUES
    ('revolving_interest', 'Revolving interest', cut.interest, %(ir)s::bigint, %(rii)s::bigint),
    ('plan_fee', 'Instalment plan fees billed', cut.parts_fee, %(fr)s::bigint, %(fi)s::bigint)
) AS k(kind, memo, amount, receivable, income)
WHERE k.amount > 0;

WITH entries AS (
    INSERT INTO lending_journalentry (kind, business_date, line_id, memo, created_at)
    SELECT kind, %(day)s, line_id, memo, now() FROM cut_legs
    RETURNING id, line_id, kind
)
INSERT INTO lending_posting (entry_id, account_id, line_id, amount)
SELECT e.id, leg.account, e.line_id, leg.amount
FROM entries e JOIN cut_legs l ON l.line_id = e.line_id AND l.kind = e.kind
CROSS JOIN LATERAL (VALUES (l.receivable, l.amount), (l.income, -l.amount)) AS leg(account, amount);
"""


def statements_cut_sql(*, day, line_ids) -> list[tuple[int, int]]:
    """Cut the statements dated `day` of `line_ids` (locked by the caller, none cut on `day`
    yet); returns (line id, new statement id) of the lines with a credit balance, which the
    caller applies to their new statements."""
    accounts = dict(LedgerAccount.objects.filter(code__in=[
        ledger.INTEREST_RECEIVABLE, ledger.REVOLVING_INTEREST_INCOME, ledger.PLAN_FEE_RECEIVABLE,
        ledger.PLAN_FEE_INCOME]).values_list("code", "pk"))
    with connection.cursor() as cursor:
        cursor.execute(_CUT_SQL, {
            "day": day, "ids": ids_array(line_ids),
            "ir": accounts[ledger.INTEREST_RECEIVABLE],
            "rii": accounts[ledger.REVOLVING_INTEREST_INCOME],
            "fr": accounts[ledger.PLAN_FEE_RECEIVABLE], "fi": accounts[ledger.PLAN_FEE_INCOME]})
        cursor.execute("SELECT count(*) FROM cut")
        (cut,) = cursor.fetchone()
        cursor.execute("SELECT line_id, new_id FROM cut WHERE credit_balance > 0 ORDER BY line_id")
        with_credit = cursor.fetchall()
        cursor.execute("DROP TABLE cut, cut_parts, cut_legs")
    return cut, with_credit
