"""A B-card champion for the close benchmark's book, so that the nightly rescoring step does
its full work there: a booster of a real B-card's size (200 trees of depth 4 over the behaviour
features) trained on synthetic rows where the risk rises with days past due and utilisation.
Its figures mean nothing; only its cost and its grades spread over the book matter."""

import numpy as np
import xgboost as xgb

from risk.features.behaviour import BEHAVIOUR_FEATURE_NAMES, BEHAVIOUR_FEATURES_HASH
from risk.monitoring import bucket_shares, training_deciles
from risk.services.registry import model_version_promote, model_version_register

COLUMN = {name: i for i, name in enumerate(BEHAVIOUR_FEATURE_NAMES)}


def synthetic_rows(n: int, seed: int = 5):
    rng = np.random.default_rng(seed)
    x = np.zeros((n, len(BEHAVIOUR_FEATURE_NAMES)), dtype=np.float32)
    dpd = np.where(rng.random(n) < 0.1, rng.integers(1, 180, n), 0)
    for name in ("days_past_due_now", "worst_dpd_3m", "worst_dpd_6m", "worst_dpd_12m"):
        x[:, COLUMN[name]] = dpd
    x[:, COLUMN["utilisation"]] = rng.uniform(0, 1, n)
    x[:, COLUMN["on_time_share"]] = rng.uniform(0.6, 1, n)
    x[:, COLUMN["months_on_book"]] = rng.integers(0, 24, n)
    x[:, COLUMN["limit_changes_6m"]] = rng.integers(0, 2, n)
    x[:, COLUMN["daily_rate_drawn"]] = rng.uniform(0.0002, 0.0006, n)
    logit = -4.0 + 0.05 * dpd + 1.5 * x[:, COLUMN["utilisation"]]
    y = rng.random(n) < 1 / (1 + np.exp(-logit))
    return x, y


def bcard_champion_install():
    x, y = synthetic_rows(20_000)
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 4, "eta": 0.05,
                         "seed": 5, "nthread": 2},
                        xgb.DMatrix(x, label=y, feature_names=list(BEHAVIOUR_FEATURE_NAMES)),
                        num_boost_round=200)
    probability = booster.predict(xgb.DMatrix(x, feature_names=list(BEHAVIOUR_FEATURE_NAMES)))
    edges = training_deciles(probability)
    version = model_version_register(
        card="behaviour", booster=booster, feature_names=BEHAVIOUR_FEATURE_NAMES,
        feature_hash=BEHAVIOUR_FEATURES_HASH, training_summary={"source": "benchmark"},
        metrics={"score_deciles": edges.tolist(),
                 "score_shares": bucket_shares(probability, edges).tolist()},
        # The booster's own probabilities: its margin is their logit.
        calibration={"a": 1.0, "b": 0.0}, grade_cutoffs=[0.03, 0.06, 0.12, 0.25])
    model_version_promote(model_version_id=version.pk, reason="close benchmark")
    return version
