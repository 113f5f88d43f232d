"""core.batch on the real PostgreSQL: rows copied in with their defaults and ids, updates by
arrays and by a copied temporary table writing the same, and `field_in` as `__in`."""

from decimal import Decimal

import pytest
from django.db.models import F

import core.batch
from core.batch import field_in, rows_insert, rows_update
from core.models import IdempotencyRecord
from lending.models import CreditLine
from tests.factories import CreditLineFactory


@pytest.mark.django_db
def test_rows_go_in_with_their_ids_in_order_and_the_defaults(monkeypatch):
    monkeypatch.setattr(core.batch, "COPY_INSERT_FROM", 1)  # three rows, by COPY
    ids = rows_insert(IdempotencyRecord, ["scope", "key", "request_hash", "result"],
                      [("user:1", f"key-{n}", "f" * 64, {"loan_id": n, "note": "é"})
                       for n in range(3)], ids=True)
    assert ids == sorted(ids) and len(set(ids)) == 3
    records = {r.pk: r for r in IdempotencyRecord.objects.all()}
    assert [records[pk].key for pk in ids] == ["key-0", "key-1", "key-2"]
    assert [records[pk].result for pk in ids] == [{"loan_id": n, "note": "é"} for n in range(3)]
    # auto_now_add: one time for the whole copied batch.
    assert len({r.created_at for r in records.values()}) == 1
    assert rows_insert(IdempotencyRecord, ["scope"], []) == []


@pytest.mark.django_db
@pytest.mark.parametrize("copy_from", [1, 10_000], ids=["copied", "arrays"])
def test_an_update_writes_the_values_and_nulls_given_and_nothing_else(monkeypatch, copy_from):
    monkeypatch.setattr(core.batch, "COPY_UPDATE_FROM", copy_from)
    first, second, untouched = (CreditLineFactory() for _ in range(3))
    before = CreditLine.objects.get(pk=untouched.pk)
    CreditLine.objects.filter(pk=second.pk).update(officer_cap=F("credit_limit"))
    rows_update(CreditLine, ["officer_cap", "credit_limit"],
                [(Decimal("900.00"), Decimal("800.00"), first.pk),
                 (None, Decimal("900.50"), second.pk)])
    caps = dict(CreditLine.objects.values_list("pk", "officer_cap"))
    limits = dict(CreditLine.objects.values_list("pk", "credit_limit"))
    assert (caps[first.pk], limits[first.pk]) == (Decimal("900.00"), Decimal("800.00"))
    assert (caps[second.pk], limits[second.pk]) == (None, Decimal("900.50"))
    assert CreditLine.objects.get(pk=untouched.pk).credit_limit == before.credit_limit


@pytest.mark.django_db
def test_field_in_filters_as_in_does():
    ids = [CreditLineFactory().pk for _ in range(3)]
    lines = CreditLine.objects.order_by("pk")
    assert list(lines.filter(field_in("pk", ids[1:])).values_list("pk", flat=True)) == ids[1:]
    assert list(lines.filter(field_in("customer_id", {CreditLine.objects.get(
        pk=ids[0]).customer_id: None})).values_list("pk", flat=True)) == ids[:1]
    assert not lines.filter(field_in("pk", [])).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("vendor", ["postgresql", "elsewhere"])
def test_an_upsert_updates_what_exists_or_skips_it(monkeypatch, vendor):
    """Scores of two lines: one new, one already kept. With update fields the kept row takes
    the new values; without, it stays as it was. Both ways the new row goes in."""
    from datetime import date

    from risk.models import LineScore, ModelVersion

    if vendor == "elsewhere":
        monkeypatch.setattr(core.batch.connection, "vendor", "sqlite", raising=False)
    version = ModelVersion.objects.create(card="behaviour", version=1, feature_names=[],
                                          feature_hash="x", booster=b"")
    kept, new = CreditLineFactory(), CreditLineFactory()
    LineScore.objects.create(line=kept, role="champion", model_version=version,
                             probability=Decimal("0.100000"), grade="C",
                             business_date=date(2026, 1, 1))
    names = ["line_id", "role", "model_version_id", "probability", "grade", "business_date"]
    rows = [(kept.pk, "champion", version.pk, Decimal("0.020000"), "A", date(2026, 1, 2)),
            (new.pk, "champion", version.pk, Decimal("0.300000"), "E", date(2026, 1, 2))]
    core.batch.rows_upsert(LineScore, names, rows, unique=["line_id", "role"])
    assert LineScore.objects.get(line=kept).grade == "C"
    assert LineScore.objects.get(line=new).grade == "E"
    core.batch.rows_upsert(LineScore, names, rows, unique=["line_id", "role"],
                           update=["probability", "grade", "business_date"])
    updated = LineScore.objects.get(line=kept)
    assert (updated.probability, updated.grade, updated.business_date) == (
        Decimal("0.020000"), "A", date(2026, 1, 2))
    assert LineScore.objects.count() == 2
