"""Five-fold cross-validated AUC of the scorecard and of a logistic-regression baseline, on the
same folds in the same run, so a lender sees what the boosted trees add over a plain model."""

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from . import metrics
from .pipeline import take
from .xgb import MAX_ROUNDS, booster_params, fit_booster, margins, matrix

FOLDS = 5


def folds(y: np.ndarray, *, seed: int, count: int = FOLDS):
    return list(StratifiedKFold(n_splits=count, shuffle=True, random_state=seed)
                .split(np.zeros(len(y)), y))


def model_cv_auc(x, y, *, seed: int, monotone=None, max_rounds: int = MAX_ROUNDS,
                 params: dict | None = None, count: int = FOLDS) -> list[float]:
    """AUC on each held-out fold of the scorecard trained as `train_scorecard` trains it: each
    fold's training rows give a quarter of themselves to early stopping, so the fold scored
    never decides anything about its own model."""
    y = np.asarray(y, dtype=np.int64)
    params = booster_params(seed=seed, monotone=monotone, overrides=params)
    scores = []
    for fit_rows, scored_rows in folds(y, seed=seed, count=count):
        grow, stop = train_test_split(fit_rows, test_size=0.25, stratify=y[fit_rows],
                                      random_state=seed)
        booster, _ = fit_booster(matrix(take(x, grow), y[grow]), matrix(take(x, stop), y[stop]),
                                 params=params, max_rounds=max_rounds)
        scores.append(metrics.auc(y[scored_rows],
                                  margins(booster, matrix(take(x, scored_rows)))))
    return scores


def baseline_pipeline(frame: pd.DataFrame) -> Pipeline:
    """Logistic regression as a careful analyst would set it up without looking at the data:
    numbers median-imputed and standardised, text most-frequent-imputed and one-hot encoded
    (a category unseen in training encodes as all zeros)."""
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
    text = [c for c in frame.columns if c not in numeric]
    prepare = ColumnTransformer([
        ("numbers", Pipeline([("impute", SimpleImputer(strategy="median")),
                              ("scale", StandardScaler())]), numeric),
        ("text", Pipeline([("impute", SimpleImputer(strategy="most_frequent")),
                           ("one_hot", OneHotEncoder(handle_unknown="ignore"))]), text),
    ])
    return Pipeline([("prepare", prepare), ("regression", LogisticRegression(max_iter=2000))])


def baseline_cv_auc(frame: pd.DataFrame, y, *, seed: int, count: int = FOLDS) -> list[float]:
    y = np.asarray(y, dtype=np.int64)
    scores = []
    for fit_rows, scored_rows in folds(y, seed=seed, count=count):
        baseline = baseline_pipeline(frame).fit(frame.iloc[fit_rows], y[fit_rows])
        scores.append(metrics.auc(y[scored_rows],
                                  baseline.predict_proba(frame.iloc[scored_rows])[:, 1]))
    return scores
