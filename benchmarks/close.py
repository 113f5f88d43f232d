"""How long does the nightly close take on a book of a million customers?

    .venv/bin/python benchmarks/close.py [--accounts 1000000] [--workers 1,2] [--keep]

Builds a PostgreSQL book with set-based SQL (benchmarks/close_book.py: N customers, N lines,
N 12-instalment loans at every age, about 10 % delinquent across all buckets), then times one
full close of its business date (every registered step) through real Celery workers
(`celery -A config worker -Q close --pool=prefork --concurrency=W`, Redis broker), once per
worker count, beside the floor: the same work as plain SQL statements, one transaction per
step. Each run starts from its own file copy of the same built book (CREATE DATABASE ...
TEMPLATE), so every close does exactly the same work on the same data with the same cold
cache; closing two consecutive dates instead would compare two different nights.

The book's B-card champion has been in service before the book's day: each part of the book,
once loaded, is rescored on the RESCORED_NIGHTS nights before it through the product's own
`lines_rescore`, so the timed close is an ordinary night for the rescoring, not the one-off
night a champion is promoted (which changes almost every line).

To see whether cost follows the night's events rather than the book's size, the book is first
built with N/2 customers and closed (with the largest worker count), then grown to N with the
same distribution and closed again.

Databases: `<prefix>` holds the book (the template), `<prefix>_run` each run's copy; both are
dropped at the end unless --keep. Redis: --redis-url (db 8 by default), flushed before each run.
"""

import argparse
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import close_book, close_book_pay_later  # noqa: E402
from benchmarks.close_book import BOOK_DAY  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bench_close"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/8"
SETTINGS = "benchmarks.settings"
OVERDUE_STEPS = ("mark_overdue", "accrue_penalty", "set_days_past_due", "freeze_or_cure_lines",
                 "send_dunning_notices", "write_off", "snapshot_buckets")
OVERDUE_TARGET_S = 30.0
CLOSE_TARGET_S = 120.0
FLOOR_RATIO_TARGET = 2.0
DOUBLING_TARGET = 2.2
POLL_S = 0.05
# The nightly rescoring as the closes before the book's day left it: the B-card champion has
# scored and reviewed every line on these nights already. Its first night moves most lines (a
# book whose limits and rates no review has set), and each change moves the next night's
# features (a new limit is a new utilisation), so it takes a few nights to settle; by the third
# about 5 % of lines change a night (3 % on the fourth).
RESCORED_NIGHTS = 3
RESCORING_TABLES = ("risk_linescore", "risk_linereview", "lending_limitchange",
                    "lending_ratechange", "lending_creditline", "accounts_notice",
                    "core_auditevent", "core_auditchainhead")


def url_with_name(url: str, name: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


def database_name(url: str) -> str:
    return urllib.parse.urlsplit(url).path.lstrip("/")


def load_text() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def say(text=""):
    print(text, flush=True)


# Django in this process: reference data, the runner's start, and its records -----------------

def django_setup(run_url: str, redis_url: str):
    os.environ["DATABASE_URL"] = run_url
    os.environ["REDIS_URL"] = redis_url
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS
    os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.dummy.EmailBackend")
    import django

    django.setup()


def django_use(name: str):
    """Point this process's Django connection at another database (closed first)."""
    from django.db import connections

    connections.close_all()
    connections["default"].settings_dict["NAME"] = name


def django_release():
    from django.db import connections

    connections.close_all()


def book_migrate(book_url: str):
    env = {**os.environ, "DATABASE_URL": book_url, "DJANGO_SETTINGS_MODULE": SETTINGS}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT,
                   env=env, check=True)


def reference_data_create():
    """The product, the partner bank, the chart of accounts and the business date, through the
    product's own code."""
    from accounts.models import PartnerBank
    from benchmarks.bcard import bcard_champion_install
    from core.calendar import business_date_reset
    from lending.models import CreditProduct
    from lending.services.ledger import chart_of_accounts_ensure

    CreditProduct.objects.create(
        code=close_book.PRODUCT_CODE, name="Bench cash loan", kind="cash_loan",
        min_daily_rate="0.00020000", max_daily_rate="0.00060000",
        penalty_daily_rate=close_book.PENALTY_DAILY_RATE, allowed_terms=[12],
        repayment_methods=["equal_principal"], grace_days=close_book.GRACE_DAYS,
        write_off_days=close_book.WRITE_OFF_DAYS, min_amount="1000.00",
        max_amount="50000.00", apr_cap="24.00", max_partner_share=close_book.BANK_SHARE)
    bank = PartnerBank.objects.create(code=close_book.BANK_CODE, name="Bench partner bank",
                                      funding_share=close_book.BANK_SHARE)
    chart_of_accounts_ensure()
    chart_of_accounts_ensure(bank)
    close_book_pay_later.reference_data_create(close_book.PENALTY_DAILY_RATE,
                                               close_book.GRACE_DAYS, close_book.WRITE_OFF_DAYS)
    business_date_reset(day=BOOK_DAY)
    bcard_champion_install()  # the nightly rescoring scores every line with it


def registered_steps() -> list[str]:
    from core.close import close_steps
    from operations.nightly_close import ADVANCE_STEP

    return [spec.name for spec in close_steps()] + [ADVANCE_STEP]


# The nightly rescoring's past nights ------------------------------------------------------------

def _rescore_process_start(book_name):
    """A fresh process (spawned, not forked: XGBoost's OpenMP threads do not survive a fork)
    with Django on the book."""
    import django

    django.setup()
    django_use(book_name)


def _rescore_chunk(day, first_id, last_id):
    """One chunk of a past night's rescoring in its own transaction, as a close chunk does it."""
    from django.db import transaction

    from risk.services.rescoring import lines_rescore

    with transaction.atomic(durable=True):
        return lines_rescore(day=day, first_id=first_id, last_id=last_id)


def night_before_planned_now(day):
    """As if the night before `day` had been planned now, a margin ago: a real night comes a day
    after the one before, while these come minutes apart, so the stamps the book's build and the
    nights before it left on every line would be new to `day`'s rescoring (which chooses the
    customers changed since the night before was planned: risk.services.rescoring_selection)."""
    from django.utils import timezone

    from risk.models import RescoringNight
    from risk.services.rescoring_selection import STAMP_MARGIN

    RescoringNight.objects.filter(business_date=day - timedelta(days=1)).update(
        planned_at=timezone.now() + STAMP_MARGIN)


def past_nights_rescore(book_url, book_name, first_id, last_id, processes, progress=print):
    """Rescore the customers from `first_id` to `last_id` on each of the RESCORED_NIGHTS nights
    before the book's day, through the product's own `lines_rescore`, in chunks of the close's
    size spread over `processes` processes: the scores, reviews, limit and rate changes,
    notices and audit events a champion in service would have left."""
    from django.conf import settings

    from core.close import chunk_bounds
    from risk.services.rescoring_selection import customers_to_rescore

    django_use(book_name)
    for back in range(RESCORED_NIGHTS, 0, -1):
        day = BOOK_DAY - timedelta(days=back)
        started = time.perf_counter()
        customers = [c for c in customers_to_rescore(day) if first_id <= c <= last_id]
        bounds = chunk_bounds(customers, settings.CLOSE_CHUNK_SIZE)
        with multiprocessing.get_context("spawn").Pool(
                processes, initializer=_rescore_process_start, initargs=(book_name,)) as pool:
            lines = sum(pool.starmap(_rescore_chunk, [(day, a, b) for a, b in bounds]))
        progress(f"  rescored {day}: {lines:,} lines in {time.perf_counter() - started:.1f} s")
    night_before_planned_now(BOOK_DAY)
    django_release()
    # As after the book's load: autovacuum is off on this server.
    import psycopg

    with psycopg.connect(close_book.server_url(book_url, book_name), autocommit=True) as conn:
        conn.execute(f"VACUUM ANALYZE {', '.join(RESCORING_TABLES)}")


# A close through real workers -----------------------------------------------------------------

class Workers:
    """`celery -A config worker` with `concurrency` prefork processes, on the run's database."""

    def __init__(self, run_url, redis_url, concurrency):
        self.name = f"benchclose{concurrency}-{os.getpid()}@%h"
        self.log = tempfile.NamedTemporaryFile(prefix=f"bench-close-worker{concurrency}-",
                                               suffix=".log", delete=False)
        env = {**os.environ, "DATABASE_URL": run_url, "REDIS_URL": redis_url,
               "DJANGO_SETTINGS_MODULE": SETTINGS}
        self.process = subprocess.Popen(
            [str(Path(sys.executable).with_name("celery")), "-A", "config", "worker",
             f"--concurrency={concurrency}", "--pool=prefork", "-Q", "close",
             "--loglevel=warning", "-n", self.name, "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout=60):
        from config.celery import app

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the worker exited; its log: {self.log.name}")
            replies = app.control.ping(timeout=0.5)
            if any(self.name.split("@")[0] in name for reply in replies for name in reply):
                return
        raise RuntimeError(f"the worker did not answer in {timeout} s; log: {self.log.name}")

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def redis_flush(redis_url):
    import redis

    redis.Redis.from_url(redis_url).flushdb()


def close_through_workers(run_url, redis_url, concurrency, label, day=BOOK_DAY):
    """Start the close of `day` with dispatch "workers", watch its records until it is done,
    and return what was recorded and observed."""
    import psycopg

    from operations.nightly_close import close_run_start

    redis_flush(redis_url)
    workers = Workers(run_url, redis_url, concurrency)
    try:
        workers.wait_ready()
        seen_start, seen_done = {}, {}
        with psycopg.connect(close_book.server_url(run_url, database_name(run_url)),
                             autocommit=True) as watch:
            started = time.perf_counter()
            run = close_run_start(day, dispatch="workers")
            django_release()
            while True:
                now = time.perf_counter()
                status, error = watch.execute(
                    "SELECT status, error FROM operations_closerun WHERE id = %s",
                    [run.pk]).fetchone()
                for step, step_status in watch.execute(
                        "SELECT step, status FROM lending_closestep WHERE business_date = %s",
                        [day]).fetchall():
                    seen_start.setdefault(step, now)
                    if step_status == "done":
                        seen_done.setdefault(step, now)
                if status in ("done", "failed"):
                    break
                if now - started > 3600:
                    raise TimeoutError(f"{label}: the close is still running after an hour")
                time.sleep(POLL_S)
            wall = time.perf_counter() - started
            if status == "failed":
                raise RuntimeError(f"{label}: the close failed: {error} (worker log: "
                                   f"{workers.log.name})")
            steps = {step: {"rows": rows, "seconds": seconds, "chunks": chunks, "order": order}
                     for step, rows, seconds, chunks, order in watch.execute(
                         "SELECT step, rows, seconds, chunks_total, \"order\" "
                         "FROM lending_closestep WHERE business_date = %s ORDER BY \"order\"",
                         [day]).fetchall()}
            recorded_run = watch.execute("SELECT seconds FROM operations_closerun WHERE id = %s",
                                         [run.pk]).fetchone()[0]
    finally:
        workers.stop()
    # Seen from outside, a step lasts from the commit that ended the step before it (which also
    # planned this one) to the commit that marked it done; the first, from when its row
    # appears (what comes before is the run's start, no step's).
    previous = None
    for step, record in steps.items():
        done = seen_done.get(step, started + wall)
        record["observed"] = done - (seen_start.get(step, started) if previous is None
                                     else previous)
        previous = done
    return {"wall": wall, "run_seconds": recorded_run, "steps": steps, "workers": concurrency}


def next_night_close(run_url, redis_url, concurrency):
    """Close the day after BOOK_DAY on the copy the last close left (the run before is what a
    real night would have left: nothing vacuumed in between); no line has its statement day
    then, so this is the close of an ordinary night. Its steps and wall clock are printed."""
    day = BOOK_DAY + timedelta(days=1)
    say(f"The next night, {day}: its close through {concurrency} worker processes on the same "
        f"copy")
    night_before_planned_now(day)
    result = close_through_workers(run_url, redis_url, concurrency, "next night", day=day)
    busy = {step: r for step, r in result["steps"].items() if r["rows"]}
    say(f"  closed in {result['wall']:.2f} s (run record {result['run_seconds']:.2f} s); load "
        f"{load_text()}; " + ", ".join(f"{step} {r['rows']:,} rows {r['seconds']:.2f} s"
                                       for step, r in busy.items()))
    verdict = "met" if result["wall"] < CLOSE_TARGET_S else "not met"
    say(f"Next night (no statement day): whole close under {CLOSE_TARGET_S / 60:.0f} minutes: "
        f"{verdict} ({result['wall']:.2f} s, {concurrency} workers)")


# The report -----------------------------------------------------------------------------------

def fmt_s(seconds):
    return "-" if seconds is None else f"{seconds:.2f}"


def report(accounts, floor, closes, half, half_accounts, timings):
    say()
    worker_counts = [c["workers"] for c in closes]
    header = f"{'step':<24}{'rows':>10}"
    for w in worker_counts:
        header += f"{f'{w}w s':>9}{f'{w}w x':>8}"
    header += f"{'floor rows':>12}{'floor s':>9}{'chunks':>8}"
    say(f"The close of {BOOK_DAY} on {accounts:,} customers (seconds as recorded in CloseStep; "
        f"x = ratio to the floor):")
    say(header)
    steps = list(closes[0]["steps"])
    for step in steps:
        first = closes[0]["steps"][step]
        floor_rows, floor_s = floor.get(step, (None, None))
        line = f"{step:<24}{first['rows']:>10,}"
        for c in closes:
            s = c["steps"].get(step, {}).get("seconds")
            ratio = f"{s / floor_s:.1f}" if s is not None and floor_s else "-"
            line += f"{fmt_s(s):>9}{ratio:>8}"
        line += (f"{('-' if floor_rows is None else f'{floor_rows:,}'):>12}{fmt_s(floor_s):>9}"
                 f"{first['chunks']:>8}")
        say(line)
    total = f"{'whole close (wall clock)':<34}"
    for c in closes:
        total += f"{c['wall']:>9.2f}{'':>8}"
    say(total + f"{'':>12}{sum(s for _r, s in floor.values()):>9.2f}")
    say()
    if half is not None:
        say(f"Half book ({half_accounts:,} customers, {half['workers']} workers): whole close "
            f"{half['wall']:.2f} s; " + ", ".join(f"{step} {r['seconds']:.2f} s"
                                                  for step, r in half["steps"].items()))
    if timings:
        say("Building: " + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()))
    say()

    best = min(closes, key=lambda c: c["wall"])
    best_label = f"{best['workers']} worker{'s' if best['workers'] != 1 else ''}"
    verdict = {True: "met", False: "not met"}
    overdue = sum(r["seconds"] for step, r in best["steps"].items() if step in OVERDUE_STEPS)
    names = [s for s in best["steps"] if s in OVERDUE_STEPS]
    say(f"Target: overdue steps together under {OVERDUE_TARGET_S:.0f} s on the "
        f"{accounts:,} book: {verdict[overdue < OVERDUE_TARGET_S]} ({overdue:.2f} s, "
        f"{best_label}; {', '.join(names)})")
    say(f"Target: whole close under {CLOSE_TARGET_S / 60:.0f} minutes: "
        f"{verdict[best['wall'] < CLOSE_TARGET_S]} ({best['wall']:.2f} s, {best_label})")
    ratios = {step: r["seconds"] / floor[step][1] for step, r in best["steps"].items()
              if step in floor and floor[step][1] > 0}
    over = {step: ratio for step, ratio in ratios.items() if ratio > FLOOR_RATIO_TARGET}
    worst = max(ratios.items(), key=lambda item: item[1]) if ratios else ("-", 0)
    # A step with nothing to do tonight (no rows, no chunks) has no work to compare.
    missing = [s for s, r in best["steps"].items() if s not in floor and r["rows"]]
    detail = (f"worst {worst[0]} {worst[1]:.1f}x; " + (
        f"{len(over)} of {len(ratios)} over {FLOOR_RATIO_TARGET:.0f}x: "
        + ", ".join(f"{s} {best['steps'][s]['seconds']:.2f} s vs {floor[s][1]:.2f} s"
                    for s in over) if over else f"all {len(ratios)} within"))
    if missing:
        detail += f"; no floor for {', '.join(missing)}"
    say(f"Target: each step within {FLOOR_RATIO_TARGET:.0f}x of its floor: "
        f"{verdict[not over and not missing]} ({detail}, {best_label})")
    if half is None:
        say(f"Target: the book doubled costs at most {DOUBLING_TARGET}x the time: not met (not "
            f"measured: --reuse-book skips the half book)")
    else:
        same = next((c for c in closes if c["workers"] == half["workers"]), best)
        growth = same["wall"] / half["wall"]
        say(f"Target: the book doubled costs at most {DOUBLING_TARGET}x the time: "
            f"{verdict[growth <= DOUBLING_TARGET]} ({growth:.2f}x: {same['wall']:.2f} s on "
            f"{accounts:,} vs {half['wall']:.2f} s on {half_accounts:,}, "
            f"{half['workers']} workers)")
    by_workers = {c["workers"]: c["wall"] for c in closes}
    if 1 in by_workers and 2 in by_workers:
        say(f"Target: 2 workers faster than 1: {verdict[by_workers[2] < by_workers[1]]} "
            f"({by_workers[2]:.2f} s vs {by_workers[1]:.2f} s)")
    else:
        say("Target: 2 workers faster than 1: not met (run with --workers 1,2 to measure)")
    recorded = sum(r["seconds"] for r in best["steps"].values())
    observed = sum(r["observed"] for r in best["steps"].values())
    # A step's clock starts before its ids are read, in the transaction that closes the step
    # before it, so what is seen from outside (a step's "done" appears only when that
    # transaction commits) moves the next step's planning into the step before; per step the
    # two differ by that much, in total they must agree. A record that left out its chunks'
    # commits (the ledger's balance check runs there: seconds on the million book) would fall
    # well short of the whole: allowed 10 %.
    met = recorded >= 0.9 * observed and recorded >= 0.9 * best["wall"]
    say(f"Target: recorded step times include the commit: {verdict[met]} (CloseStep "
        f"seconds sum to {recorded:.2f} s, {recorded / max(observed, 1e-9):.0%} of the "
        f"{observed:.2f} s seen from outside, each step from the commit before it to the one "
        f"marking it done; {recorded / max(best['wall'], 1e-9):.0%} of the run's wall clock, "
        f"{best['wall']:.2f} s)")
    say("Per step, recorded / seen: " + ", ".join(
        f"{s} {r['seconds']:.2f}/{r['observed']:.2f}" for s, r in best["steps"].items()))


# Main -------------------------------------------------------------------------------------------

def book_build(book_url, book_pg, run_url, redis_url, accounts, workers, timings):
    """Create and migrate the book's database, build N/2 customers, close a copy of that (the
    doubling's first half), then grow the book to N. Returns the half book's close."""
    book_name, run_name = database_name(book_url), database_name(run_url)
    half_accounts = accounts // 2
    started = time.perf_counter()
    close_book.database_create(book_url, book_name)
    close_book.database_create(book_url, run_name)
    book_migrate(book_url)
    django_use(book_name)
    reference_data_create()
    django_release()
    timings["migrate"] = time.perf_counter() - started

    say(f"Building the half book: customers 1 to {half_accounts:,}")
    started = time.perf_counter()
    close_book.book_load(book_pg, 1, half_accounts, progress=say)
    timings["half book"] = time.perf_counter() - started
    say(f"  book: {close_book.book_profile(book_pg)}")
    started = time.perf_counter()
    past_nights_rescore(book_url, book_name, 1, half_accounts, workers, progress=say)
    timings["half book's past rescoring"] = time.perf_counter() - started

    say(f"Closing the half book ({workers} workers) on a copy")
    copy_s = close_book.database_create(book_url, run_name, template=book_name)
    django_use(run_name)
    half = close_through_workers(run_url, redis_url, workers, "half book")
    say(f"  copied in {copy_s:.1f} s; closed in {half['wall']:.2f} s")
    half["accounts"] = half_accounts

    say(f"Growing the book to {accounts:,}: customers {half_accounts + 1:,} to {accounts:,}")
    started = time.perf_counter()
    close_book.book_load(book_pg, half_accounts + 1, accounts, progress=say)
    timings["growth"] = time.perf_counter() - started
    started = time.perf_counter()
    past_nights_rescore(book_url, book_name, half_accounts + 1, accounts, workers, progress=say)
    timings["growth's past rescoring"] = time.perf_counter() - started
    profile = close_book.book_profile(book_pg)
    size = close_book.database_size(book_url, book_name)
    say(f"  book: {profile}; {size / 2**30:.1f} GiB")
    return half


def book_reuse(book_url, book_pg, accounts):
    """The book a --keep run left, if it holds `accounts` customers; no half-book close."""
    import psycopg

    with psycopg.connect(book_pg, autocommit=True) as conn:
        held = conn.execute("SELECT count(*) FROM lending_loan").fetchone()[0]
    if held != accounts:
        raise SystemExit(f"{database_name(book_url)} holds {held:,} loans, not {accounts:,}")
    say(f"Reusing the book in {database_name(book_url)}: {close_book.book_profile(book_pg)}")
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--workers", default="1,2",
                        help="worker process counts to close with, comma-separated")
    parser.add_argument("--database-url",
                        default=os.environ.get("BENCH_CLOSE_DATABASE_URL", DEFAULT_DATABASE_URL),
                        help="the book's database (created; `<name>_run` beside it)")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--keep", action="store_true", help="keep the databases at the end")
    parser.add_argument("--reuse-book", action="store_true",
                        help="use the book a --keep run left (no build, no half-book close)")
    parser.add_argument("--next-night", action="store_true",
                        help="then close the next business date on the same copy, with the "
                             "largest worker count: a night with no statement day")
    parser.add_argument("--no-floor", action="store_true",
                        help="close without timing the floor first (quicker; the floor's "
                             "target is then not measured)")
    args = parser.parse_args()
    worker_counts = [int(w) for w in args.workers.split(",") if w.strip()]
    accounts, half_accounts = args.accounts, args.accounts // 2

    book_url = args.database_url.replace("postgresql://", "postgres://", 1)
    book_name = database_name(book_url)
    run_name = f"{book_name}_run"
    run_url = url_with_name(book_url, run_name)
    book_pg = close_book.server_url(book_url, book_name)
    run_pg = close_book.server_url(book_url, run_name)

    say(f"Load average at start: {load_text()} (1/5/15 min; {os.cpu_count()} cores)")
    say(f"Book: {accounts:,} customers, one line and one 12-instalment loan each, in "
        f"{book_name}; business date {BOOK_DAY}")
    timings = {}
    django_setup(run_url, args.redis_url)
    try:
        steps = registered_steps()
        say(f"Steps registered: {', '.join(steps)}")
        if args.reuse_book:
            half = book_reuse(book_url, book_pg, accounts)
        else:
            half = book_build(book_url, book_pg, run_url, args.redis_url, accounts,
                              max(worker_counts), timings)

        floor = {}
        if not args.no_floor:
            say("The floor: each step as plain SQL, one transaction each, on a copy")
            django_release()
            copy_s = close_book.database_create(book_url, run_name, template=book_name)
            say(f"  copied in {copy_s:.1f} s")
            floor = close_book.floor_run(run_pg, BOOK_DAY, steps, progress=say)

        closes = []
        for concurrency in worker_counts:
            say(f"The close through {concurrency} worker process"
                f"{'es' if concurrency != 1 else ''} (celery prefork), on a copy")
            django_release()
            copy_s = close_book.database_create(book_url, run_name, template=book_name)
            django_use(run_name)
            result = close_through_workers(run_url, args.redis_url, concurrency,
                                           f"{concurrency} workers")
            closes.append(result)
            say(f"  copied in {copy_s:.1f} s; closed in {result['wall']:.2f} s (run record "
                f"{result['run_seconds']:.2f} s); load {load_text()}")

        report(accounts, floor, closes, half, half_accounts, timings)
        if args.next_night:
            next_night_close(run_url, args.redis_url, max(worker_counts))
    finally:
        django_release()
        if not args.keep:
            close_book.database_drop(book_url, run_name)
            close_book.database_drop(book_url, book_name)
    say(f"Load average at end: {load_text()}")


if __name__ == "__main__":
    main()
