"""The close benchmark's book and floor (benchmarks/close.py runs them).

The book: N customers, each with one credit line and one 12-month equal-principal cash loan of
the one product, written with set-based SQL (INSERT ... SELECT generate_series) straight into
the product's tables, never through the services: a million customers in minutes. Every row is
what the services would have written, as far as the close reads it:

* loans disbursed 1 to 360 days before the book's day, so on any day about 1/30 of them have an
  instalment falling due; 70 % funded by one partner bank, 30 % by the platform;
* about 10 % delinquent: their oldest unpaid instalment is 1 to 6 instalments back, so every
  bucket M1..M4 is filled and a few loans reach the write-off threshold (180 days) tonight;
  instalments due on or before day - grace - 1 are overdue, days past due and frozen lines as
  the last close left them;
* instalments due before the book's day are paid (or overdue), their interest accrued; those
  due on the day itself are pending, accrued tonight;
* the ledger: a disbursement per loan, one repayment entry per loan for what it has paid so far
  (with the partner bank's share passed on), and per delinquent loan its unpaid accrued interest
  and its penalty so far as receivables. Every entry balances (checked after the load);
* collections: 8 active collectors, an open case per customer past due (its figures as of the
  book's day, assigned round robin within its bucket, its audit chain's head), and a pending
  promise to pay on 30 % of them, dated 0 to 29 days after the book's day (a promise is
  resolved the night its date ends, so every pending one is dated on or after the book's day).

The floor: the same work as each close step, as plain SQL statements, one transaction per step,
timed with its COMMIT."""

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from decimal import Decimal

import psycopg

from benchmarks import close_book_pay_later
from benchmarks.close_book_pay_later import (  # noqa: F401 (found by FLOORS below)
    floor_cut_statements,
    floor_set_statements_past_due,
)
from benchmarks.close_book_risk import (  # noqa: F401 (found by FLOORS below)
    floor_rescore_lines,
    floor_watch_models,
)

BOOK_DAY = date(2026, 6, 15)
GRACE_DAYS = 3
PENALTY_DAILY_RATE = "0.00050000"
WRITE_OFF_DAYS = 180
PRODUCT_CODE = "bench-cash"
BANK_CODE = "bench-bank"
BANK_SHARE = "0.70"
# Collections: active members of the Collector group (accounts.roles.COLLECTOR), with ids far
# above any customer's (a customer's user, line and loan share one id, from 1 up), and the
# share of open cases with a pending promise to pay (its date 0 to 29 days after the book's
# day, so about 1/30 of them fall due tonight).
COLLECTOR_GROUP = "Collector"
COLLECTORS = 8
COLLECTOR_FIRST_ID = 1_000_000_001
PROMISE_SHARE = 0.3

# The tables the book fills; their plain indexes are dropped while it loads and built again
# after (constraints, and so primary keys and unique pairs, stay).
BOOK_TABLES = ["accounts_user", "accounts_customerprofile", "lending_creditline", "lending_loan",
               "lending_loanfunding", "lending_instalment", "lending_repayment",
               "lending_journalentry", "lending_posting"]


# Databases -------------------------------------------------------------------------------------

def server_url(url: str, name: str = "postgres") -> str:
    import urllib.parse
    parts = urllib.parse.urlsplit(url.replace("postgres://", "postgresql://", 1))
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


def database_drop(url: str, name: str) -> None:
    with psycopg.connect(server_url(url), autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE datname = %s AND pid <> pg_backend_pid()", [name])
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def database_create(url: str, name: str, template: str | None = None) -> float:
    """A fresh database, empty or a file copy of `template`; returns the seconds it took."""
    database_drop(url, name)
    started = time.perf_counter()
    with psycopg.connect(server_url(url), autocommit=True) as conn:
        if template:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
        else:
            conn.execute(f'CREATE DATABASE "{name}"')
    return time.perf_counter() - started


def database_size(url: str, name: str) -> int:
    with psycopg.connect(server_url(url), autocommit=True) as conn:
        return conn.execute("SELECT pg_database_size(%s)", [name]).fetchone()[0]


# The load --------------------------------------------------------------------------------------

def _h(salt: int, scale: int) -> str:
    """A uniform whole number 0 <= x < scale from the id g and a salt (deterministic)."""
    return f"(((hashint8extended(g, {salt}) & 1048575) * {scale}) >> 20)"


def _u(salt: int) -> str:
    return f"((hashint8extended(g, {salt}) & 1048575) / 1048576.0)"


def _insert(conn, table: str, columns: dict[str, str], source: str, params=None) -> int:
    """INSERT INTO table (columns) SELECT expressions FROM source; any NOT NULL column without a
    database default that `columns` leaves out (a field added since this was written) gets its
    type's zero, so the load keeps working as models grow."""
    missing = conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = %s AND is_nullable = 'NO' AND column_default IS NULL "
        "AND is_identity = 'NO'", [table]).fetchall()
    zero = {"boolean": "false", "jsonb": "'[]'::jsonb", "json": "'[]'::json", "date": "%(day)s",
            "timestamp with time zone": "now()", "text": "''", "character varying": "''"}
    columns = dict(columns)
    for name, data_type in missing:
        if name not in columns:
            columns[name] = zero.get(data_type, "0")
    sql = (f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(columns.values())} "
           f"FROM {source}")
    return conn.execute(sql, params or {}).rowcount


def indexes_drop(conn) -> list[str]:
    """Drop the plain (not constraint) indexes of the book's tables; returns their definitions."""
    rows = conn.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "JOIN pg_class t ON t.oid = i.indrelid WHERE t.relname = ANY(%s) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
        [BOOK_TABLES]).fetchall()
    for name, _definition in rows:
        conn.execute(f"DROP INDEX {name}")
    return [definition for _name, definition in rows]


def reference_ids(conn) -> dict:
    accounts = dict(conn.execute("SELECT code, id FROM lending_ledgeraccount").fetchall())
    product_id = conn.execute("SELECT id FROM lending_creditproduct WHERE code = %s",
                              [PRODUCT_CODE]).fetchone()[0]
    bank_id = conn.execute("SELECT id FROM accounts_partnerbank WHERE code = %s",
                           [BANK_CODE]).fetchone()[0]
    return {"product": product_id, "bank": bank_id, "accounts": accounts}


def book_load(url: str, first_id: int, last_id: int, progress=print) -> dict:
    """Customers, lines, loans, fundings, instalments, repayments and the ledger for the ids
    first_id..last_id (one customer, line and loan per id, all three with that id). Returns the
    seconds of each part."""
    timings = {}
    T = BOOK_DAY
    params = {"lo": first_id, "hi": last_id, "day": T, "yesterday": T - timedelta(days=1),
              "overdue_cut": T - timedelta(days=GRACE_DAYS + 1)}

    def split(table, columns, source, key="id"):
        """The insert in two sessions at once, each for half of the ids (two cores)."""
        middle = (first_id + last_id) // 2

        def one(bounds):
            with psycopg.connect(url, autocommit=False) as session:
                session.execute("SET session_replication_role = replica")
                session.execute("SET work_mem = '256MB'")
                session.execute("SET synchronous_commit = off")
                rows = _insert(session, table, columns,
                               source.format(where=f"{key} BETWEEN %(a)s AND %(b)s"),
                               {**params, "a": bounds[0], "b": bounds[1]})
                session.commit()
                return rows

        with ThreadPoolExecutor(2) as pool:
            return sum(pool.map(one, [(first_id, middle), (middle + 1, last_id)]))

    def part(name, work):
        started = time.perf_counter()
        rows = work()
        timings[name] = time.perf_counter() - started
        progress(f"  {name:<28} {rows:>12,} rows {timings[name]:8.1f} s")

    with psycopg.connect(url, autocommit=False) as conn:
        # Triggers off while loading (pgtrigger's rules, foreign-key checks, the deferred balance
        # check): the load is checked once at the end instead, entry by entry.
        conn.execute("SET session_replication_role = replica")
        conn.execute("SET work_mem = '256MB'")
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("SET synchronous_commit = off")
        ref = reference_ids(conn)
        acc = ref["accounts"]
        params.update(product=ref["product"], bank=ref["bank"])
        saved = indexes_drop(conn)
        conn.commit()

        # One row per loan: its dates, terms and delinquency, used by every insert below.
        def staging():
            conn.execute("DROP TABLE IF EXISTS bench_book")
            conn.execute(f"""
                CREATE UNLOGGED TABLE bench_book AS
                WITH b AS (
                    SELECT g AS id,
                           %(day)s::date - (1 + {_h(1, 360)})::int AS disb,
                           (1200 * (1 + {_h(2, 40)}))::numeric(18, 2) AS principal,
                           (0.0003 + 0.0001 * {_h(3, 4)})::numeric(10, 8) AS rate,
                           {_u(4)} < 0.105 AS delinquent,
                           CASE WHEN {_u(5)} < 0.45 THEN 1 WHEN {_u(5)} < 0.65 THEN 2
                                WHEN {_u(5)} < 0.77 THEN 3 WHEN {_u(5)} < 0.86 THEN 4
                                WHEN {_u(5)} < 0.93 THEN 5 ELSE 6 END AS missed
                    FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) g
                ),
                n AS MATERIALIZED (
                    SELECT b.*,
                           (SELECT count(*) FROM generate_series(1, 12) s
                            WHERE (b.disb + make_interval(months => s))::date < %(day)s)::int
                             AS n_before,
                           (SELECT count(*) FROM generate_series(1, 12) s
                            WHERE (b.disb + make_interval(months => s))::date <= %(day)s)::int
                             AS n_due
                    FROM b
                ),
                m AS MATERIALIZED (
                    SELECT n.*,
                           CASE WHEN delinquent AND n_due > 0
                                THEN n_due - LEAST(missed, n_due) + 1
                                ELSE n_before + 1 END AS m0
                    FROM n
                ),
                -- nothing past the write-off threshold: those were written off before
                m1 AS MATERIALIZED (
                    SELECT m.id, m.disb, m.principal, m.rate,
                           CASE WHEN %(day)s::date - (m.disb + make_interval(months => m.m0))::date
                                     > {WRITE_OFF_DAYS - 1}
                                THEN m.m0 + 1 ELSE m.m0 END AS m0
                    FROM m
                )
                SELECT m1.*, d0.d0,
                       CASE WHEN d0.d0 <= %(overdue_cut)s THEN %(day)s::date - d0.d0 ELSE 0 END
                         AS dpd,
                       (m1.m0 - 1) * m1.principal / 12 AS principal_paid
                FROM m1, LATERAL (SELECT (m1.disb + make_interval(months => m1.m0))::date AS d0)
                     d0
                ORDER BY m1.id
            """, params)
            conn.execute("ALTER TABLE bench_book ADD PRIMARY KEY (id)")
            conn.execute("ANALYZE bench_book")
            conn.commit()
            return conn.execute("SELECT count(*) FROM bench_book").fetchone()[0]

        part("plan of the book", staging)

        def users():
            return split("accounts_user", {
                "id": "id", "password": "'!'", "last_login": "NULL", "is_superuser": "false",
                "username": "'close-' || id || '@bench.example'",
                "first_name": "''", "last_name": "''",
                "email": "'close-' || id || '@bench.example'", "is_staff": "false",
                "is_active": "true", "date_joined": "now()", "phone": "''"},
                "bench_book WHERE {where}")

        part("accounts_user", users)

        def profiles():
            # Distinct, well-formed identity numbers: region 110101, a birth date and a sequence
            # from the id, and the ISO 7064 MOD 11-2 check character.
            check = " + ".join(f"substr(f, {k + 1}, 1)::int * {w}" for k, w in enumerate(
                (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)))
            source = f"""(
                SELECT id, birth,
                       f || substr('10X98765432', ({check}) %% 11 + 1, 1) AS id_number
                FROM (SELECT id, birth, '110101' || to_char(birth, 'YYYYMMDD')
                             || lpad((id %% 1000)::text, 3, '0') AS f
                      FROM (SELECT id, date '1975-01-01' + (id / 1000)::int %% 10000 AS birth
                            FROM bench_book WHERE {{where}}) x) y) p"""
            return split("accounts_customerprofile", {
                "id": "id", "user_id": "id", "full_name": "'Customer ' || id",
                "birth_date": "birth", "monthly_income": "6000 + (id %% 20) * 1000",
                "employment_status": "'employed'", "employer_months": "24",
                "city": "'Beijing'", "city_tier": "1", "housing": "'rented'",
                "monthly_debt_payments": "0", "id_number": "id_number",
                "identity_verified": "true", "gender": "'unstated'",
                "consent_credit_check": "true", "consent_data_use": "true",
                "created_at": "now()", "updated_at": "now()"}, source)

        part("accounts_customerprofile", profiles)

        def lines():
            return split("lending_creditline", {
                "id": "id", "customer_id": "id", "product_id": "%(product)s",
                "credit_limit": "principal * 2",
                "outstanding_principal": "principal - principal_paid", "daily_rate": "rate",
                "status": "CASE WHEN dpd > 0 THEN 'frozen' ELSE 'active' END",
                "opened_on": "disb", "frozen_by": "CASE WHEN dpd > 0 THEN 'overdue' ELSE '' END",
                "freeze_reason": "CASE WHEN dpd > 0 THEN 'Payment overdue on loan ' || id "
                                 "ELSE '' END",
                "officer_cap": "NULL", "updated_at": "now()"}, "bench_book WHERE {where}")

        part("lending_creditline", lines)

        def loans():
            return split("lending_loan", {
                "id": "id", "line_id": "id", "principal": "principal", "term_months": "12",
                "method": "'equal_principal'", "daily_rate": "rate",
                "apr": "round(rate * 365 * 100, 2)", "disbursed_on": "disb",
                "outstanding_principal": "principal - principal_paid", "status": "'active'",
                "days_past_due": "dpd",
                "overdue_since": "CASE WHEN dpd > 0 THEN d0 END", "paid_off_on": "NULL",
                "written_off_on": "NULL", "created_at": "now()"}, "bench_book WHERE {where}")

        part("lending_loan", loans)

        def fundings():
            source = f"""(
                SELECT b.id, f.k, f.bank_id, f.share,
                       CASE WHEN f.k = 1 THEN b.principal * {BANK_SHARE}
                            ELSE b.principal - b.principal * {BANK_SHARE} END AS principal,
                       CASE WHEN f.k = 1
                            THEN round(b.principal * {BANK_SHARE} * (b.principal - b.principal_paid)
                                       / b.principal, 2)
                            ELSE (b.principal - b.principal_paid)
                                 - round(b.principal * {BANK_SHARE}
                                         * (b.principal - b.principal_paid) / b.principal, 2)
                       END AS outstanding
                FROM bench_book b
                CROSS JOIN (VALUES (1, %(bank)s::bigint, {BANK_SHARE}::numeric),
                                   (2, NULL::bigint, 1 - {BANK_SHARE}::numeric))
                     f(k, bank_id, share)
                WHERE {{where}}) f"""
            return split("lending_loanfunding", {
                "id": "2 * id - 2 + k", "loan_id": "id", "partner_bank_id": "bank_id",
                "share": "share", "principal": "principal",
                "outstanding_principal": "outstanding"}, source, key="b.id")

        part("lending_loanfunding", fundings)

        def instalments():
            # Equal principal: P/12 each (P is a multiple of 1,200), interest on the outstanding
            # for the period's actual days. Before the oldest unpaid one: paid on the due date.
            source = """(
                SELECT b.id AS loan_id, s.seq, s.due, s.prev, b.principal / 12 AS p_due,
                       round((b.principal - (s.seq - 1) * b.principal / 12) * b.rate
                             * (s.due - s.prev), 2) AS i_due,
                       s.seq < b.m0 AS paid,
                       s.seq >= b.m0 AND s.due <= %(overdue_cut)s AS overdue,
                       s.seq = b.m0 AND b.dpd > 0 AS oldest_overdue, b.dpd, b.m0
                FROM bench_book b
                CROSS JOIN LATERAL (
                    SELECT g AS seq, (b.disb + make_interval(months => g))::date AS due,
                           (b.disb + make_interval(months => g - 1))::date AS prev
                    FROM generate_series(1, 12) g) s
                WHERE {where}) i"""
            penalty = (f"CASE WHEN oldest_overdue THEN round((p_due + i_due) * "
                       f"{PENALTY_DAILY_RATE}, 2) * dpd ELSE 0 END")
            return split("lending_instalment", {
                "id": "(loan_id - 1) * 12 + seq", "loan_id": "loan_id", "seq": "seq",
                "due_date": "due", "period_start": "prev", "principal_due": "p_due",
                "interest_due": "i_due", "fee_due": "0", "penalty_due": penalty,
                "principal_paid": "CASE WHEN paid THEN p_due ELSE 0 END",
                "interest_paid": "CASE WHEN paid THEN i_due ELSE 0 END",
                "fee_paid": "0", "penalty_paid": "0", "interest_settled_to": "NULL",
                "interest_accrued": "due < %(day)s",
                "status": "CASE WHEN paid THEN 'paid' WHEN overdue THEN 'overdue' "
                          "ELSE 'pending' END",
                "paid_on": "CASE WHEN paid THEN due END"}, source, key="b.id")

        part("lending_instalment", instalments)

        def sums():
            conn.execute("DROP TABLE IF EXISTS bench_sums")
            conn.execute("""
                CREATE UNLOGGED TABLE bench_sums AS
                SELECT b.id, b.disb, b.principal, b.principal_paid,
                       b.principal * %(share)s AS bank_principal,
                       b.principal * %(share)s - round(b.principal * %(share)s
                           * (b.principal - b.principal_paid) / b.principal, 2) AS bank_paid,
                       (b.disb + make_interval(months => b.m0 - 1))::date AS last_paid_on,
                       i.interest_paid, round(i.interest_paid * %(share)s, 2) AS bank_interest,
                       i.interest_accrued, i.penalty
                FROM bench_book b JOIN (
                    SELECT loan_id, sum(interest_paid) AS interest_paid,
                           sum(interest_due - interest_paid)
                               FILTER (WHERE interest_accrued AND status <> 'paid')
                               AS interest_accrued,
                           sum(penalty_due) AS penalty
                    FROM lending_instalment WHERE loan_id BETWEEN %(lo)s AND %(hi)s
                    GROUP BY loan_id) i ON i.loan_id = b.id
                ORDER BY b.id
            """, {**params, "share": Decimal(BANK_SHARE)})
            conn.commit()
            return conn.execute("SELECT count(*) FROM bench_sums").fetchone()[0]

        part("(sums per loan)", sums)

        def repayments():
            return split("lending_repayment", {
                "loan_id": "id", "amount": "principal_paid + interest_paid",
                "principal": "principal_paid", "interest": "interest_paid", "fee": "0",
                "penalty": "0", "paid_on": "last_paid_on", "created_at": "now()"},
                "bench_sums WHERE principal_paid > 0 AND {where}")

        part("lending_repayment", repayments)

        def entries():
            # Ids 4 per loan: disbursement, repayment, accrued interest, penalty so far.
            source = """(
                SELECT s.id, e.k, e.kind, e.day, e.memo FROM bench_sums s
                CROSS JOIN LATERAL (VALUES
                    (1, 'disbursement', s.disb, 'Loan ' || s.id || ' disbursed', true),
                    (2, 'repayment', s.last_paid_on, 'Repayments to date', s.principal_paid > 0),
                    (3, 'interest_accrual', %(yesterday)s::date, 'Interest fallen due',
                     COALESCE(s.interest_accrued, 0) > 0),
                    (4, 'penalty_accrual', %(yesterday)s::date, 'Penalty interest',
                     s.penalty > 0)) e(k, kind, day, memo, wanted)
                WHERE e.wanted AND {where}) e"""
            return split("lending_journalentry", {
                "id": "4 * id - 4 + k", "kind": "kind", "business_date": "day",
                "loan_id": "id", "memo": "memo", "created_at": "now()"}, source, key="s.id")

        part("lending_journalentry", entries)

        def postings():
            a = {k: int(v) for k, v in {
                "cash": acc["cash"], "ir": acc["interest_receivable"],
                "ii": acc["interest_income"], "pr": acc["penalty_receivable"],
                "pi": acc["penalty_income"], "rp": acc["principal_receivable:platform"],
                "rb": acc[f"principal_receivable:{BANK_CODE}"],
                "fb": acc[f"partner_funding:{BANK_CODE}"],
                "pb": acc[f"partner_payable:{BANK_CODE}"]}.items()}
            source = f"""(
                SELECT s.id, l.k, l.account_id, l.amount FROM bench_sums s
                CROSS JOIN LATERAL (VALUES
                    (1, {a['rb']}, s.bank_principal),
                    (1, {a['fb']}, -s.bank_principal),
                    (1, {a['rp']}, s.principal - s.bank_principal),
                    (1, {a['cash']}, -(s.principal - s.bank_principal)),
                    (2, {a['cash']}, s.principal_paid + s.interest_paid),
                    (2, {a['ii']}, -(s.interest_paid - s.bank_interest)),
                    (2, {a['rp']}, -(s.principal_paid - s.bank_paid)),
                    (2, {a['rb']}, -s.bank_paid),
                    (2, {a['fb']}, s.bank_paid),
                    (2, {a['pb']}, -(s.bank_paid + s.bank_interest)),
                    (3, {a['ir']}, s.interest_accrued),
                    (3, {a['ii']}, -s.interest_accrued),
                    (4, {a['pr']}, s.penalty),
                    (4, {a['pi']}, -s.penalty)) l(k, account_id, amount)
                WHERE COALESCE(l.amount, 0) <> 0 AND (l.k <> 2 OR s.principal_paid > 0)
                  AND {{where}}) p"""
            return split("lending_posting", {
                "entry_id": "4 * id - 4 + k", "account_id": "account_id", "loan_id": "id",
                "amount": "amount"}, source, key="s.id")

        part("lending_posting", postings)

        def indexes():
            # Two sessions, each building every other index, largest tables first.
            def build(definitions):
                with psycopg.connect(url, autocommit=True) as session:
                    session.execute("SET maintenance_work_mem = '1GB'")
                    session.execute("SET max_parallel_maintenance_workers = 0")
                    for definition in definitions:
                        session.execute(definition)
                return len(definitions)

            weight = {"lending_instalment": 0, "lending_posting": 1, "lending_journalentry": 2}
            ordered = sorted(saved, key=lambda d: weight.get(d.split(" ON ")[1].split()[0]
                                                             .split(".")[-1], 9))
            with ThreadPoolExecutor(2) as pool:
                return sum(pool.map(build, [ordered[0::2], ordered[1::2]]))

        part("indexes rebuilt", indexes)

        def collectors():
            if last_id >= COLLECTOR_FIRST_ID:
                raise ValueError(f"customer ids must stay below {COLLECTOR_FIRST_ID:,}, where "
                                 "the collectors' ids start")
            made = _insert(conn, "accounts_user", {
                "id": "g", "password": "'!'", "last_login": "NULL", "is_superuser": "false",
                "username": "'collector-' || g || '@bench.example'",
                "first_name": "'Collector'", "last_name": "g::text",
                "email": "'collector-' || g || '@bench.example'", "is_staff": "true",
                "is_active": "true", "date_joined": "now()", "phone": "''"},
                "generate_series(%(c0)s::bigint, %(c1)s::bigint) g "
                "WHERE NOT EXISTS (SELECT 1 FROM accounts_user u WHERE u.id = g)",
                {"c0": COLLECTOR_FIRST_ID, "c1": COLLECTOR_FIRST_ID + COLLECTORS - 1})
            # The group is made by migrate (accounts.roles); made here too if it is missing, as
            # a name only, so the book never depends on that handler having run.
            conn.execute("INSERT INTO auth_group (name) VALUES (%s) ON CONFLICT DO NOTHING",
                         [COLLECTOR_GROUP])
            conn.execute("""
                INSERT INTO accounts_user_groups (user_id, group_id)
                SELECT g, (SELECT id FROM auth_group WHERE name = %(group)s)
                FROM generate_series(%(c0)s::bigint, %(c1)s::bigint) g
                ON CONFLICT DO NOTHING
            """, {"group": COLLECTOR_GROUP, "c0": COLLECTOR_FIRST_ID,
                  "c1": COLLECTOR_FIRST_ID + COLLECTORS - 1})
            conn.commit()
            return made

        part("collectors", collectors)

        def cases():
            # As the last close left them: one open case per customer past due, opened the
            # night its oldest overdue instalment passed the grace days, its figures as of the
            # book's day (tonight's close moves every one on a day), assigned round robin.
            source = f"""(
                SELECT b.id, b.dpd, b.d0 + {GRACE_DAYS + 1} AS opened, o.amount,
                       CASE WHEN b.dpd <= 30 THEN 'M1' WHEN b.dpd <= 60 THEN 'M2'
                            WHEN b.dpd <= 90 THEN 'M3' ELSE 'M4' END AS bucket
                FROM bench_book b JOIN (
                    SELECT loan_id, sum(principal_due + interest_due + fee_due + penalty_due
                                        - principal_paid - interest_paid - fee_paid
                                        - penalty_paid) AS amount
                    FROM lending_instalment
                    WHERE id BETWEEN (%(lo)s - 1) * 12 + 1 AND %(hi)s * 12
                      AND status = 'overdue'
                    GROUP BY loan_id) o ON o.loan_id = b.id
                WHERE b.dpd > 0 AND b.id BETWEEN %(lo)s AND %(hi)s) c"""
            return _insert(conn, "debt_collection_collectioncase", {
                "customer_id": "id", "status": "'open'", "bucket": "bucket",
                "days_past_due": "dpd", "amount_overdue": "amount", "opened_on": "opened",
                "closed_on": "NULL", "updated_on": "%(day)s",
                "assigned_to_id": f"{COLLECTOR_FIRST_ID} + (row_number() OVER "
                                  f"(PARTITION BY bucket ORDER BY id) - 1) %% {COLLECTORS}",
                "assigned_on": "opened", "promise_broken_on": "NULL"},
                source + " ORDER BY id", params)

        part("debt_collection_collectioncase", cases)

        def promises():
            source = f"""(
                SELECT k.id AS case_id, k.customer_id AS g, k.amount_overdue, k.assigned_to_id
                FROM debt_collection_collectioncase k
                WHERE k.status = 'open' AND k.customer_id BETWEEN %(lo)s AND %(hi)s) c
                WHERE {_u(7)} < {PROMISE_SHARE}"""
            return _insert(conn, "debt_collection_promisetopay", {
                "case_id": "case_id",
                "amount": f"greatest(round(amount_overdue * (0.3 + 0.7 * {_u(8)}), 2), 0.01)",
                "promised_for": f"%(day)s::date + {_h(9, 30)}::int",
                "made_by_id": "assigned_to_id",
                "made_on": f"%(day)s::date - 1 - {_h(10, 7)}::int", "status": "'pending'",
                "resolved_on": "NULL", "amount_paid": "NULL", "created_at": "now()"},
                source + " ORDER BY case_id", params)

        part("debt_collection_promisetopay", promises)

        def chain_heads():
            # Each case's audit trail so far (opened, assigned, a promise taken): only its head,
            # which is what the close reads and moves on.
            made = conn.execute("""
                INSERT INTO core_auditchainhead (subject_kind, subject_id, last_seq, last_hash)
                SELECT 'collection_case', k.id::text,
                       2 + (SELECT count(*) FROM debt_collection_promisetopay p
                            WHERE p.case_id = k.id),
                       encode(sha256(convert_to('case ' || k.id, 'UTF8')), 'hex')
                FROM debt_collection_collectioncase k
                WHERE k.customer_id BETWEEN %(lo)s AND %(hi)s
                ON CONFLICT DO NOTHING
            """, params).rowcount
            conn.commit()
            return made

        part("core_auditchainhead (cases)", chain_heads)

        def pay_later():
            made = close_book_pay_later.pay_later_load(conn, _insert, params, split)
            return sum(made.values())

        part("pay-later lines and statements", pay_later)

        def identities():
            for table in BOOK_TABLES + close_book_pay_later.TABLES:
                conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                             f"(SELECT COALESCE(max(id), 0) + 1 FROM {table}), false)")
            conn.execute("DROP TABLE bench_book")
            conn.execute("DROP TABLE bench_sums")
            conn.commit()
            return len(BOOK_TABLES)

        part("identities moved on", identities)

        def balanced():
            unbalanced = conn.execute(
                "SELECT count(*) FROM (SELECT entry_id FROM lending_posting "
                "WHERE loan_id BETWEEN %(lo)s AND %(hi)s GROUP BY entry_id "
                "HAVING sum(amount) <> 0) x", params).fetchone()[0]
            if unbalanced:
                raise RuntimeError(f"{unbalanced} journal entries of the book do not balance")
            return conn.execute("SELECT count(*) FROM lending_posting "
                                "WHERE loan_id BETWEEN %(lo)s AND %(hi)s", params).fetchone()[0]

        part("every entry balances", balanced)
    with psycopg.connect(url, autocommit=True) as conn:
        part("VACUUM ANALYZE", lambda: conn.execute("VACUUM ANALYZE") and 0)
    return timings


def book_profile(url: str) -> dict:
    """What the book holds: loans by bucket (days past due as of the book's day)."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute("""
            SELECT CASE WHEN days_past_due = 0 THEN 'current'
                        WHEN days_past_due <= 30 THEN 'M1' WHEN days_past_due <= 60 THEN 'M2'
                        WHEN days_past_due <= 90 THEN 'M3' ELSE 'M4' END, count(*)
            FROM lending_loan WHERE status = 'active' GROUP BY 1 ORDER BY 1""").fetchall()
        profile = dict(rows)
        profile["dpd_179"] = conn.execute(
            "SELECT count(*) FROM lending_loan WHERE days_past_due = %s",
            [WRITE_OFF_DAYS - 1]).fetchone()[0]
        profile["due_today"] = conn.execute(
            "SELECT count(*) FROM lending_instalment WHERE due_date = %s AND NOT interest_accrued",
            [BOOK_DAY]).fetchone()[0]
        profile["turning_overdue"] = conn.execute(
            "SELECT count(*) FROM lending_instalment WHERE status = 'pending' AND due_date = %s",
            [BOOK_DAY + timedelta(days=1) - timedelta(days=GRACE_DAYS + 1)]).fetchone()[0]
        profile["open_cases"] = conn.execute(
            "SELECT count(*) FROM debt_collection_collectioncase WHERE status = 'open'"
        ).fetchone()[0]
        profile["promises_due"] = conn.execute(
            "SELECT count(*) FROM debt_collection_promisetopay WHERE status = 'pending' "
            "AND promised_for <= %s", [BOOK_DAY]).fetchone()[0]
    return profile


# The floor -------------------------------------------------------------------------------------
#
# Each step's work as plain SQL, without the framework: no ORM, no chunks, no task queue, no
# Python per row, one transaction per step. Where a step writes audit events the floor writes
# them too (hash-chained with PostgreSQL's sha256), and notices as rows with their text; the
# e-mail that the product queues after commit is not part of any step's time, here or there.

_AUDIT_SQL = """
WITH p AS (
    SELECT d.*, COALESCE(h.last_seq, 0) + 1 AS seq, COALESCE(h.last_hash, '') AS prev
    FROM {drafts} d
    LEFT JOIN core_auditchainhead h
           ON h.subject_kind = d.subject_kind AND h.subject_id = d.subject_id
),
e AS (
    SELECT p.*, encode(sha256(convert_to(p.prev || jsonb_build_object(
        'actor', jsonb_build_object('kind', 'system', 'id', %(actor)s::text),
        'action', p.action, 'subject', jsonb_build_object('kind', p.subject_kind,
                                                         'id', p.subject_id),
        'seq', p.seq, 'payload', p.payload)::text, 'UTF8')), 'hex') AS hash
    FROM p
),
events AS (
    INSERT INTO core_auditevent (actor_kind, actor_id, actor_label, action, subject_kind,
                                 subject_id, seq, payload, prev_hash, hash, created_at)
    SELECT 'system', %(actor)s::text, '', action, subject_kind, subject_id, seq, payload, prev,
           hash, now() FROM e
    RETURNING 1
)
INSERT INTO core_auditchainhead (subject_kind, subject_id, last_seq, last_hash)
SELECT subject_kind, subject_id, seq, hash FROM e
ON CONFLICT (subject_kind, subject_id)
DO UPDATE SET last_seq = EXCLUDED.last_seq, last_hash = EXCLUDED.last_hash
"""


def _audit(conn, drafts_table: str, actor: str) -> None:
    """Audit events for the rows of a temporary table (subject_kind, subject_id, action,
    payload jsonb), each appended to its subject's chain."""
    conn.execute(_AUDIT_SQL.format(drafts=drafts_table), {"actor": actor})


def floor_accrue_interest_due(conn, day, ref):
    return conn.execute("""
        WITH due AS (
            UPDATE lending_instalment i SET interest_accrued = true
            WHERE i.interest_accrued = false AND i.due_date <= %(day)s::date
            RETURNING i.loan_id, i.interest_due - i.interest_paid AS amount
        ),
        per_loan AS (SELECT loan_id, SUM(amount) AS amount FROM due GROUP BY loan_id
                     HAVING SUM(amount) <> 0),
        entries AS (
            INSERT INTO lending_journalentry (kind, business_date, loan_id, memo, created_at)
            SELECT 'interest_accrual', %(day)s::date, loan_id, 'Interest fallen due', now()
            FROM per_loan ORDER BY loan_id RETURNING id, loan_id
        ),
        postings AS (
            INSERT INTO lending_posting (entry_id, account_id, loan_id, amount)
            SELECT e.id, a.account_id, e.loan_id, a.sign * p.amount
            FROM entries e JOIN per_loan p ON p.loan_id = e.loan_id
            CROSS JOIN (VALUES (%(receivable)s::bigint, 1), (%(income)s::bigint, -1))
                 AS a(account_id, sign)
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM due), (SELECT count(*) FROM postings)
    """, {"day": day, "receivable": ref["accounts"]["interest_receivable"],
          "income": ref["accounts"]["interest_income"]}).fetchone()[0]


def floor_mark_overdue(conn, day, ref):
    rows = 0
    for product_id, grace in conn.execute(
            "SELECT id, grace_days FROM lending_creditproduct").fetchall():
        cutoff = day + timedelta(days=1) - timedelta(days=grace + 1)
        rows += conn.execute("""
            UPDATE lending_instalment i SET status = 'overdue'
            FROM lending_loan l JOIN lending_creditline c ON c.id = l.line_id
            WHERE i.status = 'pending' AND i.due_date <= %(cutoff)s AND l.id = i.loan_id
              AND c.product_id = %(product)s
        """, {"cutoff": cutoff, "product": product_id}).rowcount
    return rows


def floor_accrue_penalty(conn, day, ref):
    return conn.execute("""
        WITH overdue AS (
            SELECT i.id, i.loan_id, i.seq, i.penalty_charged_through,
                   p.penalty_daily_rate AS rate,
                   i.principal_due - i.principal_paid + i.interest_due - i.interest_paid AS base,
                   CASE WHEN i.due_date = %(next_day)s::date - (p.grace_days + 1)
                        THEN p.grace_days ELSE 0 END AS late_days
            FROM lending_instalment i
            JOIN lending_loan l ON l.id = i.loan_id
            JOIN lending_creditline c ON c.id = l.line_id
            JOIN lending_creditproduct p ON p.id = c.product_id
            WHERE i.status = 'overdue' AND l.status = 'active'
        ),
        per_loan AS (
            SELECT loan_id, (array_agg(id ORDER BY seq))[1] AS oldest_id,
                   ROUND(SUM(base) * MAX(rate), 2)
                     + COALESCE(MAX(late_days)
                                * ROUND(SUM(base) FILTER (WHERE late_days > 0) * MAX(rate), 2), 0)
                     AS amount
            FROM overdue GROUP BY loan_id
            HAVING NOT COALESCE(bool_or(penalty_charged_through >= %(next_day)s::date), false)
        ),
        charged AS (
            UPDATE lending_instalment i
            SET penalty_due = i.penalty_due + p.amount,
                penalty_charged_through = %(next_day)s::date
            FROM per_loan p WHERE i.id = p.oldest_id AND p.amount > 0
            RETURNING p.loan_id, p.amount
        ),
        entry AS (
            INSERT INTO lending_journalentry (kind, business_date, loan_id, memo, created_at)
            SELECT 'penalty_accrual', %(day)s::date, NULL, 'Penalty interest', now()
            WHERE EXISTS (SELECT 1 FROM charged)
            RETURNING id
        ),
        postings AS (
            INSERT INTO lending_posting (entry_id, account_id, loan_id, amount)
            SELECT e.id, %(receivable)s, c.loan_id, c.amount FROM entry e CROSS JOIN charged c
            UNION ALL
            SELECT e.id, %(income)s, NULL, -SUM(c.amount) FROM entry e CROSS JOIN charged c
            GROUP BY e.id
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM charged), (SELECT count(*) FROM postings)
    """, {"day": day, "next_day": day + timedelta(days=1),
          "receivable": ref["accounts"]["penalty_receivable"],
          "income": ref["accounts"]["penalty_income"]}).fetchone()[0]


def floor_set_days_past_due(conn, day, ref):
    return conn.execute("""
        UPDATE lending_loan l SET days_past_due = v.days, overdue_since = v.oldest
        FROM (
            SELECT COALESCE(o.loan_id, d.id) AS id, o.oldest,
                   COALESCE(%(next_day)s::date - o.oldest, 0) AS days
            FROM (SELECT loan_id, MIN(due_date) AS oldest FROM lending_instalment
                  WHERE status = 'overdue' GROUP BY loan_id) o
            FULL JOIN (SELECT id FROM lending_loan
                       WHERE overdue_since IS NOT NULL AND status = 'active') d
                      ON d.id = o.loan_id
        ) v
        WHERE l.id = v.id AND l.status = 'active' AND l.days_past_due <> v.days
    """, {"next_day": day + timedelta(days=1)}).rowcount


def floor_freeze_or_cure_lines(conn, day, ref):
    next_day = day + timedelta(days=1)
    conn.execute("""
        CREATE TEMP TABLE floor_delinquent ON COMMIT DROP AS
        SELECT customer_id, min(loan_id) AS loan_id FROM (
            SELECT c.customer_id, l.id AS loan_id
            FROM lending_loan l JOIN lending_creditline c ON c.id = l.line_id
            WHERE (l.overdue_since IS NOT NULL AND l.status = 'active')
               OR l.status = 'written_off'
            UNION ALL
            -- A pay-later statement past due, or a pay-later line written off, as the rule.
            SELECT c.customer_id, NULL FROM lending_statement s
            JOIN lending_creditline c ON c.id = s.line_id
            WHERE s.overdue_since IS NOT NULL AND s.status = 'open'
            UNION ALL
            SELECT c.customer_id, NULL FROM lending_linewriteoff w
            JOIN lending_creditline c ON c.id = w.line_id
        ) d GROUP BY customer_id
    """)
    conn.execute("""
        CREATE TEMP TABLE floor_changed ON COMMIT DROP AS
        WITH frozen AS (
            UPDATE lending_creditline c
            SET status = 'frozen', frozen_by = 'overdue',
                freeze_reason = COALESCE('Payment overdue on loan ' || d.loan_id,
                                         'Payment overdue on the pay-later statement'),
                updated_at = now()
            FROM floor_delinquent d
            WHERE c.customer_id = d.customer_id AND c.status = 'active'
            RETURNING c.id, c.customer_id, c.freeze_reason, true AS frozen
        ),
        cured AS (
            UPDATE lending_creditline c
            SET status = 'active', frozen_by = '', freeze_reason = '', updated_at = now()
            WHERE c.status = 'frozen' AND c.frozen_by = 'overdue'
              AND NOT EXISTS (SELECT 1 FROM floor_delinquent d
                              WHERE d.customer_id = c.customer_id)
            RETURNING c.id, c.customer_id, ''::varchar AS freeze_reason, false AS frozen
        )
        SELECT * FROM frozen UNION ALL SELECT * FROM cured
    """)
    conn.execute("""
        CREATE TEMP TABLE floor_drafts ON COMMIT DROP AS
        SELECT 'line'::text AS subject_kind, id::text AS subject_id,
               CASE WHEN frozen THEN 'line.freeze' ELSE 'line.unfreeze' END AS action,
               jsonb_build_object('from', CASE WHEN frozen THEN 'active' ELSE 'frozen' END,
                                  'to', CASE WHEN frozen THEN 'frozen' ELSE 'active' END,
                                  'reason', freeze_reason, 'business_date', %(day)s::text,
                                  'frozen_by', CASE WHEN frozen THEN 'overdue' ELSE '' END)
                 AS payload
        FROM floor_changed
    """, {"day": day})
    _audit(conn, "floor_drafts", "freeze_overdue")
    conn.execute("""
        INSERT INTO accounts_notice (customer_id, kind, key, subject, body, business_date,
                                     created_at)
        SELECT customer_id, 'account',
               CASE WHEN bool_or(frozen) THEN 'line-frozen:' ELSE 'line-cured:' END
                 || %(next_day)s::text,
               CASE WHEN bool_or(frozen) THEN 'Your credit is on hold'
                    ELSE 'Your credit is open again' END,
               'Your lines ' || string_agg(id::text, ', ') || ' changed: '
                 || max(freeze_reason), %(next_day)s::date, now()
        FROM floor_changed GROUP BY customer_id, frozen
        ON CONFLICT (customer_id, key) DO NOTHING
    """, {"next_day": next_day})
    return conn.execute("SELECT count(*) FROM floor_changed").fetchone()[0]


def floor_send_dunning_notices(conn, day, ref):
    next_day = day + timedelta(days=1)
    rows = 0
    for product_id, points in conn.execute(
            "SELECT id, notice_days FROM lending_creditproduct").fetchall():
        points = sorted(set(points or []))
        ahead = [(p, next_day - timedelta(days=p)) for p in points if p <= 0]
        past = [(p, next_day - timedelta(days=p)) for p in points if p > 0]
        rows += conn.execute("""
            WITH points(point, due) AS (
                SELECT * FROM unnest(%(points)s::int[], %(dues)s::date[])
            ),
            reminders AS (
                SELECT DISTINCT i.loan_id, c.customer_id, pt.point, pt.due
                FROM points pt
                JOIN lending_instalment i ON i.due_date = pt.due
                JOIN lending_loan l ON l.id = i.loan_id
                JOIN lending_creditline c ON c.id = l.line_id
                WHERE l.status = 'active' AND c.product_id = %(product)s AND (
                    (pt.point <= 0 AND i.status = 'pending')
                    OR (pt.point > 0 AND i.status IN ('pending', 'overdue')
                        AND NOT EXISTS (SELECT 1 FROM lending_instalment o
                                        WHERE o.loan_id = i.loan_id
                                          AND o.status IN ('pending', 'overdue')
                                          AND o.due_date < i.due_date)))
            ),
            amounts AS (
                SELECT r.*, (SELECT sum(u.principal_due + u.interest_due + u.fee_due
                                        + u.penalty_due - u.principal_paid - u.interest_paid
                                        - u.fee_paid - u.penalty_paid)
                             FROM lending_instalment u
                             WHERE u.loan_id = r.loan_id AND u.status IN ('pending', 'overdue')
                               AND u.due_date <= CASE WHEN r.point <= 0 THEN r.due
                                                      ELSE %(next_day)s::date END) AS amount
                FROM reminders r
            )
            INSERT INTO accounts_notice (customer_id, kind, key, subject, body, business_date,
                                         created_at)
            SELECT customer_id, 'dunning',
                   'dunning:loan:' || loan_id || ':' || point || ':' || due::text,
                   CASE WHEN point <= 0 THEN 'Payment due on ' || to_char(due, 'FMDD FMMonth')
                        ELSE 'Payment overdue: loan ' || loan_id END,
                   'Your payment of ¥' || to_char(amount, 'FM999,999,990.00') || ' on loan '
                     || loan_id || CASE WHEN point < 0 THEN ' is due on '
                                             || to_char(due, 'FMDD FMMonth') || ', in '
                                             || -point || ' days. Paying on time keeps your '
                                             'credit open and costs nothing extra.'
                                        WHEN point = 0 THEN ' is due today, '
                                             || to_char(due, 'FMDD FMMonth') || '. Please pay '
                                             'today to avoid it becoming overdue.'
                                        ELSE ' was due on ' || to_char(due, 'FMDD FMMonth')
                                             || ' and is now ' || point || ' days late. Please '
                                             'pay as soon as you can: once the grace days are '
                                             'over, penalty interest is charged for every day '
                                             'past the due date, and you cannot borrow while '
                                             'a payment is overdue.' END,
                   %(next_day)s::date, now()
            FROM amounts WHERE amount > 0
            ON CONFLICT (customer_id, key) DO NOTHING
        """, {"points": [p for p, _ in ahead + past], "dues": [d for _, d in ahead + past],
              "product": product_id, "next_day": next_day}).rowcount
    return rows


def floor_write_off(conn, day, ref):
    acc = ref["accounts"]
    conn.execute("""
        CREATE TEMP TABLE floor_targets ON COMMIT DROP AS
        SELECT l.id, l.outstanding_principal, l.days_past_due, p.write_off_days,
               COALESCE((SELECT sum(amount) FROM lending_posting t
                         WHERE t.loan_id = l.id AND t.account_id = %(ir)s), 0) AS interest,
               COALESCE((SELECT sum(amount) FROM lending_posting t
                         WHERE t.loan_id = l.id AND t.account_id = %(pr)s), 0) AS penalty
        FROM lending_loan l JOIN lending_creditline c ON c.id = l.line_id
        JOIN lending_creditproduct p ON p.id = c.product_id
        WHERE l.status = 'active' AND l.overdue_since IS NOT NULL
          AND l.days_past_due >= p.write_off_days
        ORDER BY l.id
    """, {"ir": acc["interest_receivable"], "pr": acc["penalty_receivable"]})
    conn.execute("""
        WITH w AS (
            INSERT INTO lending_writeoff (loan_id, business_date, principal, interest_reversed,
                                          penalty_reversed, days_past_due, reason, created_at)
            SELECT id, %(day)s, outstanding_principal, interest, penalty, days_past_due,
                   days_past_due || ' days past due (the product writes off at '
                     || write_off_days || ')', now()
            FROM floor_targets ORDER BY id RETURNING id, loan_id
        )
        INSERT INTO lending_writeoffshare (write_off_id, partner_bank_id, principal)
        SELECT w.id, f.partner_bank_id, f.outstanding_principal
        FROM w JOIN lending_loanfunding f ON f.loan_id = w.loan_id
        WHERE f.outstanding_principal > 0
    """, {"day": day})
    conn.execute("""
        WITH legs AS (
            SELECT f.loan_id, CASE WHEN b.id IS NULL THEN %(loss)s ELSE fund.id END AS account,
                   f.outstanding_principal AS amount
            FROM floor_targets t JOIN lending_loanfunding f ON f.loan_id = t.id
            LEFT JOIN accounts_partnerbank b ON b.id = f.partner_bank_id
            LEFT JOIN lending_ledgeraccount fund ON fund.code = 'partner_funding:' || b.code
            UNION ALL
            SELECT f.loan_id, rec.id, -f.outstanding_principal
            FROM floor_targets t JOIN lending_loanfunding f ON f.loan_id = t.id
            LEFT JOIN accounts_partnerbank b ON b.id = f.partner_bank_id
            JOIN lending_ledgeraccount rec
              ON rec.code = 'principal_receivable:' || COALESCE(b.code, 'platform')
            UNION ALL SELECT id, %(ii)s, interest FROM floor_targets
            UNION ALL SELECT id, %(ir)s, -interest FROM floor_targets
            UNION ALL SELECT id, %(pi)s, penalty FROM floor_targets
            UNION ALL SELECT id, %(pr)s, -penalty FROM floor_targets
        ),
        entries AS (
            INSERT INTO lending_journalentry (kind, business_date, loan_id, memo, created_at)
            SELECT 'write_off', %(day)s, id, 'Loan ' || id || ' written off', now()
            FROM floor_targets ORDER BY id RETURNING id, loan_id
        )
        INSERT INTO lending_posting (entry_id, account_id, loan_id, amount)
        SELECT e.id, l.account, l.loan_id, l.amount
        FROM entries e JOIN legs l ON l.loan_id = e.loan_id WHERE l.amount <> 0
    """, {"day": day, "loss": acc["credit_loss"], "ii": acc["interest_income"],
          "ir": acc["interest_receivable"], "pi": acc["penalty_income"],
          "pr": acc["penalty_receivable"]})
    rows = conn.execute("""
        UPDATE lending_loan l SET status = 'written_off', written_off_on = %(day)s
        FROM floor_targets t WHERE l.id = t.id AND l.status = 'active'
    """, {"day": day}).rowcount
    conn.execute("""
        CREATE TEMP TABLE floor_drafts ON COMMIT DROP AS
        SELECT 'loan'::text AS subject_kind, id::text AS subject_id,
               'loan.write_off'::text AS action,
               jsonb_build_object('principal', outstanding_principal::text,
                                  'interest_reversed', interest::text,
                                  'penalty_reversed', penalty::text,
                                  'days_past_due', days_past_due) AS payload
        FROM floor_targets
    """)
    _audit(conn, "floor_drafts", "write_off")
    return rows


def floor_snapshot_buckets(conn, day, ref):
    # The cash loans by bucket, then the pay-later lines by their open or written-off
    # statement's bucket (debt_collection/snapshots.py).
    bucket = """CASE WHEN {t}.status = 'written_off' THEN 'written_off'
                     WHEN {t}.days_past_due = 0 THEN 'current'
                     WHEN {t}.days_past_due <= 30 THEN 'M1' WHEN {t}.days_past_due <= 60 THEN 'M2'
                     WHEN {t}.days_past_due <= 90 THEN 'M3' ELSE 'M4' END"""
    loans = conn.execute(f"""
        INSERT INTO debt_collection_bucketsnapshot (business_date, product_id, bucket, loans,
                                                    outstanding_principal)
        SELECT %(day)s, c.product_id, {bucket.format(t="l")}, count(*),
               sum(l.outstanding_principal)
        FROM lending_loan l JOIN lending_creditline c ON c.id = l.line_id
        WHERE l.status IN ('active', 'written_off')
        GROUP BY 1, 2, 3
        ON CONFLICT DO NOTHING
    """, {"day": day}).rowcount
    return loans + conn.execute(f"""
        INSERT INTO debt_collection_bucketsnapshot (business_date, product_id, bucket, loans,
                                                    outstanding_principal)
        SELECT %(day)s, c.product_id, {bucket.format(t="s")}, count(*),
               sum(CASE WHEN s.status = 'written_off'
                        THEN s.purchases_due - s.purchases_paid + s.parts_due - s.parts_paid
                        ELSE c.outstanding_principal END)
        FROM lending_statement s JOIN lending_creditline c ON c.id = s.line_id
        WHERE s.status IN ('open', 'written_off')
        GROUP BY 1, 2, 3
        ON CONFLICT DO NOTHING
    """, {"day": day}).rowcount


def floor_sync_collection_cases(conn, day, ref):
    next_day = day + timedelta(days=1)
    # Each customer in collections with their case's figures: loans past due (what is overdue
    # on them under the product's grace days), and the written-off loans still owed of those
    # customers and of those with an open case.
    conn.execute("""
        CREATE TEMP TABLE floor_positions ON COMMIT DROP AS
        WITH late AS (
            SELECT c.customer_id, l.days_past_due AS days,
                   GREATEST(COALESCE((
                       SELECT sum(i.principal_due + i.interest_due + i.fee_due + i.penalty_due
                                  - i.principal_paid - i.interest_paid - i.fee_paid
                                  - i.penalty_paid)
                       FROM lending_instalment i
                       WHERE i.loan_id = l.id AND i.status <> 'paid'
                         AND i.due_date <= %(next_day)s::date - (p.grace_days + 1)), 0), 0)
                     AS amount,
                   false AS written_off
            FROM lending_loan l JOIN lending_creditline c ON c.id = l.line_id
            JOIN lending_creditproduct p ON p.id = c.product_id
            WHERE l.overdue_since IS NOT NULL AND l.status = 'active'
        ),
        gone AS (
            SELECT c.customer_id, w.days_past_due AS days,
                   w.principal + w.interest_reversed + w.penalty_reversed
                     - COALESCE((SELECT sum(r.amount) FROM lending_recovery r
                                 WHERE r.loan_id = w.loan_id), 0) AS amount,
                   true AS written_off
            FROM lending_writeoff w JOIN lending_loan l ON l.id = w.loan_id
            JOIN lending_creditline c ON c.id = l.line_id
            WHERE l.status = 'written_off' AND c.customer_id IN (
                SELECT customer_id FROM late
                UNION SELECT customer_id FROM debt_collection_collectioncase
                      WHERE status = 'open')
        )
        SELECT customer_id,
               CASE WHEN bool_or(written_off) THEN 'written_off'
                    WHEN max(days) = 0 THEN 'current' WHEN max(days) <= 30 THEN 'M1'
                    WHEN max(days) <= 60 THEN 'M2' WHEN max(days) <= 90 THEN 'M3'
                    ELSE 'M4' END AS bucket,
               max(days) AS days, sum(amount) AS amount
        FROM (SELECT * FROM late UNION ALL SELECT * FROM gone WHERE amount > 0) x
        GROUP BY customer_id
    """, {"next_day": next_day})
    # Open, update and close in one statement: every part sees the cases as they were.
    conn.execute("""
        CREATE TEMP TABLE floor_case_changes ON COMMIT DROP AS
        WITH updated AS (
            UPDATE debt_collection_collectioncase k
            SET bucket = p.bucket, days_past_due = p.days, amount_overdue = p.amount,
                updated_on = %(next_day)s
            FROM floor_positions p
            WHERE k.status = 'open' AND k.customer_id = p.customer_id
              AND (k.bucket, k.days_past_due, k.amount_overdue, k.updated_on)
                  IS DISTINCT FROM (p.bucket, p.days, p.amount, %(next_day)s::date)
            RETURNING k.id, k.customer_id, 'update'::text AS change, k.bucket,
                      k.days_past_due, k.amount_overdue
        ),
        closed AS (
            UPDATE debt_collection_collectioncase k
            SET status = 'closed', closed_on = %(next_day)s, updated_on = %(next_day)s
            WHERE k.status = 'open' AND NOT EXISTS (SELECT 1 FROM floor_positions p
                                                    WHERE p.customer_id = k.customer_id)
            RETURNING k.id, k.customer_id, 'close'::text AS change, k.bucket,
                      k.days_past_due, k.amount_overdue
        ),
        opened AS (
            INSERT INTO debt_collection_collectioncase (customer_id, status, bucket,
                                                        days_past_due, amount_overdue,
                                                        opened_on, updated_on)
            SELECT p.customer_id, 'open', p.bucket, p.days, p.amount, %(next_day)s,
                   %(next_day)s
            FROM floor_positions p
            WHERE NOT EXISTS (SELECT 1 FROM debt_collection_collectioncase k
                              WHERE k.status = 'open' AND k.customer_id = p.customer_id)
            ORDER BY p.customer_id
            RETURNING id, customer_id, 'open'::text AS change, bucket, days_past_due,
                      amount_overdue
        )
        SELECT * FROM updated UNION ALL SELECT * FROM closed UNION ALL SELECT * FROM opened
    """, {"next_day": next_day})
    conn.execute("""
        CREATE TEMP TABLE floor_drafts ON COMMIT DROP AS
        SELECT 'collection_case'::text AS subject_kind, id::text AS subject_id,
               'collection_case.' || change AS action,
               CASE WHEN change = 'open'
                    THEN jsonb_build_object('customer', customer_id, 'bucket', bucket,
                                            'days_past_due', days_past_due,
                                            'amount_overdue', amount_overdue::text,
                                            'business_date', %(next_day)s::text)
                    ELSE jsonb_build_object('reason', 'Nothing is overdue any more.',
                                            'business_date', %(next_day)s::text) END
                 AS payload
        FROM floor_case_changes WHERE change IN ('open', 'close')
    """, {"next_day": next_day})
    _audit(conn, "floor_drafts", "sync_collection_cases")
    # Round robin within each bucket: each waiting case, in id order, to the collector with the
    # fewest open cases in the bucket, ties to the lowest id. Taking the cases one by one so
    # walks every collector's free places (load, load + 1, ...) in (place, collector) order:
    # the n-th waiting case of a bucket takes its n-th place.
    conn.execute("""
        CREATE TEMP TABLE floor_assigned ON COMMIT DROP AS
        WITH collectors AS (
            SELECT u.id FROM accounts_user u
            JOIN accounts_user_groups ug ON ug.user_id = u.id
            JOIN auth_group g ON g.id = ug.group_id
            WHERE g.name = %(group)s AND u.is_active
        ),
        waiting AS (
            SELECT id, bucket, row_number() OVER (PARTITION BY bucket ORDER BY id) AS n
            FROM debt_collection_collectioncase
            WHERE status = 'open' AND assigned_to_id IS NULL
        ),
        loads AS (
            SELECT c.id AS collector, w.bucket, w.waiting,
                   (SELECT count(*) FROM debt_collection_collectioncase k
                    WHERE k.status = 'open' AND k.assigned_to_id = c.id
                      AND k.bucket = w.bucket) AS load
            FROM collectors c
            CROSS JOIN (SELECT bucket, count(*) AS waiting FROM waiting GROUP BY bucket) w
        ),
        places AS (
            SELECT l.collector, l.bucket,
                   row_number() OVER (PARTITION BY l.bucket ORDER BY v.place, l.collector) AS n
            FROM loads l CROSS JOIN LATERAL generate_series(l.load, l.load + l.waiting - 1)
                 AS v(place)
        ),
        assigned AS (
            UPDATE debt_collection_collectioncase k
            SET assigned_to_id = p.collector, assigned_on = %(next_day)s
            FROM waiting w JOIN places p ON p.bucket = w.bucket AND p.n = w.n
            WHERE k.id = w.id
            RETURNING k.id, p.collector
        )
        SELECT * FROM assigned
    """, {"group": COLLECTOR_GROUP, "next_day": next_day})
    conn.execute("DROP TABLE floor_drafts")
    conn.execute("""
        CREATE TEMP TABLE floor_drafts ON COMMIT DROP AS
        SELECT 'collection_case'::text AS subject_kind, id::text AS subject_id,
               'collection_case.assign'::text AS action,
               jsonb_build_object('to', collector, 'from', NULL,
                                  'reason', 'Round robin within the bucket.',
                                  'business_date', %(next_day)s::text) AS payload
        FROM floor_assigned
    """, {"next_day": next_day})
    _audit(conn, "floor_drafts", "sync_collection_cases")
    return conn.execute("SELECT (SELECT count(*) FROM floor_case_changes) "
                        "+ (SELECT count(*) FROM floor_assigned)").fetchone()[0]


def floor_check_promises(conn, day, ref):
    # What each due promise's customer paid on any of their loans from the day it was made to
    # its date: repayments and recoveries.
    conn.execute("""
        CREATE TEMP TABLE floor_promises ON COMMIT DROP AS
        SELECT p.id, p.case_id, p.amount,
               COALESCE((SELECT sum(r.amount) FROM lending_repayment r
                         JOIN lending_loan l ON l.id = r.loan_id
                         JOIN lending_creditline c ON c.id = l.line_id
                         WHERE c.customer_id = k.customer_id
                           AND r.paid_on BETWEEN p.made_on AND p.promised_for), 0)
               + COALESCE((SELECT sum(r.amount) FROM lending_recovery r
                           JOIN lending_loan l ON l.id = r.loan_id
                           JOIN lending_creditline c ON c.id = l.line_id
                           WHERE c.customer_id = k.customer_id
                             AND r.received_on BETWEEN p.made_on AND p.promised_for), 0)
                 AS paid
        FROM debt_collection_promisetopay p
        JOIN debt_collection_collectioncase k ON k.id = p.case_id
        WHERE p.status = 'pending' AND p.promised_for <= %(day)s
    """, {"day": day})
    rows = conn.execute("""
        UPDATE debt_collection_promisetopay p
        SET status = CASE WHEN f.paid >= f.amount THEN 'kept' ELSE 'broken' END,
            resolved_on = %(day)s, amount_paid = f.paid
        FROM floor_promises f WHERE p.id = f.id AND p.status = 'pending'
    """, {"day": day}).rowcount
    conn.execute("""
        UPDATE debt_collection_collectioncase k SET promise_broken_on = %(day)s
        FROM floor_promises f WHERE k.id = f.case_id AND f.paid < f.amount
    """, {"day": day})
    conn.execute("""
        CREATE TEMP TABLE floor_drafts ON COMMIT DROP AS
        SELECT 'collection_case'::text AS subject_kind, case_id::text AS subject_id,
               'collection_case.promise_'
                 || CASE WHEN paid >= amount THEN 'kept' ELSE 'broken' END AS action,
               jsonb_build_object('promise', id, 'amount', amount::text, 'paid', paid::text,
                                  'business_date', %(day)s::text) AS payload
        FROM floor_promises
    """, {"day": day})
    _audit(conn, "floor_drafts", "check_promises")
    return rows


def floor_snapshot_vintages(conn, day, ref):
    # The last 24 months of disbursements (operations.vintages.VINTAGE_MONTHS) by product and
    # month; 30+ is active and 30 or more days past due, or written off.
    return conn.execute("""
        INSERT INTO operations_vintagesnapshot (business_date, product_id, vintage, loans,
                                                principal, loans_30_plus, principal_30_plus)
        SELECT %(day)s, c.product_id, date_trunc('month', l.disbursed_on)::date, count(*),
               sum(l.principal),
               count(*) FILTER (WHERE l.status = 'written_off'
                                OR (l.status = 'active' AND l.days_past_due >= 30)),
               COALESCE(sum(l.outstanding_principal)
                        FILTER (WHERE l.status = 'written_off'
                                OR (l.status = 'active' AND l.days_past_due >= 30)), 0)
        FROM lending_loan l JOIN lending_creditline c ON c.id = l.line_id
        WHERE l.disbursed_on >= (date_trunc('month', %(day)s::date)
                                 - interval '23 months')::date
        GROUP BY 2, 3
        ON CONFLICT DO NOTHING
    """, {"day": day}).rowcount


def floor_advance_business_date(conn, day, ref):
    return conn.execute("UPDATE lending_businessdate SET current = current + 1 "
                        "WHERE current = %s", [day]).rowcount


FLOORS = {name[len("floor_"):]: function for name, function in dict(globals()).items()
          if name.startswith("floor_") and callable(function)}


def floor_run(url: str, day: date, steps: list[str], progress=print) -> dict[str, tuple]:
    """Each step's floor, in the close's order, one transaction each, timed with its COMMIT.
    Returns {step: (rows, seconds)}; a step without a floor is left out."""
    results = {}
    with psycopg.connect(url, autocommit=False) as conn:
        # The session settings of the product's connections (config/settings/base.py): every
        # trigger still runs, and django-pgtrigger's check of this setting reads it without
        # raising; no JIT compilation, which costs a plan like the reminders' a second or more
        # and would flatter every ratio to the floor.
        conn.execute("SET pgtrigger.ignore = '{}'")
        conn.execute("SET jit = off")
        # And the planner settings of the close's chunks, so both are planned alike (the
        # floor would otherwise get parallel workers a chunk does without).
        from operations.nightly_close import CHUNK_PLANNER_SETTINGS

        conn.execute(CHUNK_PLANNER_SETTINGS.replace("SET LOCAL", "SET"))
        ref = reference_ids(conn)
        conn.commit()
        for step in steps:
            work = FLOORS.get(step)
            if work is None:
                progress(f"  {step:<24} (no floor written for this step)")
                continue
            started = time.perf_counter()
            rows = work(conn, day, ref)
            conn.commit()
            results[step] = (rows, time.perf_counter() - started)
            progress(f"  {step:<24} {rows:>10,} rows {results[step][1]:8.2f} s")
    return results
