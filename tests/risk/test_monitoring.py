"""Score drift (`risk.monitoring`): deciles, bucket shares and the PSI on hand-made
distributions, with the figures worked by hand. Pure numpy: no database."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from risk.monitoring import (
    ALERT,
    OK,
    PSI_ALERT,
    PSI_FLOOR,
    PSI_WARNING,
    WARNING,
    bucket_shares,
    population_stability_index,
    psi_status,
    training_deciles,
)

TENTHS = [0.1] * 10


def test_deciles_of_one_to_a_hundred():
    # numpy's linear interpolation: the q-quantile of 1..100 is 1 + q x 99, so
    # 10.9, 20.8, 30.7, 40.6, 50.5, 60.4, 70.3, 80.2, 90.1.
    edges = training_deciles(np.arange(1, 101))
    assert edges == pytest.approx([10.9, 20.8, 30.7, 40.6, 50.5, 60.4, 70.3, 80.2, 90.1])
    # Ten scores in each bucket: 1-10, 11-20, ..., 91-100.
    assert bucket_shares(np.arange(1, 101), edges) == pytest.approx(TENTHS)


def test_a_score_on_an_edge_falls_in_the_lower_bucket():
    # 0..10: the q-quantile is 10 q, so the edges are 1, 2, ..., 9 exactly, and a score on an
    # edge goes below it: (-inf, 1] holds 0 and 1, (1, 2] holds 2, ..., (9, inf) holds 10.
    scores = np.arange(0, 11)
    edges = training_deciles(scores)
    assert edges.tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 9]
    assert bucket_shares(scores, edges) == pytest.approx([2 / 11] + [1 / 11] * 9)


def test_shares_count_scores_beyond_the_outer_edges():
    edges = list(range(1, 10))
    # -5 and 0.5 below the first edge, 1e9 above the last.
    assert bucket_shares([-5, 0.5, 4.5, 1e9], edges) == pytest.approx(
        [0.5, 0, 0, 0, 0.25, 0, 0, 0, 0, 0.25])


def test_tied_training_scores_leave_buckets_empty():
    # Half the scores 0, half 1: every edge from the 10th to the 40th percentile is 0 and
    # from the 60th up is 1; the 50th interpolates to 0.5.
    scores = [0] * 50 + [1] * 50
    edges = training_deciles(scores)
    assert edges == pytest.approx([0, 0, 0, 0, 0.5, 1, 1, 1, 1])
    assert bucket_shares(scores, edges) == pytest.approx([0.5, 0, 0, 0, 0, 0.5, 0, 0, 0, 0])


def test_the_psi_of_identical_distributions_is_zero():
    assert population_stability_index(TENTHS, TENTHS) == 0.0


def test_the_psi_of_a_hand_made_shift():
    # Expected 10 % a bucket; actual 5, 5, 10 x 6, 15, 15 %. The 10 % buckets add nothing;
    # each 5 % adds (0.05 - 0.10) ln(0.5) = 0.05 ln 2 and each 15 % adds 0.05 ln 1.5:
    # 0.1 (ln 2 + ln 1.5) = 0.1 ln 3 = 0.1 x 1.0986123 = 0.109861.
    actual = [0.05, 0.05] + [0.10] * 6 + [0.15, 0.15]
    psi = population_stability_index(TENTHS, actual)
    assert round(psi, 6) == 0.109861
    assert psi == pytest.approx(0.1 * math.log(3), abs=1e-12)
    assert psi_status(psi) == WARNING


def test_the_psi_of_a_larger_shift():
    # Actual 2, 8, 10 x 7, 20 %:
    #   (0.02 - 0.1) ln(0.2) = -0.08 x -1.6094379 = 0.1287550
    #   (0.08 - 0.1) ln(0.8) = -0.02 x -0.2231436 = 0.0044629
    #   (0.20 - 0.1) ln(2)   =  0.10 x  0.6931472 = 0.0693147
    # total 0.2025326 -> 0.202533.
    actual = [0.02, 0.08] + [0.10] * 7 + [0.20]
    assert round(population_stability_index(TENTHS, actual), 6) == 0.202533


def test_an_empty_bucket_is_floored():
    # Actual 0, 10 x 8, 20 %: the empty bucket counts as 0.0001 (not renormalised):
    #   (0.0001 - 0.1) ln(0.0001 / 0.1) = -0.0999 x ln(0.001) = -0.0999 x -6.90775528
    #                                   = 0.69008475
    #   (0.2 - 0.1) ln 2 = 0.1 x 0.69314718 = 0.06931472
    # total 0.75939947 -> 0.759399.
    actual = [0.0] + [0.10] * 8 + [0.20]
    psi = population_stability_index(TENTHS, actual)
    assert round(psi, 6) == 0.759399
    assert psi_status(psi) == ALERT
    # A larger floor makes the empty bucket count for less:
    #   (0.001 - 0.1) ln(0.01) = -0.099 x -4.60517019 = 0.45591185; + 0.06931472
    #   = 0.52522657 -> 0.525227.
    assert round(population_stability_index(TENTHS, actual, floor=1e-3), 6) == 0.525227
    assert PSI_FLOOR == 1e-4


def test_an_empty_expected_bucket_is_floored_too():
    expected = [0.0] + [0.10] * 8 + [0.20]
    # Symmetric in the two distributions: (a - e) ln(a / e) = (e - a) ln(e / a).
    assert population_stability_index(expected, TENTHS) == pytest.approx(
        population_stability_index(TENTHS, expected))


@pytest.mark.parametrize("value, status", [
    (0.0, OK),
    (0.1, OK),
    (math.nextafter(0.1, 1), WARNING),
    (0.25, WARNING),
    (math.nextafter(0.25, 1), ALERT),
    (3.0, ALERT),
])
def test_status_thresholds(value, status):
    assert (PSI_WARNING, PSI_ALERT) == (0.1, 0.25)
    assert psi_status(value) == status


@pytest.mark.parametrize("call", [
    lambda: training_deciles([]),
    lambda: training_deciles([1.0, float("nan")]),
    lambda: bucket_shares([1.0], [1, 2, 3]),
    lambda: bucket_shares([1.0], [9, 8, 7, 6, 5, 4, 3, 2, 1]),
    lambda: population_stability_index(TENTHS, [0.5, 0.5]),
    lambda: population_stability_index(TENTHS, [-0.1] + [0.1] * 9),
    lambda: population_stability_index(TENTHS, TENTHS, floor=0),
    lambda: psi_status(float("nan")),
])
def test_bad_inputs_are_refused(call):
    with pytest.raises(ValueError):
        call()


scores = st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=300)


@hypothesis_settings(max_examples=200, deadline=None)
@given(scores, scores)
def test_shares_sum_to_one_and_the_psi_is_never_negative(training, tonight):
    edges = training_deciles(training)
    assert len(edges) == 9 and np.all(np.diff(edges) >= 0)
    expected, actual = bucket_shares(training, edges), bucket_shares(tonight, edges)
    assert expected.sum() == pytest.approx(1) and actual.sum() == pytest.approx(1)
    assert population_stability_index(expected, actual) >= 0
    assert population_stability_index(expected, expected) == 0
