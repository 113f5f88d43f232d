"""Score drift: the population stability index (PSI) of tonight's scores against the training
distribution, on the training scores' deciles. numpy only, no database.

    edges = training_deciles(training_scores)            # kept with the model version
    expected = bucket_shares(training_scores, edges)     # 10 % each, up to ties
    actual = bucket_shares(tonight_scores, edges)
    psi_status(population_stability_index(expected, actual))

Buckets are closed on the right, as `pandas.qcut` makes them: bucket 0 is (-inf, edges[0]],
bucket k is (edges[k-1], edges[k]], bucket 9 is (edges[8], +inf). A score equal to an edge
falls in the lower bucket. Scores tied across an edge make the training buckets unequal, and
equal edges make a bucket empty; the floor below keeps the index finite."""

import numpy as np

DECILES = 10
# Customary reading of the PSI: at most 0.1 the population is stable; above 0.1 it has shifted
# enough to look at; above 0.25 the model is scoring a population unlike its training one.
PSI_WARNING = 0.1
PSI_ALERT = 0.25
# An empty bucket's share is taken as this (in either distribution) so that ln(a / e) stays
# finite: an empty bucket then adds a large but bounded term, as it should.
PSI_FLOOR = 1e-4

OK, WARNING, ALERT = "ok", "warning", "alert"


def _scores(scores) -> np.ndarray:
    values = np.asarray(scores, dtype=np.float64).ravel()
    if values.size == 0:
        raise ValueError("No scores.")
    if not np.all(np.isfinite(values)):
        raise ValueError("Scores must be finite numbers.")
    return values


def training_deciles(scores) -> np.ndarray:
    """The 9 inner cut points of the scores' deciles: the 10th, 20th, ..., 90th percentiles,
    linearly interpolated between order statistics (numpy's default)."""
    return np.quantile(_scores(scores), np.arange(1, DECILES) / DECILES)


def bucket_shares(scores, edges) -> np.ndarray:
    """The share of `scores` in each of the 10 buckets the 9 `edges` make (see the module's
    doc for the bucket bounds); the shares sum to 1."""
    values = _scores(scores)
    edges = np.asarray(edges, dtype=np.float64).ravel()
    if edges.size != DECILES - 1 or not np.all(np.isfinite(edges)):
        raise ValueError(f"Give the {DECILES - 1} finite inner cut points.")
    if np.any(np.diff(edges) < 0):
        raise ValueError("The cut points must not decrease.")
    # side="left": the number of edges strictly below the score, so a score on an edge goes
    # to the lower bucket.
    buckets = np.searchsorted(edges, values, side="left")
    return np.bincount(buckets, minlength=DECILES) / values.size


def population_stability_index(expected, actual, floor: float = PSI_FLOOR) -> float:
    """sum over buckets of (a - e) * ln(a / e), with every share below `floor` (an empty
    bucket, in either distribution) taken as `floor`; the shares are not renormalised after
    flooring. Zero when the distributions match; never negative."""
    e = np.asarray(expected, dtype=np.float64).ravel()
    a = np.asarray(actual, dtype=np.float64).ravel()
    if e.shape != a.shape or e.size == 0:
        raise ValueError("Give both distributions' shares over the same buckets.")
    if not (np.all(np.isfinite(e)) and np.all(np.isfinite(a))) or np.any(e < 0) or np.any(a < 0):
        raise ValueError("Shares are finite and never negative.")
    if not floor > 0:
        raise ValueError("The floor must be positive.")
    e, a = np.maximum(e, floor), np.maximum(a, floor)
    return float(np.sum((a - e) * np.log(a / e)))


def psi_status(value: float) -> str:
    """"ok" up to and including 0.1, "warning" above 0.1 up to and including 0.25, "alert"
    above 0.25."""
    if not np.isfinite(value) or value < 0:
        raise ValueError("A PSI is a finite number, never negative.")
    if value > PSI_ALERT:
        return ALERT
    if value > PSI_WARNING:
        return WARNING
    return OK
