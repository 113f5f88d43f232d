"""How well a scorecard separates bads from goods and how honest its probabilities are.

Every function takes the outcome `y` (1 = bad, 0 = good) and a score where higher means riskier."""

import numpy as np
from sklearn.metrics import roc_auc_score


def _outcome_and_score(y, score, *, both_classes=True) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=np.int64)
    score = np.asarray(score, dtype=np.float64)
    if y.shape != score.shape:
        raise ValueError(f"{y.shape[0]} outcomes but {score.shape[0]} scores.")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("Outcomes must be 0 (good) or 1 (bad).")
    if both_classes and y.min() == y.max():
        raise ValueError("Both goods and bads are needed to measure separation.")
    return y, score


def auc(y, score) -> float:
    """Probability that a random bad scores above a random good (ties count half)."""
    y, score = _outcome_and_score(y, score)
    return float(roc_auc_score(y, score))


def gini(y, score) -> float:
    """The accuracy ratio credit people quote: 2 * AUC - 1."""
    return 2.0 * auc(y, score) - 1.0


def ks(y, score) -> float:
    """Kolmogorov-Smirnov: the largest gap between the score distributions (CDFs) of bads and
    goods, over every cut-off. The CDFs are compared only after all rows of a tied score, so
    ties are never split between the two sides of a cut-off."""
    y, score = _outcome_and_score(y, score)
    order = np.argsort(score, kind="stable")
    score, y = score[order], y[order]
    bad_cdf = np.cumsum(y) / y.sum()
    good_cdf = np.cumsum(1 - y) / (1 - y).sum()
    # The last row of each run of equal scores is where a cut-off can fall.
    ends = np.append(score[1:] != score[:-1], True)
    return float(np.max(np.abs(bad_cdf[ends] - good_cdf[ends])))


def brier(y, probability) -> float:
    """Mean squared distance between the predicted probability of default and the outcome."""
    y, probability = _outcome_and_score(y, probability, both_classes=False)
    return float(np.mean((probability - y) ** 2))


def separation_report(y, probability) -> dict:
    """AUC, KS, Gini and Brier of calibrated probabilities on one set of rows."""
    value = auc(y, probability)
    return {"auc": value, "ks": ks(y, probability), "gini": 2.0 * value - 1.0,
            "brier": brier(y, probability)}
