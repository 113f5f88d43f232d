"""`manage.py simulate_population --customers N --months M --seed S`"""

import time
from contextlib import contextmanager

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from core.calendar import business_date_today
from operations.simulation import (
    BulkBook,
    ServiceBook,
    SimulationRefused,
    generate_population,
    simulate_history,
)

MIN_MONTHS = 4  # a defaulter needs a missed instalment and 90 days after it
MAX_MONTHS = 120
MAX_CUSTOMERS = 2_000_000


class Command(BaseCommand):
    help = ("Simulate N customers with a hidden probability of default and M months of loans, "
            "repayments and defaults on the platform, starting at the business date.")

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, required=True)
        parser.add_argument("--months", type=int, required=True)
        parser.add_argument("--seed", type=int, required=True)
        parser.add_argument("--through-services", action="store_true",
                            help="One lending service call per draw and payment (slow; the "
                                 "default books a day at a time with the same arithmetic).")

    def handle(self, *args, customers, months, seed, through_services, **options):
        if not 0 < customers <= MAX_CUSTOMERS:
            raise CommandError(f"--customers must be between 1 and {MAX_CUSTOMERS:,}.")
        if not MIN_MONTHS <= months <= MAX_MONTHS:
            raise CommandError(f"--months must be between {MIN_MONTHS} and {MAX_MONTHS}: a "
                               "defaulter needs a missed instalment and 90 days after it.")
        if seed < 0:
            raise CommandError("--seed must be zero or more.")
        started = time.perf_counter()
        population = generate_population(customers=customers, months=months, seed=seed,
                                         start=business_date_today())
        self.stdout.write(f"Generated {customers:,} customers (seed {seed}) in "
                          f"{time.perf_counter() - started:.1f} s; true default rate "
                          f"{population.defaults.mean():.1%}; history {population.start} to "
                          f"{population.end}.")
        book = ServiceBook() if through_services else BulkBook()
        try:
            with _commits_unflushed():
                result = simulate_history(
                    population, book=book,
                    progress=lambda day: self.stdout.write(
                        f"  {day} ({time.perf_counter() - started:.0f} s)"))
        except SimulationRefused as error:
            raise CommandError(str(error)) from None
        self.stdout.write(self.style.SUCCESS(
            f"Simulated {result.customers:,} customers, {result.loans:,} loans, "
            f"{result.shoppers:,} pay-later lines, {result.defaulters:,} defaulters; "
            f"business date now {business_date_today()}; "
            f"{time.perf_counter() - started:.1f} s in all."))


@contextmanager
def _commits_unflushed():
    """A simulated year commits thousands of transactions (each night's close steps and chunks,
    each day's bookings); waiting for the disk to flush every one is most of a small night's
    time. PostgreSQL's `synchronous_commit = off`, for this session only, returns from COMMIT
    before the flush: a crash could lose the last moments' commits, never make the database
    inconsistent, and a simulation is rerun anyway (with another seed)."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        # Inside a caller's transaction (a test) there is one commit, the caller's.
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")
