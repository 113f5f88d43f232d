"""How fast is a pay-later checkout confirmation, end to end through HTTP?

    .venv/bin/python benchmarks/checkout.py [--confirmations 1000] [--warmup 100]

Against the PostgreSQL database in DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/credit_bench, created if missing), which it sets up itself:
migrate, a pay-later product, a merchant, and per confirmation one new customer with a
pay-later line and one pending checkout of the merchant's (made through the services; the
merchant API's part, creating the checkout, is not what is timed).

The server is decision.py's: gunicorn with one sync worker, the product's settings with DEBUG
off and the benchmark-only one-INSERT view beside the product's pages (benchmarks.settings /
benchmarks.urls). Each customer signs in over HTTP, opens the checkout page (which sets the
CSRF cookie as a browser's visit would), then posts Confirm once and posts to the one-INSERT
view once, in alternating order. A confirmation's time is its POST until the redirect to the
merchant's return URL arrives: the durable transaction that locks the checkout and the line,
books the purchase (two journal entries) and marks the checkout paid. Median and p99 of both,
and their ratio (target: within 2x at both).
"""

import argparse
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.decision import (  # noqa: E402 (the path above makes `benchmarks` importable)
    DEFAULT_DATABASE_URL,
    PASSWORD,
    SETTINGS,
    Browser,
    _expect_redirect,
    database_ensure,
    free_port,
    percentiles,
    server_start,
)

RATIO_TARGET = 2.0
RETURN_PREFIX = "https://shop.example.com/"
AMOUNT = Decimal("100.00")


def product_ensure():
    from core.audit import actor_system
    from lending.models import CreditProduct
    from lending.services import credit_product_create

    product = CreditProduct.objects.filter(code="bench-paylater").first()
    if product is not None:
        return product
    return credit_product_create(
        code="bench-paylater",
        name="Benchmark pay-later",
        kind="pay_later",
        min_daily_rate=Decimal("0.0005"),
        max_daily_rate=Decimal("0.0005"),
        penalty_daily_rate=Decimal("0.0005"),
        allowed_terms=[1],
        repayment_methods=["equal_instalment"],
        grace_days=3,
        min_amount=Decimal("1"),
        max_amount=Decimal("50000"),
        apr_cap=Decimal("24"),
        max_partner_share=Decimal("0"),
        actor=actor_system("benchmark"),
    )


def merchant_ensure():
    from accounts.models import Merchant
    from accounts.services.merchants import merchant_create

    merchant = Merchant.objects.filter(code="bench-shop").first()
    return merchant or merchant_create(
        code="bench-shop", name="Benchmark shop", return_url_prefixes=[RETURN_PREFIX]
    )


def customers_with_checkouts(n, product, merchant, stamp):
    """n new customers, each with a pay-later line and a pending checkout: (username, token)."""
    from django.contrib.auth.hashers import make_password

    from accounts.models import User
    from lending.services import checkout_create, pay_later_line_open

    password = make_password(PASSWORD)
    users = User.objects.bulk_create(
        [User(username=f"bench-co-{stamp}-{i}", password=password) for i in range(n)],
        batch_size=1000,
    )
    pairs = []
    for i, user in enumerate(users):
        pay_later_line_open(customer=user, product=product, credit_limit=Decimal("5000"))
        checkout = checkout_create(
            merchant=merchant,
            amount=AMOUNT,
            order_reference=f"{stamp}-{i}",
            description="Benchmark order",
            return_url=f"{RETURN_PREFIX}orders/{stamp}-{i}",
            idempotency_key=f"{stamp}-{i}",
        )
        pairs.append((user.username, checkout.token))
    return pairs


def http_benchmark(port, pairs, warmup, after_warmup=None):
    """(confirmation times, one-INSERT times) in ms for the customers after the warm-up ones;
    `after_warmup` runs once between the two."""
    confirm_ms, insert_ms = [], []
    for i, (username, token) in enumerate(pairs):
        if i == warmup and after_warmup is not None:
            after_warmup()
        browser = Browser(port)
        browser.log_in(username)
        page = browser.get(f"/checkout/{token}/")
        if page.status != 200:
            raise SystemExit(f"GET /checkout/{token}/ answered {page.status}.")
        # Alternate which goes first, so neither always meets a warmer server.
        for which in ("confirm", "insert") if i % 2 else ("insert", "confirm"):
            if which == "confirm":
                path = f"/checkout/{token}/confirm/"
                response = browser.post(path, {})
                _expect_redirect(response, path, RETURN_PREFIX)
                if i >= warmup:
                    confirm_ms.append(response.elapsed_ms)
            else:
                response = browser.post("/bench/insert/", {})
                _expect_redirect(response, "/bench/insert/", "/bench/insert/")
                if i >= warmup:
                    insert_ms.append(response.elapsed_ms)
    return confirm_ms, insert_ms


def report(*, postgres, warmup, load, confirm_ms, insert_ms, purchases) -> str:
    confirm_median, confirm_p99 = percentiles(confirm_ms)
    insert_median, insert_p99 = percentiles(insert_ms)
    median_ratio, p99_ratio = confirm_median / insert_median, confirm_p99 / insert_p99
    within = median_ratio <= RATIO_TARGET and p99_ratio <= RATIO_TARGET

    def timing(label, median, p99):
        return f"  {label:<42} {median:12.2f} {p99:10.2f}"

    return "\n".join(
        [
            "",
            f"Checkout benchmark, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, "
            f"PostgreSQL {postgres}",
            f"Through HTTP (gunicorn, 1 sync worker): {len(confirm_ms)} confirmations after "
            f"{warmup} warm-up, a new customer and checkout each",
            f"  (1-minute load average {load[0]:.2f} before, {load[1]:.2f} after)",
            f"  {'':<42} {'median ms':>12} {'p99 ms':>10}",
            timing("POST /checkout/<token>/confirm/ (redirect)", confirm_median, confirm_p99),
            timing("POST /bench/insert/ (one INSERT)", insert_median, insert_p99),
            timing("ratio confirmation / one INSERT", median_ratio, p99_ratio),
            f"  purchases booked: {purchases}",
            f"Target: within {RATIO_TARGET:g}x of the one-INSERT view: "
            f"{'met' if within else 'NOT met'} (median {median_ratio:.2f}x, p99 {p99_ratio:.2f}x)",
        ]
    )


def statistics_refresh():
    """What autovacuum does on a live database (this machine's runs without it): the planner
    learns how big the ledger and the purchases have grown, or it plans the ledger's balance
    check as a scan of every posting."""
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("ANALYZE")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--confirmations",
        type=int,
        default=1000,
        help="timed confirmations, one new customer each (default 1000)",
    )
    parser.add_argument(
        "--warmup", type=int, default=100, help="confirmations before timing starts (default 100)"
    )
    args = parser.parse_args(argv)
    if args.confirmations < 1 or args.warmup < 0:
        parser.error("--confirmations >= 1 and --warmup >= 0, please.")

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

    from lending.models import Purchase

    stamp = time.strftime("%Y%m%d%H%M%S")
    count = args.warmup + args.confirmations
    print(
        f"Setting up {database_url.rsplit('/', 1)[-1]}: migrate, product, merchant, {count} "
        "customers with a line and a checkout each ...",
        flush=True,
    )
    call_command("migrate", run_syncdb=True, verbosity=0)
    pairs = customers_with_checkouts(count, product_ensure(), merchant_ensure(), stamp)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    connection.close()  # the server has the database to itself while it is timed

    port = free_port()
    server = server_start(port, {**os.environ})
    load_before = os.getloadavg()[0]
    try:
        confirm_ms, insert_ms = http_benchmark(port, pairs, args.warmup,
                                               after_warmup=statistics_refresh)
    finally:
        server.terminate()
        server.wait(timeout=30)
    load_after = os.getloadavg()[0]
    purchases = Purchase.objects.filter(order_reference__startswith=f"{stamp}-").count()
    print(
        report(
            postgres=postgres,
            warmup=args.warmup,
            load=(load_before, load_after),
            confirm_ms=confirm_ms,
            insert_ms=insert_ms,
            purchases=purchases,
        )
    )


if __name__ == "__main__":
    main()
