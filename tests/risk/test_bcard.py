"""An honest B-card: features as of the snapshot, the outcome in a fixed window after it, rows
in default left out, a split by customer, and a ceiling from the simulator's truth that agrees
with the simulator itself."""

import json
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command

from core.audit import actor_system
from lending import services
from lending.rules.schedule import add_months_anchored, due_dates
from lending.selectors import amount_due_on
from operations.simulation import generate_population
from risk import datasets
from risk.bcard_truth import LoanHistory, bad_probability
from risk.datasets import behaviour_outcome_definition, behaviour_training_set
from risk.features.behaviour import BEHAVIOUR_FEATURES, behaviour_columns, behaviour_matrix
from risk.models import ModelVersion
from risk.training.pipeline import grouped_split, train_scorecard
from tests.factories import CashLoanProductFactory, CreditLineFactory, set_business_date
from tests.risk.simulated_loans import history_from_plan

db = pytest.mark.django_db


def _draw(line, day, principal="3000.00", term=3, key=None):
    set_business_date(day)
    return services.loan_originate(line_id=line.pk, principal=Decimal(principal),
                                   term_months=term, method="equal_principal",
                                   idempotency_key=key or f"draw-{line.pk}-{day}", scope="test")


def _pay_all_due(loan, day):
    set_business_date(day)
    services.loan_repay(loan_id=loan.pk, amount=amount_due_on(loan, day),
                        idempotency_key=f"pay-{loan.pk}-{day}", scope="test")


def _rows(data, snapshot):
    """Customer id -> label of the rows of one snapshot."""
    on = data.as_of == np.datetime64(snapshot, "D")
    return dict(zip(data.user_ids[on].tolist(), data.y[on].tolist(), strict=True))


# --- features: nothing after the snapshot -----------------------------------------------------

@db
def test_later_events_leave_a_snapshots_features_unchanged(bank):
    """A 6,000 loan from 2026-01-10 in six parts, the first paid on time; the snapshot is
    2026-03-05. Afterwards: a new loan, a late payment, an instalment left unpaid (overdue), a
    lower limit and a second line. The snapshot's features do not move; its label does."""
    snapshot = date(2026, 3, 5)
    set_business_date(date(2026, 1, 10))
    line = CreditLineFactory(credit_limit=Decimal("20000.00"))
    loan = _draw(line, date(2026, 1, 10), principal="6000.00", term=6)
    _pay_all_due(loan, date(2026, 2, 10))
    set_business_date(snapshot)

    def as_of_snapshot():
        return behaviour_matrix(behaviour_columns([line.customer_id], snapshot), snapshot)

    before = as_of_snapshot()
    _draw(line, date(2026, 3, 15), principal="2000.00", term=3)  # a new loan
    _pay_all_due(loan, date(2026, 3, 20))  # March's instalment, 10 days late
    set_business_date(date(2026, 5, 1))  # April's instalment unpaid: overdue since 04-10
    services.line_limit_lower(line_id=line.pk, new_limit=Decimal("9000.00"), reason="test",
                              actor=actor_system("tests"))
    CreditLineFactory(customer=line.customer, credit_limit=Decimal("5000.00"),
                      product=CashLoanProductFactory(code="cash-2"))  # a new line
    set_business_date(date(2026, 10, 1))

    after = as_of_snapshot()
    np.testing.assert_array_equal(before, after)
    named = dict(zip([f.name for f in BEHAVIOUR_FEATURES], after[0].tolist(), strict=True))
    assert named["utilisation"] == pytest.approx(5000 / 20000)
    assert named["days_past_due_now"] == 0 and named["limit_changes_6m"] == 0
    assert named["daily_rate_drawn"] == pytest.approx(0.0005)

    data = behaviour_training_set([snapshot])
    np.testing.assert_array_equal(data.X, before)
    # April's instalment reaches 60 days past due on 06-09, inside the window: a bad.
    assert _rows(data, snapshot) == {line.customer_id: 1}


# --- the outcome: 60+ days past due within six months --------------------------------------

@pytest.fixture
def boundaries(bank):
    """Lines opened 2025-06-01. Two customers draw 3,000 over three months on 2026-01-10
    (due 02-10, 03-10, 04-10) and pay everything on 04-10 (the first instalment 59 days past
    due: `late59`) or on 04-11 (60 days, reached that day: `late60`). A third draws on
    2025-06-01 and never pays: due 2025-07-01, 60 days past due on 2025-08-30 (`stopped`)."""
    set_business_date(date(2025, 6, 1))
    late59, late60, stopped = (CreditLineFactory() for _ in range(3))
    _draw(stopped, date(2025, 6, 1))
    loans = {line: _draw(line, date(2026, 1, 10)) for line in (late59, late60)}
    _pay_all_due(loans[late59], date(2026, 4, 10))
    _pay_all_due(loans[late60], date(2026, 4, 11))
    set_business_date(date(2026, 12, 1))
    return late59.customer_id, late60.customer_id, stopped.customer_id


@db
def test_59_days_past_due_is_good_and_60_bad_up_to_the_windows_last_day(boundaries):
    late59, late60, _ = boundaries
    # Window (2025-10-11, 2026-04-11]: 04-11, the day late60 reached 60, is its last day.
    last_day = date(2025, 10, 11)
    data = behaviour_training_set([last_day, last_day - timedelta(days=1)])
    assert add_months_anchored(last_day, 6) == date(2026, 4, 11)
    on_last_day = _rows(data, last_day)
    assert (on_last_day[late59], on_last_day[late60]) == (0, 1)
    # A day earlier the window ends on 04-10: late60 reaches 60 one day after it.
    a_day_earlier = _rows(data, last_day - timedelta(days=1))
    assert (a_day_earlier[late59], a_day_earlier[late60]) == (0, 0)


@db
def test_customers_already_in_default_at_the_snapshot_are_left_out(boundaries):
    _, _, stopped = boundaries
    data = behaviour_training_set([date(2025, 8, 29), date(2025, 8, 30), date(2025, 10, 1)])
    assert _rows(data, date(2025, 8, 29))[stopped] == 1  # reaches 60 the next day
    assert stopped not in _rows(data, date(2025, 8, 30))  # 60 days past due that very day
    assert stopped not in _rows(data, date(2025, 10, 1))
    assert data.summary["left_out_in_default"] == 2
    assert data.summary["bads"] == int(data.y.sum()) and data.summary["rows"] == len(data.y)


@db
def test_a_window_not_yet_over_is_refused(boundaries):
    with pytest.raises(ValueError, match="after the business date"):
        behaviour_training_set([date(2026, 6, 2)])


@db
def test_stacked_snapshots_are_month_ends_from_the_books_third_month(boundaries):
    snapshots = datasets.behaviour_snapshots()
    assert snapshots[0] == date(2025, 8, 31)  # June, July, August
    assert snapshots[-1] == date(2026, 5, 31)  # the business date 2026-12-01 less 6 months
    assert all((day + timedelta(days=1)).day == 1 for day in snapshots)
    data = behaviour_training_set()
    assert sorted({s["snapshot"] for s in data.summary["snapshots"]}) == [
        d.isoformat() for d in snapshots]
    assert data.summary["outcome"] == behaviour_outcome_definition()


# --- the split: by customer ------------------------------------------------------------------

def test_grouped_split_keeps_each_customer_on_one_side():
    rng = np.random.default_rng(4)
    customers = np.repeat(np.arange(3000), rng.integers(1, 7, 3000))
    risky = rng.random(3000) < 0.1
    y = (rng.random(len(customers)) < np.where(risky[customers], 0.5, 0.03)).astype(np.int8)
    train, validation, test = grouped_split(y, customers, seed=1)
    assert sorted(np.concatenate([train, validation, test]).tolist()) == list(range(len(y)))
    sides = [set(customers[rows].tolist()) for rows in (train, validation, test)]
    assert not (sides[0] & sides[1] or sides[0] & sides[2] or sides[1] & sides[2])
    for rows, share in ((train, 0.6), (validation, 0.2), (test, 0.2)):
        assert len(rows) / len(y) == pytest.approx(share, abs=0.02)
        assert y[rows].mean() == pytest.approx(y.mean(), abs=0.01)  # stratified
    assert np.array_equal(grouped_split(y, customers, seed=1)[2], test)


def test_training_with_groups_splits_by_customer():
    rng = np.random.default_rng(5)
    customers = np.repeat(np.arange(800), 3)
    x = rng.normal(size=(len(customers), 2)).astype(np.float32)
    y = (rng.random(len(customers)) < 1 / (1 + np.exp(2.5 - x[:, 0]))).astype(np.int8)
    result = train_scorecard(x, y, feature_names=["a", "b"], seed=2, groups=customers,
                             max_rounds=20, params={"nthread": 1})
    split = result.split
    assert (split["train_groups"], split["validation_groups"], split["test_groups"]) == (
        480, 160, 160)
    assert split["test"] == 480 and len(result.test_rows) == 480
    assert len(result.test_probability) == 480


# --- the ceiling ---------------------------------------------------------------------------

def _state(history, t):
    due = [k for k, day in enumerate(history.due_dates) if day <= t]
    unpaid = [k for k in due if history.paid_on[k] is None or history.paid_on[k] > t]
    if history.paid_off_on is not None and history.paid_off_on <= t:
        return "paid off"
    if unpaid:
        return "unpaid, < 25 days" if (t - history.due_dates[unpaid[0]]).days < 25 else "lost"
    return "paid up"


def test_the_ceiling_agrees_with_the_simulator():
    """20,000 customers from the generator, due on the 20th, seen at two month-ends (an unpaid
    instalment is then 10-11 days past due: late or a default). In every state the outcomes
    seen add up to the probabilities given, within four standard errors, and so do they by
    decile of the probability."""
    start = date(2026, 3, 20)
    population = generate_population(customers=20_000, months=12, seed=5, start=start)
    dues = tuple(due_dates(start, 12))
    histories = [history_from_plan(plan, dues, population.end) for plan in population.plans]
    for snapshot in (date(2026, 5, 31), date(2026, 8, 31)):
        window_end = add_months_anchored(snapshot, 6)
        by_state = defaultdict(list)
        for plan, p, history in zip(population.plans, population.true_probability, histories,
                                    strict=True):
            reached = (None if plan.default_seq is None
                       else dues[plan.default_seq - 1] + timedelta(days=60))
            probability = bad_probability(float(p), history, snapshot=snapshot,
                                          window_end=window_end, history_end=population.end)
            if reached is not None and reached <= snapshot:
                assert np.isnan(probability)  # in default already: not a row
                continue
            bad = reached is not None and reached <= window_end
            by_state[_state(history, snapshot)].append((bad, probability))
        rows = {state: np.array(pairs, dtype=float) for state, pairs in by_state.items()}
        assert (rows["lost"] == 1).all() and (rows["paid off"] == 0).all()
        assert len(rows["unpaid, < 25 days"]) > 800
        everything = np.concatenate(list(rows.values()))
        deciles = np.quantile(everything[:, 1], np.linspace(0, 1, 11))
        groups = list(rows.values()) + [
            everything[(everything[:, 1] >= lo) & (everything[:, 1] <= hi)]
            for lo, hi in zip(deciles[:-1], deciles[1:], strict=True)]
        for group in groups:
            seen, expected = group[:, 0].sum(), group[:, 1].sum()
            spread = np.sqrt((group[:, 1] * (1 - group[:, 1])).sum())
            assert abs(seen - expected) <= 4 * spread + 1, (len(group), seen, expected)


def test_the_ceiling_in_the_certain_cases():
    dues = tuple(due_dates(date(2026, 1, 10), 12))
    end = date(2027, 1, 10)
    unpaid = LoanHistory(dues, (dues[0],) + (None,) * 11, None)

    def ceiling(history, t, p=0.1):
        return bad_probability(p, history, snapshot=t, window_end=add_months_anchored(t, 6),
                               history_end=end)

    assert ceiling(unpaid, dues[1] + timedelta(days=25)) == 1.0  # no lateness is 25 days
    assert np.isnan(ceiling(unpaid, dues[1] + timedelta(days=60)))  # in default
    paid_off = LoanHistory(dues, (dues[0], dues[0] + timedelta(days=9)) + (dues[0] + timedelta(
        days=9),) * 10, dues[0] + timedelta(days=9))
    assert ceiling(paid_off, dues[2], p=0.9) == 0.0
    # Nothing due yet, so nothing seen: a defaulter (p) whose instalment is one of the four of
    # the nine feasible ones (due by 2026-10-12, 90 days before the end) that reach 60 days
    # past due by the window's end (due by 05-21: February to May).
    fresh = LoanHistory(dues, (None,) * 12, None)
    for p in (0.05, 0.3):
        assert ceiling(fresh, date(2026, 1, 20), p=p) == pytest.approx(p * 4 / 9)
    with pytest.raises(ValueError, match="after the simulated history"):
        bad_probability(0.1, fresh, snapshot=date(2026, 9, 1), window_end=date(2027, 3, 1),
                        history_end=end)


# --- the model card ----------------------------------------------------------------------------

@db
def test_the_model_card_states_the_outcome_split_and_ceiling(monkeypatch, tmp_path):
    """The command on a stand-in training set with the B-card's shape: 900 customers at three
    snapshots, a ceiling for all but the last 30 customers' rows."""
    set_business_date(date(2026, 12, 1))
    rng = np.random.default_rng(0)
    customers = np.tile(np.arange(900), 3)
    x = rng.normal(size=(len(customers), len(BEHAVIOUR_FEATURES))).astype(np.float32)
    truth = 1 / (1 + np.exp(2.5 - x[:, 0] - 0.5 * x[:, 3]))
    y = (rng.random(len(customers)) < truth).astype(np.int8)
    ceiling = np.where(customers >= 870, np.nan, truth)
    summary = {"rows": len(y), "bads": int(y.sum()), "card": "behaviour", "customers": 900,
               "outcome": behaviour_outcome_definition(), "left_out_in_default": 12,
               "left_out_window_not_seen": 0, "horizon_months": 6, "bad_days_past_due": 60,
               "snapshots": [{"snapshot": f"2026-0{m}-30", "rows": 900, "bads": 1}
                             for m in (4, 5, 6)]}
    asked = []

    def stand_in(snapshots=None, horizon_months=6):
        asked.append(snapshots)
        return datasets.TrainingSet(X=x, y=y, user_ids=customers,
                                    feature_names=tuple(f.name for f in BEHAVIOUR_FEATURES),
                                    true_probability=ceiling, summary=summary)
    monkeypatch.setattr(datasets, "behaviour_training_set", stand_in)
    out = StringIO()
    path = tmp_path / "report.json"
    call_command("train_model", "--card", "behaviour", "--max-rounds", "60", "--threads", "1",
                 "--report-json", str(path), stdout=out)
    printed, report = out.getvalue(), json.loads(path.read_text())
    assert asked == [None]  # stacked snapshots by default

    version = ModelVersion.objects.get()
    assert version.training_summary["outcome"] == behaviour_outcome_definition()
    assert "60 days past due" in version.training_summary["outcome"]
    assert "snapshot + 6 months" in version.training_summary["outcome"]
    assert f"Outcome: {behaviour_outcome_definition()}" in printed
    split = version.training_summary["split"]
    assert split["train_groups"] + split["validation_groups"] + split["test_groups"] == 900
    assert "Split by customer (no customer on two sides)" in printed
    assert 0 < report["ceiling_rows"] < report["test_rows"]  # the simulated customers' rows
    assert report["auc_share_of_ceiling"] == pytest.approx(
        report["auc_on_ceiling_rows"] / report["ceiling_auc"])
    assert version.metrics["ceiling_auc"] == pytest.approx(report["ceiling_auc"])
    assert f"share {report['auc_share_of_ceiling']:.2%}" in printed
    call_command("train_model", "--card", "behaviour", "--snapshot", "2026-05-31",
                 "--max-rounds", "5", "--threads", "1", stdout=StringIO())
    assert asked[-1] == [date(2026, 5, 31)]
