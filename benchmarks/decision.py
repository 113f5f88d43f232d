"""How fast is the instant credit decision, end to end and in batch?

    .venv/bin/python benchmarks/decision.py [--decisions 1000] [--batch-rows 1000000]

Against the PostgreSQL database in DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/credit_bench, created if missing), which it sets up itself:
migrate, a cash-loan product, an A-card champion trained on synthetic applicants, and one new
customer (profile and consented signals) per decision.

1. End to end through HTTP: a real gunicorn server (one sync worker) on a free port, serving the
   product's pages plus a benchmark-only one-INSERT view (benchmarks.settings / benchmarks.urls).
   Each customer signs in over HTTP, then posts the application form to /apply/ once; the time of
   a decision is that POST until its redirect arrives. In the same run, alternating with the
   decisions, the same customers post to the one-INSERT view with the same session and CSRF
   checks. Median and p99 of both, their ratio, and the server's own decision time
   (CreditDecision.elapsed_ms) to separate HTTP overhead from deciding.
2. Batch scoring: N synthetic feature rows scored by risk.scoring.score_batch, beside a plain
   2-thread booster.inplace_predict on the same rows, and per-feature contributions on a small
   sample to show why the batch path never computes them for every row.
"""

import argparse
import http.client
import os
import socket
import subprocess
import sys
import time
import urllib.parse
from datetime import date
from decimal import Decimal
from http.cookies import SimpleCookie
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/credit_bench"
SETTINGS = "benchmarks.settings"
PASSWORD = "bench-pass-2026"
P99_TARGET_MS = 15.0
RATIO_TARGET = 3.0
# The champion's size decides the cost of one prediction: the training pipeline's depth and
# learning rate (risk.training.xgb), with a fixed number of rounds instead of early stopping.
TRAINING_PARAMS = {"objective": "binary:logistic", "eval_metric": "logloss", "tree_method": "hist",
                   "max_depth": 4, "eta": 0.05, "subsample": 0.8, "colsample_bytree": 0.8}
TRAINING_ROUNDS = 300
TRAINING_ROWS = 50_000

EMPLOYMENT = np.array(["employed", "self_employed", "student", "retired", "unemployed"],
                      dtype=object)
HOUSING = np.array(["owned", "mortgage", "rented", "family"], dtype=object)


# Set-up ----------------------------------------------------------------------------------------

def database_ensure(url: str) -> None:
    """Create the benchmark database if it does not exist (nothing is dropped, ever)."""
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    server = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(server.replace("postgres://", "postgresql://", 1),
                         autocommit=True) as connection:
        if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                              [name]).fetchone() is None:
            connection.execute(f'CREATE DATABASE "{name}"')


def synthetic_population(n: int, today: date, seed: int):
    """Raw applicant columns, as `risk.features.application_columns` reads them from the
    database, and each applicant's true probability of default (noisy, somewhat non-linear)."""
    rng = np.random.default_rng(seed)
    age_days = rng.integers(21 * 366, 65 * 365, n)
    income = np.clip(np.round(rng.lognormal(np.log(9000), 0.6, n), 2), 1500, 200_000)
    debt = np.round(income * rng.beta(1.5, 6.0, n) * 0.8, 2)
    employment = EMPLOYMENT[rng.choice(5, n, p=[0.7, 0.12, 0.05, 0.05, 0.08])]
    employer_months = np.where(np.isin(employment, ["student", "unemployed"]), 0,
                               rng.integers(0, 240, n)).astype(np.float64)
    shared = rng.random(n) > 0.1  # one in ten shares no behavioural signals
    on_time = rng.beta(8, 1.2, n)
    devices = 1 + rng.poisson(0.8, n)
    account_age = rng.integers(0, 150, n)
    phone_months = rng.integers(0, 200, n)
    columns = {
        "user_id": np.arange(n),
        "birth_date": (np.datetime64(today, "D") - age_days).astype("datetime64[D]"),
        "monthly_income": income,
        "monthly_debt_payments": debt,
        "employment_status": employment,
        "employer_months": employer_months,
        "city_tier": rng.integers(1, 5, n).astype(np.float64),
        "housing": HOUSING[rng.integers(0, 4, n)],
        "shopping_orders_per_month": np.where(shared, rng.poisson(6, n), np.nan),
        "shopping_spend_per_month": np.where(shared, np.round(income * rng.beta(2, 10, n), 2),
                                             np.nan),
        "bills_on_time_share": np.where(shared, np.round(on_time, 4), np.nan),
        "account_age_months": np.where(shared, account_age, np.nan),
        "phone_number_months": np.where(shared, phone_months, np.nan),
        "devices_last_year": np.where(shared, devices, np.nan),
    }
    age = age_days / 365.25
    logit = (-3.4 + 2.0 * debt / income - 0.5 * np.log(income / 9000)
             + 3.0 * (1 - on_time) + 0.2 * devices - 0.006 * account_age
             - 0.003 * phone_months + 0.6 * (employment == "unemployed")
             + 0.15 * columns["city_tier"] + 0.0015 * (age - 40) ** 2
             + rng.normal(0, 0.4, n))
    return columns, 1 / (1 + np.exp(-logit))


def champion_train(today: date, stamp: str):
    """Train an A-card on synthetic applicants' features (built by the product's own
    `application_matrix`), register it and promote it."""
    import xgboost as xgb
    from django.conf import settings
    from sklearn.metrics import roc_auc_score

    from risk.features.application import (
        APPLICATION_FEATURE_NAMES,
        APPLICATION_FEATURES,
        APPLICATION_FEATURES_HASH,
        application_matrix,
    )
    from risk.services.registry import model_version_promote, model_version_register

    columns, truth = synthetic_population(TRAINING_ROWS, today, seed=7)
    x = application_matrix(columns, today)
    y = np.random.default_rng(8).random(len(truth)) < truth
    cut = int(len(y) * 0.8)
    params = {**TRAINING_PARAMS, "seed": 1, "nthread": os.cpu_count() or 1,
              "monotone_constraints": "(" + ",".join(str(f.monotone)
                                                     for f in APPLICATION_FEATURES) + ")"}
    booster = xgb.train(params, xgb.DMatrix(x[:cut], label=y[:cut], missing=np.nan),
                        num_boost_round=TRAINING_ROUNDS)
    auc = float(roc_auc_score(y[cut:], booster.inplace_predict(x[cut:])))
    version = model_version_register(
        card="application", booster=booster, feature_names=APPLICATION_FEATURE_NAMES,
        feature_hash=APPLICATION_FEATURES_HASH,
        training_summary={"rows": cut, "bad_rate": float(y[:cut].mean()),
                          "source": "benchmarks/decision.py synthetic applicants"},
        metrics={"auc": auc, "ceiling_auc": float(roc_auc_score(y[cut:], truth[cut:]))},
        calibration={"a": 1.0, "b": 0.0}, grade_cutoffs=settings.RISK_GRADE_CUTOFFS)
    model_version_promote(model_version_id=version.pk, reason=f"benchmark run {stamp}")
    version.refresh_from_db()
    return version


def product_ensure():
    from core.audit import actor_system
    from lending.models import CreditProduct
    from lending.services import credit_product_create

    product = CreditProduct.objects.filter(code="bench-cash").first()
    if product is not None:
        return product
    return credit_product_create(
        code="bench-cash", name="Benchmark cash loan", kind="cash_loan",
        min_daily_rate=Decimal("0.0002"), max_daily_rate=Decimal("0.00065"),
        penalty_daily_rate=Decimal("0.0005"), allowed_terms=[3, 6, 12],
        repayment_methods=["equal_instalment"], grace_days=3, min_amount=Decimal("500"),
        max_amount=Decimal("200000"), apr_cap=Decimal("24"), max_partner_share=Decimal("0.7"),
        actor=actor_system("benchmark"))


def _decimal(value, places):
    return None if np.isnan(value) else Decimal(f"{value:.{places}f}")


def _integer(value):
    return None if np.isnan(value) else int(value)


def customers_create(n: int, today: date, stamp: str) -> list[str]:
    """n new customers with verified profiles and consented signals; their usernames."""
    from django.contrib.auth.hashers import make_password

    from accounts.identity import id_number_make
    from accounts.models import CustomerProfile, CustomerSignals, User

    columns, _truth = synthetic_population(n, today, seed=11)
    password = make_password(PASSWORD)
    # One identity number per customer, across runs on the same database too: each customer
    # takes the first sequence number free for their date of birth.
    taken = set(CustomerProfile.objects.filter(id_number__startswith="330106")
                .values_list("id_number", flat=True))

    def id_number_free(birth_date, start):
        for step in range(1000):
            number = id_number_make(region="330106", birth_date=birth_date,
                                    sequence=(start + step) % 1000)
            if number not in taken:
                taken.add(number)
                return number
        raise RuntimeError(f"no identity number left for {birth_date}")

    users = User.objects.bulk_create(
        [User(username=f"bench-{stamp}-{i}", password=password) for i in range(n)],
        batch_size=1000)
    CustomerProfile.objects.bulk_create([CustomerProfile(
        user=user, full_name=f"Bench Customer {i}",
        birth_date=columns["birth_date"][i].item(),
        monthly_income=_decimal(columns["monthly_income"][i], 2),
        monthly_debt_payments=_decimal(columns["monthly_debt_payments"][i], 2),
        employment_status=columns["employment_status"][i],
        employer_months=int(columns["employer_months"][i]), city="Hangzhou",
        city_tier=int(columns["city_tier"][i]), housing=columns["housing"][i],
        # A real number: the decision asks the region and check character again.
        id_number=id_number_free(columns["birth_date"][i].item(), i),
        identity_verified=True,
        consent_credit_check=True, consent_data_use=True,
    ) for i, user in enumerate(users)], batch_size=1000)
    CustomerSignals.objects.bulk_create([CustomerSignals(
        user=user, observed_on=today,
        shopping_orders_per_month=_decimal(columns["shopping_orders_per_month"][i], 2),
        shopping_spend_per_month=_decimal(columns["shopping_spend_per_month"][i], 2),
        bills_on_time_share=_decimal(columns["bills_on_time_share"][i], 4),
        account_age_months=_integer(columns["account_age_months"][i]),
        phone_number_months=_integer(columns["phone_number_months"][i]),
        devices_last_year=_integer(columns["devices_last_year"][i]),
    ) for i, user in enumerate(users)], batch_size=1000)
    return [user.username for user in users]


# The server and a browser without a browser ---------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_start(port: int, env: dict) -> subprocess.Popen:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [str(gunicorn), "config.wsgi:application", "--workers", "1", "--worker-class", "sync",
         "--bind", f"127.0.0.1:{port}", "--chdir", str(ROOT), "--log-level", "warning"],
        env=env, cwd=ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with status {server.returncode}.")
        try:
            if Browser(port).get("/login/").status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not answer within 60 s.")


class Response:
    def __init__(self, status, location, body, elapsed_ms):
        self.status, self.location, self.body, self.elapsed_ms = status, location, body, elapsed_ms


class Browser:
    """One customer's cookie jar over http.client; a new connection per request, as gunicorn's
    sync worker closes each one after answering."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def _send(self, method, path, form=None) -> Response:
        headers = {"Host": f"127.0.0.1:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://127.0.0.1:{self.port}{path}"
        started = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read()
        finally:
            connection.close()
        elapsed_ms = (time.perf_counter() - started) * 1000
        for header in response.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                self.cookies[name] = morsel.value
        return Response(response.status, response.headers.get("Location"), content, elapsed_ms)

    def get(self, path) -> Response:
        return self._send("GET", path)

    def post(self, path, form) -> Response:
        return self._send("POST", path, {**form, "csrfmiddlewaretoken": self.cookies["csrftoken"]})

    def log_in(self, username):
        self.get("/login/")
        response = self.post("/login/", {"username": username, "password": PASSWORD})
        if response.status != 302:
            raise SystemExit(f"Signing in {username} answered {response.status}.")


def percentiles(values) -> tuple[float, float]:
    values = np.asarray(values)
    return float(np.percentile(values, 50)), float(np.percentile(values, 99))


def _expect_redirect(response, path, prefix):
    if response.status != 302 or not (response.location or "").startswith(prefix):
        raise SystemExit(f"POST {path} answered {response.status} "
                         f"(location {response.location!r}), not a redirect to {prefix}...:\n"
                         f"{response.body[:2000].decode(errors='replace')}")


def http_benchmark(port, usernames, product_id, warmup):
    """(apply times, one-INSERT times) in ms for the customers after the warm-up ones."""
    apply_ms, insert_ms = [], []
    apply_form = {"product": str(product_id)}
    for i, username in enumerate(usernames):
        browser = Browser(port)
        browser.log_in(username)
        # Alternate which goes first, so neither always meets a warmer server.
        order = (("apply", "insert") if i % 2 else ("insert", "apply"))
        for which in order:
            if which == "apply":
                response = browser.post("/apply/", apply_form)
                _expect_redirect(response, "/apply/", "/decisions/")
                if i >= warmup:
                    apply_ms.append(response.elapsed_ms)
            else:
                response = browser.post("/bench/insert/", {})
                _expect_redirect(response, "/bench/insert/", "/bench/insert/")
                if i >= warmup:
                    insert_ms.append(response.elapsed_ms)
    return apply_ms, insert_ms


# Batch scoring ---------------------------------------------------------------------------------

def _rows_per_second(rows, seconds):
    return rows / seconds if seconds > 0 else float("inf")


def _timed(function):
    started = time.perf_counter()
    result = function()
    return result, time.perf_counter() - started


def batch_benchmark(model, today, rows_count, sample_count):
    import xgboost as xgb

    from risk.features.application import application_matrix
    from risk.scoring import score_batch

    columns, _truth = synthetic_population(rows_count, today, seed=21)
    rows = application_matrix(columns, today)
    threads = os.cpu_count() or 1
    # One small call first, so that neither timing pays for first-use set-up.
    score_batch(model, rows[:1000])
    baseline = model.booster.copy()
    baseline.set_param({"nthread": 2})
    baseline.inplace_predict(rows[:1000])

    (probabilities, _none), batch_s = _timed(lambda: score_batch(model, rows))
    _plain, plain_s = _timed(lambda: baseline.inplace_predict(rows))
    sample = rows[:sample_count]
    _both, approx_s = _timed(lambda: score_batch(model, sample, with_contributions=True))
    matrix = xgb.DMatrix(sample, missing=np.nan)
    _exact, exact_s = _timed(lambda: baseline.predict(matrix, pred_contribs=True))
    assert len(probabilities) == rows_count
    return {
        "threads": threads,
        "score_batch": _rows_per_second(rows_count, batch_s),
        "inplace_predict": _rows_per_second(rows_count, plain_s),
        "approx_contributions": _rows_per_second(sample_count, approx_s),
        "exact_contributions": _rows_per_second(sample_count, exact_s),
    }


# The run ---------------------------------------------------------------------------------------

def met(ok):
    return "met" if ok else "NOT met"


def report(*, postgres, version, warmup, load, apply_ms, insert_ms, server_ms, outcomes, grades,
           batch, batch_rows, contribution_rows) -> str:
    apply_median, apply_p99 = percentiles(apply_ms)
    insert_median, insert_p99 = percentiles(insert_ms)
    server_median, server_p99 = percentiles(server_ms)
    median_ratio, p99_ratio = apply_median / insert_median, apply_p99 / insert_p99
    within = median_ratio <= RATIO_TARGET and p99_ratio <= RATIO_TARGET

    def timing(label, median, p99):
        return f"  {label:<38} {median:12.2f} {p99:10.2f}"

    def rate(label, value):
        return f"  {label:<58} {value:14,.0f} rows/s"

    return "\n".join([
        "",
        f"Decision benchmark, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, "
        f"PostgreSQL {postgres}",
        f"Champion: {version} ({TRAINING_ROUNDS} trees, depth {TRAINING_PARAMS['max_depth']}), "
        f"held-out AUC {version.metrics['auc']:.4f}",
        "",
        f"End to end through HTTP (gunicorn, 1 sync worker): {len(apply_ms)} decisions after "
        f"{warmup} warm-up, a new customer each",
        f"  (1-minute load average {load[0]:.2f} before, {load[1]:.2f} after)",
        f"  {'':<38} {'median ms':>12} {'p99 ms':>10}",
        timing("POST /apply/ until its redirect", apply_median, apply_p99),
        timing("POST /bench/insert/ (one INSERT)", insert_median, insert_p99),
        timing("ratio decision / one INSERT", median_ratio, p99_ratio),
        timing("server's decision time (elapsed_ms)", server_median, server_p99),
        f"  outcomes: {outcomes['approved']} approved, {outcomes['declined']} declined; grades "
        + ", ".join(f"{g} {n}" for g, n in grades.items()),
        f"Targets: p99 < {P99_TARGET_MS:g} ms: {met(apply_p99 < P99_TARGET_MS)} "
        f"({apply_p99:.2f} ms); within {RATIO_TARGET:g}x of the one-INSERT view: {met(within)} "
        f"(median {median_ratio:.2f}x, p99 {p99_ratio:.2f}x)",
        "",
        f"Batch scoring: {batch_rows:,} rows",
        rate(f"risk.scoring.score_batch, {batch['threads']} threads, no contributions",
             batch["score_batch"]),
        rate("booster.inplace_predict, 2 threads (baseline)", batch["inplace_predict"]),
        f"  {'ratio score_batch / baseline':<58} "
        f"{batch['score_batch'] / batch['inplace_predict']:14.2f}",
        rate(f"approximate contributions, {contribution_rows:,} rows (score_batch)",
             batch["approx_contributions"]),
        rate(f"exact contributions, {contribution_rows:,} rows (pred_contribs)",
             batch["exact_contributions"]),
    ])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--decisions", type=int, default=1000,
                        help="timed decisions, one new customer each (default 1000)")
    parser.add_argument("--warmup", type=int, default=100,
                        help="decisions before timing starts (default 100)")
    parser.add_argument("--batch-rows", type=int, default=1_000_000,
                        help="rows scored in the batch measure (default 1,000,000)")
    parser.add_argument("--contribution-rows", type=int, default=2000,
                        help="rows for the contributions measure (default 2,000)")
    args = parser.parse_args(argv)
    if args.decisions < 1 or args.warmup < 0 or args.batch_rows < 1000 \
            or args.contribution_rows < 1:
        parser.error("--decisions >= 1, --warmup >= 0, --batch-rows >= 1000 and "
                     "--contribution-rows >= 1, please.")

    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    if not database_url.startswith(("postgres://", "postgresql://")):
        parser.error("DATABASE_URL must be a PostgreSQL database.")
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS
    database_ensure(database_url)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from core.calendar import business_date_today
    from risk.models import CreditDecision
    from risk.scoring import champion

    stamp = time.strftime("%Y%m%d%H%M%S")
    print(f"Setting up {database_url.rsplit('/', 1)[-1]}: migrate, product, champion, "
          f"{args.warmup + args.decisions} customers ...", flush=True)
    call_command("migrate", run_syncdb=True, verbosity=0)
    today = business_date_today()
    product = product_ensure()
    version = champion_train(today, stamp)
    usernames = customers_create(args.warmup + args.decisions, today, stamp)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    connection.close()  # the server has the database to itself while it is timed

    port = free_port()
    server = server_start(port, {**os.environ})
    load_before = os.getloadavg()[0]
    try:
        apply_ms, insert_ms = http_benchmark(port, usernames, product.pk, args.warmup)
    finally:
        server.terminate()
        server.wait(timeout=30)
    load_after = os.getloadavg()[0]

    timed = usernames[args.warmup:]
    decisions = CreditDecision.objects.filter(customer__username__in=timed)
    server_ms = list(decisions.values_list("elapsed_ms", flat=True))
    outcomes = {o: decisions.filter(outcome=o).count() for o in ("approved", "declined")}
    grades = {g: decisions.filter(grade=g).count() for g in "ABCDE"}

    batch = batch_benchmark(champion("application"), today, args.batch_rows,
                            args.contribution_rows)

    print(report(
        postgres=postgres, version=version, warmup=args.warmup, load=(load_before, load_after),
        apply_ms=apply_ms, insert_ms=insert_ms, server_ms=server_ms, outcomes=outcomes,
        grades=grades, batch=batch, batch_rows=args.batch_rows,
        contribution_rows=args.contribution_rows))


if __name__ == "__main__":
    main()
