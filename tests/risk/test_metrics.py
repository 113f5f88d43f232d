"""Separation and calibration measures on examples small enough to work out by hand."""

import numpy as np
import pytest

from risk.calibration import platt_apply, platt_fit
from risk.training.metrics import auc, brier, gini, ks, separation_report

# Goods score 0.1, 0.2, 0.4; bads 0.3, 0.5, 0.6.
Y = [0, 0, 1, 0, 1, 1]
SCORE = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]


def test_ks_is_the_largest_gap_between_the_cdfs_of_goods_and_bads():
    # Cumulative share of goods / bads at or below each score:
    # 0.1: 1/3 vs 0, 0.2: 2/3 vs 0, 0.3: 2/3 vs 1/3, 0.4: 1 vs 1/3, 0.5: 1 vs 2/3, 0.6: 1 vs 1.
    assert ks(Y, SCORE) == pytest.approx(2 / 3)


def test_ks_never_splits_a_tied_score():
    # At 0.2 half the goods and no bad are below the cut-off (gap 1/2); at 0.5 every good and
    # half the bads (gap 1/2). Splitting the tie at 0.5 would wrongly see every good and no bad.
    assert ks([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9]) == pytest.approx(0.5)


@pytest.mark.parametrize(("score", "expected"), [
    ([0.1, 0.2, 0.8, 0.9], 1.0),   # perfect separation
    ([0.5, 0.5, 0.5, 0.5], 0.0),   # no separation
    ([0.9, 0.8, 0.2, 0.1], 1.0),   # reversed: still a full gap (the sign is not KS's business)
])
def test_ks_extremes(score, expected):
    assert ks([0, 0, 1, 1], score) == pytest.approx(expected)


def test_auc_and_gini_by_counting_pairs():
    # Of the 9 (bad, good) pairs, the bad scores higher in 8: only 0.3 < 0.4 is out of order.
    assert auc(Y, SCORE) == pytest.approx(8 / 9)
    assert gini(Y, SCORE) == pytest.approx(7 / 9)


def test_brier_is_the_mean_squared_error_of_the_probabilities():
    # (0.2^2 + 0.3^2 + 0.6^2 + 0^2) / 4 = (0.04 + 0.09 + 0.36) / 4
    assert brier([1, 0, 1, 0], [0.8, 0.3, 0.4, 0.0]) == pytest.approx(0.1225)


def test_report_gathers_all_four():
    report = separation_report(Y, SCORE)
    assert report == pytest.approx({"auc": 8 / 9, "ks": 2 / 3, "gini": 7 / 9,
                                    "brier": np.mean((np.array(SCORE) - Y) ** 2)})


@pytest.mark.parametrize("measure", [auc, ks])
def test_separation_needs_both_classes(measure):
    with pytest.raises(ValueError, match="Both goods and bads"):
        measure([0, 0, 0], [0.1, 0.2, 0.3])


def test_outcomes_must_be_zero_or_one_and_match_the_scores():
    with pytest.raises(ValueError, match="0 \\(good\\) or 1 \\(bad\\)"):
        ks([0, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="outcomes but"):
        brier([0, 1, 1], [0.1, 0.2])


def test_platt_recovers_a_known_map():
    rng = np.random.default_rng(3)
    margin = rng.normal(0, 2, 200_000)
    y = rng.random(margin.size) < 1 / (1 + np.exp(-(0.6 * margin - 1.5)))
    calibration = platt_fit(margin, y)
    assert calibration["a"] == pytest.approx(0.6, abs=0.02)
    assert calibration["b"] == pytest.approx(-1.5, abs=0.03)
    np.testing.assert_allclose(platt_apply(margin[:3], calibration),
                               1 / (1 + np.exp(-(calibration["a"] * margin[:3]
                                                 + calibration["b"]))))
