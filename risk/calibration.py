"""Platt calibration: the one map from a booster's raw margin (log-odds) to a probability of
default, fitted by training and applied by scoring."""

import numpy as np
from sklearn.linear_model import LogisticRegression


def platt_fit(margin: np.ndarray, y: np.ndarray) -> dict:
    """Fit P(bad) = sigmoid(a * margin + b) by unpenalised logistic regression on the margin."""
    regression = LogisticRegression(C=np.inf, max_iter=1000)
    regression.fit(np.asarray(margin, dtype=np.float64).reshape(-1, 1), np.asarray(y))
    return {"a": float(regression.coef_[0, 0]), "b": float(regression.intercept_[0])}


def platt_apply(margin: np.ndarray, calibration: dict) -> np.ndarray:
    """Every stored model carries its fitted `a` and `b`; there is no default map."""
    return 1.0 / (1.0 + np.exp(-(calibration["a"] * np.asarray(margin) + calibration["b"])))
