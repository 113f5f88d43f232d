"""The statement cut and the past-due step have two paths each, the set-based SQL of
PostgreSQL and the same rules in Python (the embedded demo database's): one varied book run
both ways gives the same rows.

The book: 60 pay-later lines over two months of random purchases, refunds, payments (in full,
the minimum, part of it, nothing), conversions of statements and purchases and early
settlements, closed night by night; then the third statement day is cut once in Python and,
after rolling that back, once in SQL; then the same for the past-due step of that night."""

import random
from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum

from core.calendar import business_date_today
from lending.errors import LendingError
from lending.models import (
    CreditLine,
    InstalmentPlan,
    PlanPart,
    Posting,
    Purchase,
    Statement,
    StatementStatus,
)
from lending.services import (
    line_pay,
    plan_quote_fingerprint,
    plan_quote_for_purchase,
    plan_quote_for_statement,
    plan_settle_early,
    purchase_convert,
    purchase_create,
    purchase_refund,
    statement_convert,
    statements_cut,
)
from lending.services.revolving import statements_past_due_set
from operations.nightly_close import business_days_advance
from tests.factories import MerchantFactory, PayLaterLineFactory, set_business_date

pytestmark = [pytest.mark.django_db, pytest.mark.slow]
CUT_DAY = date(2026, 4, 1)


class Rollback(Exception):
    pass


def _tries(service, **arguments):
    """A refusal (too much, a frozen line, a stale figure) is part of life."""
    try:
        service(**arguments)
    except LendingError:
        pass


def _convert_statement(*, statement):
    quote = plan_quote_for_statement(statement=statement, term_months=3)
    statement_convert(statement=statement, term_months=3, shown=plan_quote_fingerprint(quote))


def _convert_purchase(*, purchase):
    quote = plan_quote_for_purchase(purchase=purchase, term_months=6)
    purchase_convert(purchase=purchase, term_months=6, shown=plan_quote_fingerprint(quote))


def _one_day_of_life(rng, lines, shop, keys):
    for line in lines:
        roll = rng.random()
        if roll < 0.25:
            _tries(purchase_create, line=line, merchant=shop,
                   amount=Decimal(rng.randint(5_00, 900_00)) / 100,
                   order_reference=f"o{next(keys)}")
        elif roll < 0.30:
            # Picked by the seeded generator, not the database's random(): the same book
            # every run (the assertions below need a book with statements past due).
            purchases = list(Purchase.objects.filter(line=line).order_by("pk"))
            purchase = rng.choice(purchases) if purchases else None
            if purchase and purchase.refundable > 0:
                amount = min(purchase.refundable, Decimal(rng.randint(1_00, 300_00)) / 100)
                _tries(purchase_refund, purchase=purchase, amount=amount,
                       reference=f"r{next(keys)}")
        elif roll < 0.40:
            statement = Statement.objects.filter(line=line, status="open").first()
            if statement:
                share = rng.choice(["all", "minimum", "part"])
                amount = {"all": statement.balance,
                          "minimum": statement.minimum_due - statement.total_paid,
                          "part": (statement.balance / 3).quantize(Decimal("0.01"))}[share]
                if amount > 0:
                    _tries(line_pay, line=line, amount=amount, scope="paths",
                           idempotency_key=f"p{next(keys)}")
        elif roll < 0.43:
            statement = Statement.objects.filter(line=line, status="open").first()
            if statement:
                _tries(_convert_statement, statement=statement)
        elif roll < 0.46:
            purchase = Purchase.objects.filter(line=line, plan__isnull=True).first()
            if purchase:
                _tries(_convert_purchase, purchase=purchase)
        elif roll < 0.47:
            plan = InstalmentPlan.objects.filter(line=line, status="active").first()
            if plan:
                _tries(plan_settle_early, plan=plan, scope="paths",
                       idempotency_key=f"s{next(keys)}")


def _snapshot():
    key = dict(Statement.objects.values_list("pk", "line_id"))
    seq = dict(Statement.objects.values_list("pk", "seq"))

    def ref(pk):
        return None if pk is None else (key[pk], seq[pk])

    skip = {"id", "created_at"}
    fields = [f.attname for f in Statement._meta.concrete_fields if f.attname not in skip]
    statements = {(row["line_id"], row["seq"]): row
                  for row in Statement.objects.values(*fields)}
    return {
        "statements": statements,
        "purchases": {pk: ref(s) for pk, s in Purchase.objects.values_list("pk", "statement_id")},
        "parts": {pk: (status, ref(s)) for pk, status, s in
                  PlanPart.objects.values_list("pk", "status", "statement_id")},
        "plans": dict(InstalmentPlan.objects.values_list("pk", "status")),
        "lines": {pk: rest for pk, *rest in CreditLine.objects.values_list(
            "pk", "outstanding_principal", "credit_balance")},
        "ledger": {(line, code): total for line, code, total in Posting.objects.filter(
            line__isnull=False).values_list("line_id", "account__code")
            .annotate(total=Sum("amount")).values_list("line_id", "account__code", "total")},
    }


def _both_ways(step, **arguments):
    """Run `step` in Python, keep what it wrote, undo it, run it in SQL: (python, sql)."""
    before = _snapshot()
    try:
        with transaction.atomic():
            python_count = step(in_python=True, **arguments)
            by_python = _snapshot()
            raise Rollback
    except Rollback:
        pass
    assert _snapshot() == before
    sql_count = step(**arguments)
    by_sql = _snapshot()
    assert python_count == sql_count
    assert by_sql["statements"].keys() == by_python["statements"].keys()
    for key, row in by_python["statements"].items():
        assert by_sql["statements"][key] == row, key
    for part in ("purchases", "parts", "plans", "lines", "ledger"):
        assert by_sql[part] == by_python[part], part
    return sql_count, by_sql


def test_the_sql_and_python_paths_book_the_same_rows():
    rng = random.Random(20261205)
    keys = iter(range(1, 10**9))
    set_business_date(date(2026, 1, 20))
    shop = MerchantFactory()
    lines = [PayLaterLineFactory(opened_on=date(2026, 1, 20), credit_limit=Decimal("3000.00"))
             for _ in range(60)]
    while business_date_today() < CUT_DAY:
        _one_day_of_life(rng, lines, shop, keys)
        business_days_advance(days=1)
    before = _snapshot()
    assert sum(1 for s in before["statements"].values()
               if s["status"] == StatementStatus.OPEN and s["overdue_since"]) > 0
    cut, by_sql = _both_ways(statements_cut, day=CUT_DAY)
    assert cut > 40
    # Interest was charged somewhere, and some statement carried a balance.
    new = [s for (line, seq), s in by_sql["statements"].items()
           if s["statement_date"] == CUT_DAY]
    assert any(s["interest_due"] > 0 for s in new)
    assert any(s["revolved_principal"] > 0 for s in new)
    assert any(s["parts_due"] > 0 for s in new)
    changed, by_sql = _both_ways(statements_past_due_set, day=CUT_DAY)
    assert changed > 0
