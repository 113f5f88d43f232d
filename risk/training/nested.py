"""Small tables (at most `SMALL_TABLE_ROWS` rows): the scorecard's capacity is chosen by
cross-validation, and the AUC reported for it is measured by an outer cross-validation whose
held-out rows chose nothing.

For each of five outer folds (stratified, seeded: the folds today's 5-fold figures use) the
outer training rows run the whole training procedure: an inner stratified cross-validation
(`GridSearchCV`) picks a capacity from `CAPACITIES` and a number of trees from `ROUNDS`,
Platt calibration is fitted on the inner folds' out-of-fold margins of that choice, and the
booster is refitted on all the outer training rows. That model then scores the outer held-out
rows. The logistic-regression baseline (one-hot text, standardised numbers, L2 strength chosen
by the same inner folds) is scored on the same outer folds. The registered model is the same
procedure run once on every row."""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.linear_model import LogisticRegressionCV
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from xgboost import XGBClassifier

from ..calibration import platt_apply, platt_fit
from . import metrics
from .crossval import FOLDS, baseline_pipeline, folds
from .pipeline import TrainingResult, check_grade_cutoffs, grade_table, take
from .xgb import DEFAULT_PARAMS, MAX_ROUNDS, margins, matrix

# At or below this many rows, `train_model --from-csv` chooses capacity by nested
# cross-validation; above it, a held-out split is big enough to trust and today's path runs.
SMALL_TABLE_ROWS = 5000
INNER_FOLDS = 3
LEARNING_RATE = 0.1
# Fewer histogram bins than the default 256: on a few thousand rows the finer cut-points only
# fit noise, and each tree is built faster.
MAX_BIN = 64
# Trees are scored at each of these counts from one fit per capacity and inner fold, so the
# count is chosen with the capacity at the cost of the largest alone.
ROUNDS = (25, 50, 100, 200)
# From least to most capacity: on a tie the inner cross-validation keeps the simpler model.
CAPACITIES = (
    {"max_depth": [2], "min_child_weight": [5.0], "reg_lambda": [5.0], "reg_alpha": [1.0]},
    {"max_depth": [2], "min_child_weight": [1.0], "reg_lambda": [1.0], "reg_alpha": [0.0]},
    {"max_depth": [3], "min_child_weight": [5.0], "reg_lambda": [5.0], "reg_alpha": [1.0]},
    {"max_depth": [4], "min_child_weight": [10.0], "reg_lambda": [10.0], "reg_alpha": [1.0]},
)
# The baseline's inverse L2 strength, chosen by the inner folds.
BASELINE_C = tuple(float(c) for c in np.logspace(-3, 2, 11))


def is_small(rows: int) -> bool:
    return rows <= SMALL_TABLE_ROWS


def inner_folds(seed: int) -> StratifiedKFold:
    return StratifiedKFold(n_splits=INNER_FOLDS, shuffle=True, random_state=seed)


def rounds_offered(max_rounds: int) -> list[int]:
    """`ROUNDS`, none above `--max-rounds` (which is offered itself when it cuts the list)."""
    return sorted({min(r, max_rounds) for r in ROUNDS})


def fixed_params(*, seed: int, threads: int) -> dict:
    """What the inner cross-validation does not choose: the defaults' row and column sampling,
    a learning rate for few trees, text columns split on natively."""
    return {"objective": "binary:logistic", "eval_metric": "logloss", "tree_method": "hist",
            "enable_categorical": True, "learning_rate": LEARNING_RATE, "max_bin": MAX_BIN,
            "subsample": DEFAULT_PARAMS["subsample"],
            "colsample_bytree": DEFAULT_PARAMS["colsample_bytree"],
            "random_state": seed, "n_jobs": threads}


def booster_estimator(settings: dict, *, seed: int, threads: int) -> XGBClassifier:
    """The scorecard's booster as scikit-learn sees it, with a capacity and a tree count."""
    return XGBClassifier(**fixed_params(seed=seed, threads=threads), **settings)


def _auc_by_rounds(rounds: list[int]):
    """A scorer: AUC of the margins of the first r trees, for each r in `rounds`, from one
    fit and one matrix of the scored rows."""
    def score(estimator, x, y):
        booster, data = estimator.get_booster(), matrix(x)
        return {f"rounds_{r}": metrics.auc(y, booster.predict(data, output_margin=True,
                                                               iteration_range=(0, r)))
                for r in rounds}
    return score


@dataclass
class Choice:
    """What an inner cross-validation chose, and its mean inner AUC (tuned on those folds, so
    optimistic: never the reported figure)."""
    settings: dict
    inner_auc: float


def choose_capacity(x, y, *, seed: int, threads: int, max_rounds: int) -> Choice:
    rounds = rounds_offered(max_rounds)
    search = GridSearchCV(
        booster_estimator({"n_estimators": max(rounds)}, seed=seed, threads=threads),
        [dict(capacity) for capacity in CAPACITIES],
        scoring=_auc_by_rounds(rounds),
        refit=False, cv=inner_folds(seed), error_score="raise")
    search.fit(x, y)
    # Rows: capacities in grid order; columns: tree counts, fewest first. The first best is
    # the simplest of the equally good.
    table = np.column_stack([search.cv_results_[f"mean_test_rounds_{r}"] for r in rounds])
    capacity, count = np.unravel_index(int(np.argmax(table)), table.shape)
    settings = {**search.cv_results_["params"][capacity], "n_estimators": rounds[count]}
    return Choice(settings={k: _plain(v) for k, v in settings.items()},
                  inner_auc=float(table[capacity, count]))


def fit_chosen(x, y, settings: dict, *, seed: int, threads: int):
    """The booster refitted on every row given, with the Platt map fitted on the inner folds'
    out-of-fold margins of the same settings (a map fitted on the booster's own training rows
    would believe its overconfidence)."""
    estimator = booster_estimator(settings, seed=seed, threads=threads)
    out_of_fold = np.empty(len(y))
    for fit_rows, scored_rows in inner_folds(seed).split(np.zeros(len(y)), y):
        part = clone(estimator).fit(take(x, fit_rows), y[fit_rows])
        out_of_fold[scored_rows] = margins(part.get_booster(), matrix(take(x, scored_rows)))
    calibration = platt_fit(out_of_fold, y)
    booster = estimator.fit(x, y).get_booster()
    return booster, calibration


def baseline_search(frame: pd.DataFrame, y, *, seed: int):
    """The baseline pipeline with its L2 strength C chosen by the inner folds' AUC, refitted on
    every row given. The imputation, scaling and one-hot encoding are learnt once from every
    row given (from the features alone: no outcome reaches them), then each C is fitted on the
    inner folds along one regularisation path."""
    pipeline = baseline_pipeline(frame)
    pipeline.set_params(regression=LogisticRegressionCV(
        Cs=list(BASELINE_C), l1_ratios=(0.0,), cv=inner_folds(seed), scoring="roc_auc",
        solver="newton-cholesky", max_iter=1000, use_legacy_attributes=False))
    return pipeline.fit(frame, y)


def _baseline_choice(pipeline) -> tuple[float, float]:
    """The C chosen and its mean inner AUC."""
    regression = pipeline.named_steps["regression"]
    # scores_: (inner fold, l1 ratio, C).
    return float(regression.C_), float(regression.scores_.mean(axis=0).max())


def model_fold(frame: pd.DataFrame, y, fit_rows, scored_rows, *, seed: int, threads: int,
               max_rounds: int) -> tuple[dict, np.ndarray]:
    """One outer fold of the model: the whole training procedure on the fold's training rows,
    then its AUC and calibrated probabilities on the held-out rows."""
    x_fit, y_fit = frame.iloc[fit_rows], y[fit_rows]
    choice = choose_capacity(x_fit, y_fit, seed=seed, threads=threads, max_rounds=max_rounds)
    booster, calibration = fit_chosen(x_fit, y_fit, choice.settings, seed=seed, threads=threads)
    margin = margins(booster, matrix(frame.iloc[scored_rows]))
    return ({"model_auc": metrics.auc(y[scored_rows], margin),
             "model_settings": choice.settings, "model_inner_auc": choice.inner_auc},
            platt_apply(margin, calibration))


def baseline_fold(frame: pd.DataFrame, y, fit_rows, scored_rows, *, seed: int) -> dict:
    """One outer fold of the baseline: C chosen on the fold's training rows, AUC on the rest."""
    baseline = baseline_search(frame.iloc[fit_rows], y[fit_rows], seed=seed)
    c, inner = _baseline_choice(baseline)
    score = baseline.predict_proba(frame.iloc[scored_rows])[:, 1]
    return {"baseline_auc": metrics.auc(y[scored_rows], score), "baseline_C": c,
            "baseline_inner_auc": inner}


@dataclass
class NestedResult:
    training: TrainingResult
    cross_validation: dict


def train_small_table(frame: pd.DataFrame, y, *, seed: int, threads: int = 1,
                      max_rounds: int = MAX_ROUNDS, grade_cutoffs) -> NestedResult:
    """Nested cross-validation of the model and the baseline on the same outer folds, then the
    model trained on every row with the settings the inner cross-validation picks on every row.
    The held-out figures (AUC, KS, Gini, Brier, grades) are on the outer folds' held-out rows:
    each scored by a model, a calibration and settings that never saw it."""
    y = np.asarray(y, dtype=np.int64)
    cutoffs = check_grade_cutoffs(grade_cutoffs)
    probability = np.empty(len(y))
    per_fold = []
    for number, (fit_rows, scored_rows) in enumerate(folds(y, seed=seed), start=1):
        model, probability[scored_rows] = model_fold(
            frame, y, fit_rows, scored_rows, seed=seed, threads=threads, max_rounds=max_rounds)
        per_fold.append({"fold": number, "rows": int(len(scored_rows)), **model,
                         **baseline_fold(frame, y, fit_rows, scored_rows, seed=seed)})

    final = choose_capacity(frame, y, seed=seed, threads=threads, max_rounds=max_rounds)
    booster, calibration = fit_chosen(frame, y, final.settings, seed=seed, threads=threads)
    final_c, final_baseline_inner = _baseline_choice(baseline_search(frame, y, seed=seed))

    report = metrics.separation_report(y, probability)
    report.update({"test_rows": int(len(y)), "test_bad_rate": float(y.mean()),
                   "mean_probability": float(probability.mean()),
                   "grades": grade_table(y, probability, cutoffs)})
    model_folds = [f["model_auc"] for f in per_fold]
    baseline_folds = [f["baseline_auc"] for f in per_fold]
    # Paired by fold: both were scored on the same held-out rows.
    gain = np.subtract(model_folds, baseline_folds)
    cross_validation = {
        "cv_auc": float(np.mean(model_folds)), "cv_auc_std": float(np.std(model_folds, ddof=1)),
        "cv_auc_folds": model_folds,
        "baseline_cv_auc": float(np.mean(baseline_folds)),
        "baseline_cv_auc_std": float(np.std(baseline_folds, ddof=1)),
        "baseline_cv_auc_folds": baseline_folds,
        "beats_baseline": bool(gain.mean() > 0),
        "nested": {
            "small_table_rows": SMALL_TABLE_ROWS, "outer_folds": FOLDS,
            "inner_folds": INNER_FOLDS, "seed": seed,
            "grid": {"capacities": [{k: v[0] for k, v in c.items()} for c in CAPACITIES],
                     "n_estimators": rounds_offered(max_rounds),
                     "learning_rate": LEARNING_RATE, "baseline_C": list(BASELINE_C)},
            "folds": per_fold,
            "final": {"model_settings": final.settings, "model_inner_auc": final.inner_auc,
                      "baseline_C": final_c, "baseline_inner_auc": final_baseline_inner},
            "gain": float(gain.mean()), "gain_std": float(np.std(gain, ddof=1)),
            "folds_won": int((gain > 0).sum()),
            # Over 5 folds a mean beyond one standard deviation of the paired differences is
            # about two standard errors from zero: a difference the folds agree on.
            "gain_clear": bool(abs(gain.mean()) > np.std(gain, ddof=1)),
        },
    }
    trees = int(final.settings["n_estimators"])
    split = {"scheme": "nested cross-validation", "train": int(len(y)),
             "train_bads": int(y.sum()), "outer_folds": FOLDS, "inner_folds": INNER_FOLDS}
    training = TrainingResult(booster=booster, calibration=calibration,
                              grade_cutoffs=cutoffs, metrics=report, split=split,
                              best_iteration=trees - 1,
                              params={**fixed_params(seed=seed, threads=threads),
                                      **final.settings},
                              feature_names=list(frame.columns))
    return NestedResult(training=training, cross_validation=cross_validation)


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value
