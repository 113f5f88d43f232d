"""The training pipeline, free of Django: split, boost with early stopping, calibrate, measure.

Rows are split once, stratified on the outcome: 60 % to grow the trees, 20 % to decide when to
stop and to fit the calibration, and 20 % held out that neither ever sees, on which every
reported figure is measured. When rows come in groups (the B-card's: one customer at several
snapshots) the split is by group, so that no customer is on two sides of it, stratified as far
as whole groups allow."""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import xgboost as xgb
from sklearn.model_selection import train_test_split

from ..calibration import platt_apply, platt_fit
from ..monitoring import bucket_shares, training_deciles
from . import metrics
from .xgb import MAX_ROUNDS, booster_params, fit_booster, margins, matrix

# Probability-of-default cut-offs between grades A|B, B|C, C|D and D|E.
DEFAULT_GRADE_CUTOFFS = (0.03, 0.06, 0.12, 0.25)
GRADE_LETTERS = "ABCDE"
TEST_SHARE = 0.2
VALIDATION_SHARE = 0.2
# A grouped split's stratum needs this many groups to be split three ways.
MIN_STRATUM = 5


@dataclass
class TrainingResult:
    booster: xgb.Booster
    calibration: dict
    grade_cutoffs: list[float]
    metrics: dict
    split: dict
    best_iteration: int
    params: dict
    feature_names: list[str]
    # The held-out rows (row numbers) and the model's calibrated probability on them.
    test_rows: np.ndarray | None = None
    test_probability: np.ndarray | None = None

    def summary(self) -> dict:
        """What the registry keeps about how the model was trained."""
        return {"split": self.split, "best_iteration": self.best_iteration,
                "trees": self.best_iteration + 1, "params": self.params}


def check_grade_cutoffs(cutoffs: Sequence[float]) -> list[float]:
    cutoffs = [float(c) for c in cutoffs]
    if (len(cutoffs) != len(GRADE_LETTERS) - 1 or not all(0 < c < 1 for c in cutoffs)
            or cutoffs != sorted(set(cutoffs))):
        raise ValueError(f"Grade cut-offs must be {len(GRADE_LETTERS) - 1} increasing "
                         f"probabilities between 0 and 1; got {cutoffs}.")
    return cutoffs


def stratified_split(y: np.ndarray, *, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row numbers for training, validation and test, each with the overall bad rate."""
    rows = np.arange(len(y))
    rest, test = train_test_split(rows, test_size=TEST_SHARE, stratify=y, random_state=seed)
    train, validation = train_test_split(
        rest, test_size=VALIDATION_SHARE / (1 - TEST_SHARE), stratify=y[rest],
        random_state=seed)
    return np.sort(train), np.sort(validation), np.sort(test)


def grouped_split(y: np.ndarray, groups: np.ndarray, *,
                  seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row numbers for training, validation and test with every group's rows on one side:
    the groups are split 60/20/20 like `stratified_split` splits rows, stratified on how many
    bad rows each group has (0, 1, 2, 3 or more; a count too rare to split joins the one
    below), so that each side's bad rate is near the overall one as whole groups allow.
    (sklearn's StratifiedGroupKFold balances fold by fold instead, but took 23 s for 20,000
    customers here; this is two stratified shuffles of the groups, a fraction of a second.)"""
    y, groups = np.asarray(y), np.asarray(groups)
    if len(y) != len(groups):
        raise ValueError(f"{len(y)} outcomes but {len(groups)} groups.")
    _, group_of_row = np.unique(groups, return_inverse=True)
    strata = np.minimum(np.bincount(group_of_row, weights=y), 3).astype(np.int64)
    for count in (3, 2, 1):
        if (strata == count).sum() < MIN_STRATUM:
            strata[strata == count] = count - 1
    counts = np.bincount(strata)
    stratify = strata if (counts > 0).sum() > 1 and counts[counts > 0].min() >= MIN_STRATUM \
        else None
    ids = np.arange(len(strata))
    rest, test = train_test_split(ids, test_size=TEST_SHARE, stratify=stratify,
                                  random_state=seed)
    train, validation = train_test_split(
        rest, test_size=VALIDATION_SHARE / (1 - TEST_SHARE),
        stratify=None if stratify is None else stratify[rest], random_state=seed)
    return tuple(np.flatnonzero(np.isin(group_of_row, side)) for side in (train, validation, test))


def take(x, rows: np.ndarray):
    """These rows of an array or a DataFrame."""
    return x.iloc[rows] if hasattr(x, "iloc") else x[rows]


def grade_table(y: np.ndarray, probability: np.ndarray, cutoffs: Sequence[float]) -> list[dict]:
    """Per grade: share of rows, observed bad rate and mean predicted probability, to check
    that the grades rank risk and that the cut-offs leave no grade empty by accident."""
    grades = np.searchsorted(np.asarray(cutoffs), probability, side="right")
    table = []
    for number, letter in enumerate(GRADE_LETTERS):
        members = grades == number
        count = int(members.sum())
        table.append({
            "grade": letter, "rows": count, "share": count / len(y),
            "bad_rate": float(y[members].mean()) if count else None,
            "mean_probability": float(probability[members].mean()) if count else None,
        })
    return table


def train_scorecard(x, y, *, feature_names: Sequence[str], monotone: Sequence[int] | None = None,
                    seed: int = 0, true_probability: np.ndarray | None = None,
                    grade_cutoffs: Sequence[float] = DEFAULT_GRADE_CUTOFFS,
                    max_rounds: int = MAX_ROUNDS, params: dict | None = None,
                    groups: np.ndarray | None = None) -> TrainingResult:
    """Train and measure one scorecard. `x` is a float array (NaN = missing) or a DataFrame
    with category columns; `y` is 1 for a bad, 0 for a good. With `true_probability` (the
    simulator's ground truth) the report adds the best AUC any model could reach on the same
    held-out rows and the model's share of it. With `groups` (one label per row, e.g. the
    customer) the split keeps each group's rows on one side (`grouped_split`)."""
    y = np.asarray(y, dtype=np.int64)
    feature_names = list(feature_names)
    if monotone is not None and len(monotone) != len(feature_names):
        raise ValueError(f"{len(monotone)} monotone directions for {len(feature_names)} "
                         "features.")
    cutoffs = check_grade_cutoffs(grade_cutoffs)
    if groups is None:
        train, validation, test = stratified_split(y, seed=seed)
    else:
        train, validation, test = grouped_split(y, groups, seed=seed)
    params = booster_params(seed=seed, monotone=monotone, overrides=params)

    def part(rows):
        return matrix(take(x, rows), y[rows], feature_names=feature_names)

    validation_matrix = part(validation)
    booster, best = fit_booster(part(train), validation_matrix, params=params,
                                max_rounds=max_rounds)
    calibration = platt_fit(margins(booster, validation_matrix), y[validation])
    probability = platt_apply(margins(booster, part(test)), calibration)

    y_test = y[test]
    report = metrics.separation_report(y_test, probability)
    report.update({
        "test_rows": int(len(test)), "test_bad_rate": float(y_test.mean()),
        "mean_probability": float(probability.mean()),
        "grades": grade_table(y_test, probability, cutoffs),
    })
    # The training distribution the nightly drift check compares with (`risk.monitoring`):
    # the held-out rows' calibrated scores, as the model will score a population like them.
    edges = training_deciles(probability)
    report.update({"score_deciles": edges.tolist(),
                   "score_shares": bucket_shares(probability, edges).tolist()})
    if true_probability is not None:
        ceiling = metrics.auc(y_test, np.asarray(true_probability)[test])
        report.update({"ceiling_auc": ceiling, "auc_share_of_ceiling": report["auc"] / ceiling,
                       "ceiling_brier": metrics.brier(y_test,
                                                      np.asarray(true_probability)[test])})
    split = {"train": int(len(train)), "validation": int(len(validation)),
             "test": int(len(test)), "train_bads": int(y[train].sum()),
             "validation_bads": int(y[validation].sum()), "test_bads": int(y_test.sum())}
    if groups is not None:
        groups = np.asarray(groups)
        split.update({f"{name}_groups": int(len(np.unique(groups[rows])))
                      for name, rows in (("train", train), ("validation", validation),
                                         ("test", test))})
    return TrainingResult(booster=booster, calibration=calibration, grade_cutoffs=cutoffs,
                          metrics=report, split=split, best_iteration=best, params=params,
                          feature_names=feature_names, test_rows=test,
                          test_probability=probability)
