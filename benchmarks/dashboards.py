"""How long does each dashboard on the admin index take on the benchmark book?

    .venv/bin/python benchmarks/dashboards.py [--database-url postgres://.../bench_close_run] \
        [--history-days 730] [--decisions N] [--repeat 5]

Runs against the copy the close benchmark leaves closed (`benchmarks/close.py --keep`, database
`bench_close_run`): its loans, its collection cases and the one night of snapshots its close
wrote. A book that has lived has more than that, and the dashboards read exactly that history,
so first the script adds what is missing, set-based and only once (a rerun adds nothing):

* the bucket and vintage snapshots and the models' score distributions of `--history-days`
  nights before the close's night, copied from that night's rows (figures varied a little, each
  vintage shifted back a month per month, so every night holds as many vintages as the book);
  if the close left no vintage snapshot (a book closed before the step existed) it is taken
  first, and its time printed: that is the close step's cost on this book;
* `--decisions` credit decisions (default: one per customer) spread over the last year, 80 %
  approved across the grades, with inputs, rules and contributions the size a real decision
  stores (their rows' width is what a scan of the table costs).

Then each dashboard, exactly as the admin index builds it (the queries, the SVG, the template
with its tables), `--repeat` times; printed: one line per dashboard with the median and the
target, under a second. The monthly approvals read the decisions through their business-date
index (risk's migration 0007); the script says whether the book has it.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bench_close_run"
TARGET_S = 1.0
BOOK_TABLES = [("loans", "lending_loan"), ("decisions", "risk_creditdecision"),
               ("repayments", "lending_repayment"),
               ("collection cases", "debt_collection_collectioncase"),
               ("bucket snapshots", "debt_collection_bucketsnapshot"),
               ("vintage snapshots", "operations_vintagesnapshot"),
               ("score distributions", "risk_scoredistribution")]


def say(text=""):
    print(text, flush=True)


def django_setup(url: str):
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/8")
    os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def sql(statement, params=None):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params or {})
        return cursor.rowcount


def scalar(statement, params=None):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params or {})
        return cursor.fetchone()[0]


# The history a lived book has ------------------------------------------------------------------

def history_add(days: int, decisions: int | None):
    from operations.vintages import vintages_snapshot_take

    night = scalar("SELECT max(business_date) FROM debt_collection_bucketsnapshot")
    if night is None:
        raise SystemExit("No bucket snapshot: run benchmarks/close.py --keep first, then point "
                         "--database-url at its closed copy (bench_close_run).")
    params = {"night": night, "days": days}
    if not scalar("SELECT count(*) FROM operations_vintagesnapshot WHERE business_date = "
                  "%(night)s", params):
        started = time.perf_counter()
        rows = vintages_snapshot_take(day=night)
        say(f"The close step snapshot_vintages on this book: {rows} rows in "
            f"{time.perf_counter() - started:.2f} s")
    nights = ("generate_series(%(night)s::date - %(days)s, %(night)s::date - 1, "
              "interval '1 day') AS d")
    # A deterministic wobble, so that no two nights are the same figures.
    wobble = "(0.9 + 0.2 * mod(extract(doy FROM d)::int * 7 + {salt}, 10) / 10.0)"
    added = sql(f"""
        INSERT INTO debt_collection_bucketsnapshot
            (business_date, product_id, bucket, loans, outstanding_principal)
        SELECT d::date, s.product_id, s.bucket, s.loans,
               round(s.outstanding_principal * {wobble.format(salt="length(s.bucket)")}, 2)
        FROM debt_collection_bucketsnapshot s, {nights}
        WHERE s.business_date = %(night)s
        ON CONFLICT DO NOTHING""", params)
    say(f"Bucket snapshots added: {added:,}")
    months_back = ("((extract(year FROM %(night)s::date) - extract(year FROM d)) * 12 "
                   "+ extract(month FROM %(night)s::date) - extract(month FROM d))::int")
    added = sql(f"""
        INSERT INTO operations_vintagesnapshot
            (business_date, product_id, vintage, loans, principal, loans_30_plus,
             principal_30_plus)
        SELECT d::date, s.product_id,
               (s.vintage - make_interval(months => {months_back}))::date, s.loans, s.principal,
               least(s.loans, floor(s.loans_30_plus * {wobble.format(salt="1")})::int),
               round(s.principal_30_plus * {wobble.format(salt="1")}, 2)
        FROM operations_vintagesnapshot s, {nights}
        WHERE s.business_date = %(night)s
        ON CONFLICT DO NOTHING""", params)
    say(f"Vintage snapshots added: {added:,}")
    added = sql(f"""
        INSERT INTO risk_scoredistribution
            (model_version_id, role, business_date, lines, bucket_counts, mean_probability, psi,
             psi_status)
        SELECT s.model_version_id, s.role, d::date, s.lines, s.bucket_counts,
               s.mean_probability, s.psi * {wobble.format(salt="s.model_version_id")},
               s.psi_status
        FROM risk_scoredistribution s, {nights}
        WHERE s.business_date = (SELECT max(business_date) FROM risk_scoredistribution)
        ON CONFLICT DO NOTHING""", params)
    say(f"Score distributions added: {added:,}")
    decisions_add(night, decisions)
    # VACUUM, not only ANALYZE: the decisions were inserted in bulk on a server without
    # autovacuum, and until their pages are marked all-visible the planner scans the table
    # rather than read the monthly figures from the business-date index alone (autovacuum does
    # this for a table that grows in production).
    sql("VACUUM ANALYZE debt_collection_bucketsnapshot, operations_vintagesnapshot, "
        "risk_scoredistribution, risk_creditdecision")


def decisions_add(night, wanted: int | None):
    """Synthetic decisions up to `wanted` (default one per customer), one per customer,
    spread over the year before the night."""
    customers = scalar("SELECT count(*) FROM accounts_user")
    wanted = customers if wanted is None else min(wanted, customers)
    held = scalar("SELECT count(*) FROM risk_creditdecision")
    if held >= wanted:
        say(f"Credit decisions: {held:,} already")
        return
    features = {f"feature_{n:02d}": round(0.1 * n + 0.123456, 6) for n in range(28)}
    rules = [{"name": f"rule_{n}", "passed": True, "reason": "Within the product's rules."}
             for n in range(9)]
    started = time.perf_counter()
    added = sql("""
        INSERT INTO risk_creditdecision
            (customer_id, product_id, outcome, inputs, policy_results, probability_of_default,
             grade, credit_limit, daily_rate, apr, reasons, contributions, income_basis,
             income_note, business_date, elapsed_ms, created_at)
        SELECT u.id, (SELECT min(id) FROM lending_creditproduct),
               CASE WHEN mod(u.n, 10) < 8 THEN 'approved' ELSE 'declined' END,
               %(inputs)s::jsonb, %(rules)s::jsonb, mod(u.n, 1000) / 10000.0,
               CASE WHEN mod(u.n, 10) < 8
                    THEN substr('ABBCCCDDEA', mod(u.n / 10, 10)::int + 1, 1) ELSE '' END,
               CASE WHEN mod(u.n, 10) < 8 THEN 20000 END,
               CASE WHEN mod(u.n, 10) < 8 THEN 0.0005 END,
               CASE WHEN mod(u.n, 10) < 8 THEN 18.25 END, '[]'::jsonb, %(inputs)s::jsonb,
               'declared', '', %(night)s::date - mod(u.n * 7919, 365)::int, 4.2, now()
        FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM accounts_user
              WHERE NOT EXISTS (SELECT 1 FROM risk_creditdecision c WHERE c.customer_id =
                                accounts_user.id)) u
        WHERE u.n <= %(missing)s""",
        {"inputs": json.dumps(features), "rules": json.dumps(rules), "night": night,
         "missing": wanted - held})
    say(f"Credit decisions added: {added:,} in {time.perf_counter() - started:.1f} s")


# The timing ---------------------------------------------------------------------------------

def dashboards():
    from operations.dashboards import figures

    return {
        "risk (outstanding, roll rates, vintages, approvals, grades)": figures.risk_dashboard,
        "collections (book, roll rates, promises, recovered)":
            lambda today: figures.collections_dashboard(today, with_book=True),
        "model monitoring (PSI by night)": figures.models_dashboard,
    }


def timed(build, today, repeat: int) -> tuple[list[float], int]:
    """Each build's seconds, and how many of its figures drew a chart."""
    from django.template.loader import render_to_string

    times, charts = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        board = build(today)
        render_to_string("admin/dashboards/board.html", {"board": board})
        times.append(time.perf_counter() - started)
        charts = sum(1 for figure in board.figures if figure.svg)
    return times, charts


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url",
                        default=os.environ.get("BENCH_DASHBOARDS_DATABASE_URL",
                                               DEFAULT_DATABASE_URL))
    parser.add_argument("--history-days", type=int, default=730)
    parser.add_argument("--decisions", type=int, default=None,
                        help="credit decisions the book should hold (default: one a customer)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    say(f"Load average at start: {'/'.join(f'{x:.2f}' for x in os.getloadavg())}")
    django_setup(args.database_url.replace("postgresql://", "postgres://", 1))
    from core.calendar import business_date_today

    history_add(args.history_days, args.decisions)
    indexed = scalar("SELECT count(*) FROM pg_indexes WHERE tablename = 'risk_creditdecision' "
                     "AND indexdef LIKE %(pattern)s", {"pattern": "%(business_date%"})
    counts = [(label, scalar(f"SELECT count(*) FROM {table}")) for label, table in BOOK_TABLES]
    say("Book: " + ", ".join(f"{label} {count:,}" for label, count in counts))
    say(f"Decisions' business date indexed: {'yes' if indexed else 'no'}")
    today = business_date_today()
    say(f"\nEach dashboard built and rendered {args.repeat} times (business date {today}):")
    say(f"{'dashboard':<62}{'median s':>9}{'first s':>9}{'charts':>7}  target")
    for name, build in dashboards().items():
        times, charts = timed(build, today, args.repeat)
        median = statistics.median(times)
        verdict = "met" if median < TARGET_S else "NOT met"
        say(f"{name:<62}{median:>9.3f}{times[0]:>9.3f}{charts:>7}  under {TARGET_S:.0f} s: "
            f"{verdict}")
    say(f"Load average at end: {'/'.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
