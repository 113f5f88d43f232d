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
  and its penalty so far as receivables. Every entry balances (checked after the load).

The floor: the same work as each close step, as plain SQL statements, one transaction per step,
timed with its COMMIT."""

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from decimal import Decimal

import psycopg

BOOK_DAY = date(2026, 6, 15)
GRACE_DAYS = 3
PENALTY_DAILY_RATE = "0.00050000"
WRITE_OFF_DAYS = 180
PRODUCT_CODE = "bench-cash"
BANK_CODE = "bench-bank"
BANK_SHARE = "0.70"

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

        def identities():
            for table in BOOK_TABLES:
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
        SELECT c.customer_id, min(l.id) AS loan_id
        FROM lending_loan l JOIN lending_creditline c ON c.id = l.line_id
        WHERE (l.overdue_since IS NOT NULL AND l.status = 'active') OR l.status = 'written_off'
        GROUP BY c.customer_id
    """)
    conn.execute("""
        CREATE TEMP TABLE floor_changed ON COMMIT DROP AS
        WITH frozen AS (
            UPDATE lending_creditline c
            SET status = 'frozen', frozen_by = 'overdue',
                freeze_reason = 'Payment overdue on loan ' || d.loan_id, updated_at = now()
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
    return conn.execute("""
        INSERT INTO debt_collection_bucketsnapshot (business_date, product_id, bucket, loans,
                                                    outstanding_principal)
        SELECT %(day)s, c.product_id,
               CASE WHEN l.status = 'written_off' THEN 'written_off'
                    WHEN l.days_past_due = 0 THEN 'current'
                    WHEN l.days_past_due <= 30 THEN 'M1' WHEN l.days_past_due <= 60 THEN 'M2'
                    WHEN l.days_past_due <= 90 THEN 'M3' ELSE 'M4' END,
               count(*), sum(l.outstanding_principal)
        FROM lending_loan l JOIN lending_creditline c ON c.id = l.line_id
        WHERE l.status IN ('active', 'written_off')
        GROUP BY 1, 2, 3
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
