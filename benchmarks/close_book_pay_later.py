"""The pay-later half of the close benchmark's book (benchmarks/close_book.py loads the cash
half): one pay-later line (花呗) per customer, every one with its statement day on the book's
day, so the close of that day cuts a million statements; and the floors of the pay-later steps.

Per customer g (its pay-later line's id is `LINE_OFFSET + g`), as the services would have left
it, written with set-based SQL:

* the statement of a month before (seq 1, due 9 days after it), its purchases billed on it;
  60 % paid in full before the due date, 25 % paid their minimum only (one credit of it: the
  interest tonight is charged on the rest), 5 % nothing (past due since the due date, with the
  penalty so far, both the customer's lines frozen), 10 % paid in full and nothing bought
  since; a customer whose cash loan is past due has the pay-later line frozen too;
* 0 to 3 purchases since that statement (none for the last 10 %), not yet billed;
* 10 % of lines an instalment plan of 3 parts, its first billed last month, two to bill.

No ledger rows are written for the pay-later half: neither pay-later step reads the ledger.

The floors run the steps' own SQL (`lending/services/revolving/statements_sql.py` and
`delinquency.py`) once over every line or statement in one transaction: what the close adds on
top is its chunks, their locks and transactions, and the runner."""

from datetime import timedelta

import psycopg

PRODUCT_CODE = "bench-paylater"
MERCHANT_CODE = "bench-shop"
LINE_OFFSET = 10_000_000
DUE_DAYS = 9


def _h(salt: int, scale: int) -> str:
    return f"(((hashint8extended(g, {salt}) & 1048575) * {scale}) >> 20)"


def _u(salt: int) -> str:
    return f"((hashint8extended(g, {salt}) & 1048575) / 1048576.0)"


def reference_data_create(penalty_daily_rate, grace_days, write_off_days):
    """The pay-later product and its merchant, through the product's own code."""
    from accounts.models import Merchant
    from lending.models import CreditProduct

    CreditProduct.objects.create(
        code=PRODUCT_CODE, name="Bench pay later", kind="pay_later",
        min_daily_rate="0.00050000", max_daily_rate="0.00050000",
        penalty_daily_rate=penalty_daily_rate, allowed_terms=[1],
        repayment_methods=["equal_instalment"], grace_days=grace_days,
        write_off_days=write_off_days, min_amount="1.00", max_amount="50000.00",
        apr_cap="24.00", max_partner_share="0", statement_due_days=DUE_DAYS)
    Merchant.objects.create(code=MERCHANT_CODE, name="Bench shop")


def pay_later_load(conn, insert, params, split) -> dict[str, int]:
    """Lines, last month's statements, their purchases and credits, this month's purchases and
    the plans for the ids params["lo"]..params["hi"]. `insert` and `split` are the cash
    loader's (one session, or two at once); returns rows per table."""
    day = params["day"]
    last = day.replace(month=day.month - 1) if day.month > 1 else day.replace(
        year=day.year - 1, month=12)
    # The cash loader's `split` reads its own `params`: the pay-later half's go in beside them.
    p = params
    p.update({"last": last, "last_due": last + timedelta(days=DUE_DAYS),
              "paid_on": last + timedelta(days=DUE_DAYS - 3), "offset": LINE_OFFSET,
              "opened": last - timedelta(days=40)})
    p["pl_product"] = conn.execute("SELECT id FROM lending_creditproduct WHERE code = %s",
                                [PRODUCT_CODE]).fetchone()[0]
    p["pl_merchant"] = conn.execute("SELECT id FROM accounts_merchant WHERE code = %s",
                                 [MERCHANT_CODE]).fetchone()[0]
    conn.execute("DROP TABLE IF EXISTS bench_pay_later")
    conn.execute(f"""
        CREATE UNLOGGED TABLE bench_pay_later AS
        SELECT g AS id, %(offset)s + g AS line_id,
               CASE WHEN {_u(21)} < 0.60 THEN 'paid' WHEN {_u(21)} < 0.85 THEN 'minimum'
                    WHEN {_u(21)} < 0.90 THEN 'late' ELSE 'quiet' END AS story,
               (100 * (1 + {_h(22, 40)}))::numeric(18, 2) AS billed,
               CASE WHEN {_u(21)} >= 0.90 THEN 0 ELSE {_h(23, 4)} END AS bought,
               {_u(24)} < 0.10 AS has_plan,
               b.dpd > 0 AS loan_late
        FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) g JOIN bench_book b ON b.id = g
    """, p)
    conn.execute("ALTER TABLE bench_pay_later ADD PRIMARY KEY (id)")
    conn.commit()
    rows = {}
    rows["pay-later lines"] = split("lending_creditline", {
        "id": "line_id", "customer_id": "id", "product_id": "%(pl_product)s",
        "credit_limit": "20000", "daily_rate": "0.0005",
        # The last statement's unpaid principal, the purchases since, the plan's two parts.
        "outstanding_principal": "CASE story WHEN 'minimum' THEN billed * 0.9 "
                                 "WHEN 'late' THEN billed + CASE WHEN has_plan THEN 100 ELSE 0 "
                                 "END ELSE 0 END + bought * 50 "
                                 "+ CASE WHEN has_plan THEN 200 ELSE 0 END",
        # Frozen as the last close left it: the customer's statement or cash loan past due.
        "status": "CASE WHEN story = 'late' OR loan_late THEN 'frozen' ELSE 'active' END",
        "frozen_by": "CASE WHEN story = 'late' OR loan_late THEN 'overdue' ELSE '' END",
        "freeze_reason": "CASE WHEN loan_late THEN 'Payment overdue on loan ' || id "
                         "WHEN story = 'late' THEN 'Payment overdue on the pay-later "
                         "statement' ELSE '' END",
        "opened_on": "%(opened)s", "statement_day": "extract(day FROM %(day)s::date)",
        "credit_balance": "0", "updated_at": "now()"},
        "bench_pay_later WHERE {where}")
    rows["last statements"] = split("lending_statement", {
        "id": "line_id", "line_id": "line_id", "seq": "1", "period_start": "%(opened)s",
        "statement_date": "%(last)s", "due_date": "%(last_due)s", "new_purchases": "billed",
        "principal_billed": "billed + CASE WHEN has_plan THEN 100 ELSE 0 END",
        "purchases_due": "billed", "parts_due": "CASE WHEN has_plan THEN 100 ELSE 0 END",
        "fees_due": "CASE WHEN has_plan THEN 2.5 ELSE 0 END",
        "purchases_paid": "CASE story WHEN 'minimum' THEN billed * 0.1 WHEN 'late' THEN 0 "
                          "ELSE billed END",
        "parts_paid": "CASE WHEN has_plan AND story IN ('paid', 'quiet', 'minimum') THEN 100 "
                      "ELSE 0 END",
        "fees_paid": "CASE WHEN has_plan AND story IN ('paid', 'quiet', 'minimum') THEN 2.5 "
                     "ELSE 0 END",
        "minimum_due": "billed * 0.1 + CASE WHEN has_plan THEN 102.5 ELSE 0 END",
        "penalty_due": "CASE WHEN story = 'late' THEN ROUND(billed * 0.0005, 2) "
                       "* (%(day)s::date - %(last_due)s::date) ELSE 0 END",
        "status": "CASE WHEN story IN ('paid', 'quiet') THEN 'paid' ELSE 'open' END",
        "paid_on": "CASE WHEN story IN ('paid', 'quiet') THEN %(paid_on)s::date END",
        "overdue_since": "CASE WHEN story = 'late' THEN %(last_due)s::date END",
        "days_past_due": "CASE WHEN story = 'late' THEN %(day)s::date - %(last_due)s::date "
                         "ELSE 0 END",
        "penalty_charged_through": "CASE WHEN story = 'late' THEN %(day)s::date END",
        "created_at": "now()"},
        "bench_pay_later WHERE {where}")
    # A past-due statement froze the customer's cash line too (its id is the customer's).
    rows["cash lines frozen"] = conn.execute("""
        UPDATE lending_creditline l SET status = 'frozen', frozen_by = 'overdue',
               freeze_reason = 'Payment overdue on the pay-later statement'
        FROM bench_pay_later b
        WHERE l.id = b.id AND b.story = 'late' AND l.status = 'active'
    """).rowcount
    conn.commit()
    rows["statement credits"] = split("lending_statementcredit", {
        "statement_id": "line_id", "business_date": "%(paid_on)s",
        "principal": "billed * 0.1"},
        "bench_pay_later WHERE story = 'minimum' AND {where}")
    purchase_source = """(SELECT b.*, k FROM bench_pay_later b
                          CROSS JOIN LATERAL generate_series(0, b.bought) k) s"""
    rows["purchases"] = split("lending_purchase", {
        "line_id": "line_id", "merchant_id": "%(pl_merchant)s",
        "order_reference": "'bench-' || id || '-' || k",
        "amount": "CASE WHEN k = 0 THEN billed ELSE 50 END",
        "merchant_fee": "0", "refunded": "0", "paid_before_billing": "0",
        "posted_on": "CASE WHEN k = 0 THEN %(last)s::date ELSE %(day)s::date - k::int END",
        "statement_id": "CASE WHEN k = 0 THEN line_id END", "description": "''",
        "created_at": "now()"},
        purchase_source + " WHERE (story <> 'quiet' OR k = 0) AND {where}")
    rows["plans"] = split("lending_instalmentplan", {
        "id": "line_id", "line_id": "line_id", "source": "'purchase'", "principal": "300",
        "term_months": "3", "fee_rate": "0.025", "fee_total": "7.5", "apr": "14.94",
        "created_on": "%(opened)s", "status": "'active'", "created_at": "now()"},
        "bench_pay_later WHERE has_plan AND {where}")
    rows["plan parts"] = split("lending_planpart", {
        "plan_id": "line_id", "seq": "k", "principal": "100", "fee": "2.5",
        "status": "CASE WHEN k = 1 THEN 'billed' ELSE 'scheduled' END",
        "statement_id": "CASE WHEN k = 1 THEN line_id END"},
        "(SELECT b.*, k FROM bench_pay_later b CROSS JOIN generate_series(1, 3) k) s "
        "WHERE has_plan AND {where}")
    conn.execute("DROP TABLE bench_pay_later")
    conn.commit()
    return rows


# The tables the pay-later half fills (their ids move on with the cash half's).
TABLES = ["lending_statement", "lending_purchase", "lending_instalmentplan", "lending_planpart",
          "lending_statementcredit"]


def floor_cut_statements(conn, day, ref):
    from lending.services.revolving.statements_sql import _CUT_SQL

    ids = [pk for (pk,) in conn.execute(
        "SELECT l.id FROM lending_creditline l JOIN lending_creditproduct p "
        "ON p.id = l.product_id WHERE l.statement_day = %s AND p.kind = 'pay_later' "
        "AND l.opened_on < %s AND l.status <> 'closed' ORDER BY l.id FOR UPDATE OF l",
        [day.day, day]).fetchall()]
    acc = ref["accounts"]
    # Several statements in one: client-side binding, as Django's cursors do.
    psycopg.ClientCursor(conn).execute(_CUT_SQL, {
        "day": day, "ids": ids, "ir": acc["interest_receivable"],
        "rii": acc["revolving_interest_income"], "fr": acc["plan_fee_receivable"],
        "fi": acc["plan_fee_income"]})
    (cut,) = conn.execute("SELECT count(*) FROM cut").fetchone()
    conn.execute("DROP TABLE cut, cut_parts, cut_legs")
    return cut


def floor_set_statements_past_due(conn, day, ref):
    from lending.services.revolving.delinquency import _PAST_DUE_SQL, PENALTY_KIND, PENALTY_MEMO

    ids = [pk for (pk,) in conn.execute(
        "SELECT id FROM lending_statement WHERE status = 'open' AND (overdue_since IS NOT NULL "
        "OR (due_date < %s AND penalty_paid + interest_paid + fees_paid + parts_paid "
        "+ purchases_paid < minimum_due)) ORDER BY id FOR UPDATE", [day]).fetchall()]
    acc = ref["accounts"]
    psycopg.ClientCursor(conn).execute(_PAST_DUE_SQL, {
        "day": day, "tomorrow": day + timedelta(days=1), "ids": ids, "kind": PENALTY_KIND,
        "memo": PENALTY_MEMO, "receivable": acc["penalty_receivable"],
        "income": acc["penalty_income"]})
    (changed,) = conn.execute("SELECT count(*) FROM past_due").fetchone()
    conn.execute("DROP TABLE past_due")
    return changed
