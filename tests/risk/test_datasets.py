"""Training sets read from the platform's records agree with the simulated history."""

from datetime import date, timedelta

import numpy as np
import pytest

from accounts.models import User
from lending.models import Loan
from lending.rules.schedule import add_months_anchored, due_dates
from operations.simulation import BulkBook, generate_population, simulate_history
from operations.simulation.population import TERM_MONTHS
from risk.bcard_truth import bad_probability
from risk.datasets import application_training_set, bad_days, behaviour_training_set
from risk.features.application import APPLICATION_FEATURE_NAMES
from risk.features.behaviour import BEHAVIOUR_FEATURE_NAMES
from risk.models import SimulatedCustomer
from tests.factories import set_business_date
from tests.risk.simulated_loans import history_from_plan

# Each test simulates its own 40 customers over six months (35 to 40 s): the module runs with
# `-m slow`; test_bcard.py checks the same rules on hand-made histories in `make test`.
pytestmark = [pytest.mark.django_db, pytest.mark.slow]
START = date(2026, 3, 10)


@pytest.fixture
def population():
    set_business_date(START)
    population = generate_population(customers=40, months=6, seed=3, start=START)
    simulate_history(population, book=BulkBook())
    return population


def test_application_set_labels_are_the_defaulters(population):
    data = application_training_set(window_months=6)
    assert data.X.shape == (40, len(APPLICATION_FEATURE_NAMES))
    assert data.X.dtype == np.float32
    assert data.feature_names == APPLICATION_FEATURE_NAMES
    truths = dict(SimulatedCustomer.objects.values_list("user_id", "default_month"))
    expected = [int(truths[u] is not None) for u in data.user_ids]
    assert data.y.tolist() == expected
    assert data.y.sum() == population.defaults.sum() > 0
    stored = dict(SimulatedCustomer.objects.values_list("user_id", "true_probability"))
    assert data.true_probability.tolist() == [stored[u] for u in data.user_ids]
    assert data.summary["rows"] == 40 and data.summary["bads"] == int(data.y.sum())
    assert data.summary["first_day"] == data.summary["last_day"] == START.isoformat()


def test_an_unfinished_window_keeps_only_the_bads(population):
    """Over 12 months nobody's window is over yet: only those already bad are known."""
    data = application_training_set(window_months=12)
    assert len(data.y) == population.defaults.sum()
    assert data.y.all()


def test_bad_days_are_90_days_after_the_first_unpaid_due_date(population):
    owners = {loan.line.customer_id: loan for loan in Loan.objects.select_related("line")}
    days = bad_days(list(owners))
    truths = dict(SimulatedCustomer.objects.values_list("user_id", "default_month"))
    assert set(days) == {u for u, month in truths.items() if month is not None}
    for customer_id, reached in days.items():
        first_missed = add_months_anchored(START, truths[customer_id])
        assert reached[0] == date.fromordinal(first_missed.toordinal() + 90)
        assert owners[customer_id].days_past_due >= 90


def test_behaviour_set_labels_what_happens_after_the_snapshot_and_its_ceiling(population):
    snapshot = add_months_anchored(START, 2)
    data = behaviour_training_set([snapshot], horizon_months=3)
    assert data.X.shape == (len(data.y), len(BEHAVIOUR_FEATURE_NAMES))
    reached = bad_days(data.user_ids.tolist(), 60)
    horizon_end = add_months_anchored(snapshot, 3)
    for customer_id, label in zip(data.user_ids.tolist(), data.y.tolist(), strict=True):
        days = reached.get(customer_id, [])
        assert all(day > snapshot for day in days)  # customers already in default left out
        assert label == int(any(day <= horizon_end for day in days))
    assert data.y.sum() > 0
    assert (data.as_of == np.datetime64(snapshot)).all()
    months_on_book = data.X[:, BEHAVIOUR_FEATURE_NAMES.index("months_on_book")]
    assert (months_on_book == 2).all()
    assert data.summary["outcome"].startswith("One row per customer per snapshot")

    # The ceiling computed from the platform's rows is the one computed from the plans the
    # simulator followed (one simulation for both checks: it is the slow part).
    assert set(SimulatedCustomer.objects.values_list("history_end", flat=True)) == {
        population.end}
    snapshots = [add_months_anchored(START, 1), add_months_anchored(START, 2) + timedelta(5)]
    data = behaviour_training_set(snapshots, horizon_months=3)
    index = {pk: int(name.rsplit("-", 1)[1]) - 1 for pk, name in
             User.objects.filter(simulated__isnull=False).values_list("pk", "username")}
    dues = tuple(due_dates(START, TERM_MONTHS))
    expected = []
    for customer_id, day in zip(data.user_ids.tolist(), data.as_of.tolist(), strict=True):
        i = index[customer_id]
        expected.append(bad_probability(
            float(population.true_probability[i]),
            history_from_plan(population.plans[i], dues, population.end), snapshot=day,
            window_end=add_months_anchored(day, 3), history_end=population.end))
    assert not np.isnan(data.true_probability).any()
    np.testing.assert_allclose(data.true_probability, expected)
    assert ((data.true_probability == 1) <= (data.y == 1)).all()  # a certain bad is a bad


def test_a_snapshot_after_the_business_date_is_refused(population):
    with pytest.raises(ValueError, match="after the business date"):
        behaviour_training_set(date(2030, 1, 1))
