"""Fitting an XGBoost scorecard with early stopping; its margins are what calibration maps."""

import os
from collections.abc import Sequence

import numpy as np
import xgboost as xgb

# Shallow trees and a small learning rate: credit data is noisy and mostly additive, so depth 4
# catches the interactions that matter without memorising the training rows.
DEFAULT_PARAMS = {
    "objective": "binary:logistic",
    "eval_metric": "logloss",
    "tree_method": "hist",
    "max_depth": 4,
    "eta": 0.05,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "min_child_weight": 1.0,
    "lambda": 1.0,
}
MAX_ROUNDS = 1000
EARLY_STOPPING_ROUNDS = 50


def booster_params(*, seed: int, monotone: Sequence[int] | None = None,
                   overrides: dict | None = None) -> dict:
    """Training parameters: the defaults, the seed, all cores, and the monotone directions
    (+1: the probability of default may only rise with the feature, -1: only fall, 0: free)."""
    params = {**DEFAULT_PARAMS, "seed": seed, "nthread": os.cpu_count() or 1}
    if monotone is not None and any(monotone):
        params["monotone_constraints"] = "(" + ",".join(str(int(m)) for m in monotone) + ")"
    params.update(overrides or {})
    return params


def matrix(x, y=None, *, feature_names: Sequence[str] | None = None) -> xgb.DMatrix:
    """An XGBoost matrix from a float array (NaN = missing) or a DataFrame whose text columns
    are pandas categories (XGBoost splits on those natively)."""
    names = None if hasattr(x, "columns") else (list(feature_names) if feature_names else None)
    return xgb.DMatrix(x, label=y, missing=np.nan, feature_names=names,
                       enable_categorical=True)


def fit_booster(train: xgb.DMatrix, validation: xgb.DMatrix, *, params: dict,
                max_rounds: int = MAX_ROUNDS,
                early_stopping_rounds: int = EARLY_STOPPING_ROUNDS) -> tuple[xgb.Booster, int]:
    """Boost until the validation loss stops improving; return the booster cut at its best
    round (serving predicts with every tree it holds, so the extra rounds must go) and the
    number of that round, counted from 0."""
    booster = xgb.train(params, train, num_boost_round=max_rounds,
                        evals=[(validation, "validation")],
                        early_stopping_rounds=early_stopping_rounds, verbose_eval=False)
    best = int(booster.best_iteration)
    return booster[: best + 1], best


def margins(booster: xgb.Booster, data: xgb.DMatrix) -> np.ndarray:
    """Raw log-odds, before the logistic link: what the calibration maps to a probability."""
    return booster.predict(data, output_margin=True).astype(np.float64)

