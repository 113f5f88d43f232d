"""A tiny B-card for rescoring tests: trained on synthetic rows of the behaviour features where
the risk rises steeply with days past due, so that a customer paying on time grades A and one
forty days past due grades E."""

from functools import lru_cache

import numpy as np
import xgboost as xgb

from risk.features.behaviour import BEHAVIOUR_FEATURE_NAMES, BEHAVIOUR_FEATURES_HASH
from risk.models import ModelVersion
from risk.scoring import champion_cache_clear
from risk.services import rescoring
from risk.services.registry import (
    model_version_challenger_set,
    model_version_promote,
    model_version_register,
)

COLUMN = {name: i for i, name in enumerate(BEHAVIOUR_FEATURE_NAMES)}
CUTOFFS = (0.03, 0.06, 0.12, 0.25)
# Deciles of a made-up training distribution: 0.01, 0.02, ..., 0.09.
DECILES = [round(0.01 * k, 2) for k in range(1, 10)]


@lru_cache(maxsize=1)
def behaviour_booster() -> xgb.Booster:
    rng = np.random.default_rng(11)
    n = 4_000
    x = np.zeros((n, len(BEHAVIOUR_FEATURE_NAMES)), dtype=np.float32)
    x[:, COLUMN["utilisation"]] = rng.uniform(0, 1, n)
    x[:, COLUMN["on_time_share"]] = rng.uniform(0.5, 1, n)
    dpd = np.where(rng.random(n) < 0.3, rng.integers(1, 90, n), 0)
    x[:, COLUMN["days_past_due_now"]] = dpd
    x[:, COLUMN["worst_dpd_3m"]] = dpd
    x[:, COLUMN["worst_dpd_6m"]] = dpd
    x[:, COLUMN["worst_dpd_12m"]] = dpd
    x[:, COLUMN["months_on_book"]] = rng.integers(0, 24, n)
    x[:, COLUMN["daily_rate_drawn"]] = rng.uniform(0.0002, 0.0006, n)
    logit = -4.5 + 0.15 * x[:, COLUMN["days_past_due_now"]]
    y = rng.random(n) < 1 / (1 + np.exp(-logit))
    return xgb.train({"objective": "binary:logistic", "max_depth": 2, "eta": 0.3, "seed": 11,
                      "nthread": 1},
                     xgb.DMatrix(x, label=y, feature_names=list(BEHAVIOUR_FEATURE_NAMES)),
                     num_boost_round=60)


def bcard_install(*, role="champion", calibration=None) -> ModelVersion:
    """Register the tiny booster as the B-card's champion (or challenger, or a candidate).
    `calibration` maps the margin to the probability (default: the booster's own).

    The process's caches of loaded models are emptied first: they are keyed by primary key,
    which SQLite hands out again after a test's rollback, so a model of an earlier test would
    otherwise score for this one."""
    champion_cache_clear()
    rescoring._challengers.clear()
    version = model_version_register(
        card="behaviour", booster=behaviour_booster(), feature_names=BEHAVIOUR_FEATURE_NAMES,
        feature_hash=BEHAVIOUR_FEATURES_HASH, training_summary={"source": "tests"},
        metrics={"score_deciles": DECILES, "score_shares": [0.1] * 10},
        calibration=calibration or {"a": 1.0, "b": 0.0}, grade_cutoffs=CUTOFFS)
    if role == "champion":
        model_version_promote(model_version_id=version.pk, reason="rescoring tests")
    elif role == "challenger":
        model_version_challenger_set(model_version_id=version.pk, reason="rescoring tests")
    version.refresh_from_db()
    return version
