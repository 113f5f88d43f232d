"""Scoring with the champion model: calibrated probabilities, grades and per-feature pushes.

Each process loads a card's champion once and keeps it; every
`RISK_CHAMPION_RECHECK_SECONDS` it asks the database (one indexed read) whether another
version has been promoted since, and loads that one if so. No restart is needed. The decision
reads the champion's key with the applicant instead, and passes it in."""

import os
import threading
import time
from dataclasses import dataclass

import numpy as np
import xgboost as xgb
from django.conf import settings

from .calibration import platt_apply
from .errors import NoChampion, RiskError
from .models import Grade, ModelStatus, ModelVersion
from .services.registry import booster_from_bytes

GRADES = (Grade.A, Grade.B, Grade.C, Grade.D, Grade.E)
SMALL_BATCH_ROWS = 1_000


@dataclass
class LoadedModel:
    version: ModelVersion
    booster: xgb.Booster

    @property
    def feature_names(self) -> list[str]:
        return self.version.feature_names

    def _check_width(self, rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.float32)
        if rows.ndim != 2 or rows.shape[1] != len(self.feature_names):
            raise RiskError(f"{self.version} scores {len(self.feature_names)} features; "
                            f"got an array of shape {rows.shape}.")
        return rows

    def margins(self, rows: np.ndarray) -> np.ndarray:
        return self.booster.inplace_predict(self._check_width(rows), predict_type="margin",
                                            missing=np.nan)

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        return platt_apply(self.margins(rows), self.version.calibration)

    def _approximate_contributions(self, rows: np.ndarray) -> np.ndarray:
        """Each feature's push on the margin, per row, with the bias as the last column.
        Approximate (Saabas) contributions rank features like the exact SHAP values at a
        fraction of the cost, and ranking is all the reasons need; like SHAP, a row's
        contributions and bias add up to its margin."""
        rows = self._check_width(rows)
        # A few rows (a decision's one) are built on one thread: starting a thread pool for
        # them costs far more than the work, and on a busy machine tens of milliseconds.
        matrix = xgb.DMatrix(rows, missing=np.nan, feature_names=self.feature_names,
                             nthread=1 if len(rows) <= SMALL_BATCH_ROWS else None)
        return self.booster.predict(matrix, pred_contribs=True, approx_contribs=True)

    def contributions(self, rows: np.ndarray) -> np.ndarray:
        """Each feature's push on the margin, per row (the bias dropped)."""
        return self._approximate_contributions(rows)[:, :-1]

    def probabilities_and_contributions(self, rows: np.ndarray):
        """Both at the cost of the contributions alone: their sum is the margin."""
        contributions = self._approximate_contributions(rows)
        margins = contributions.sum(axis=1, dtype=np.float64)
        return platt_apply(margins, self.version.calibration), contributions[:, :-1]

    def grade(self, probability: float) -> str:
        """A for the lowest risk to E for the highest, by the version's calibrated cut-offs."""
        cutoffs = self.version.grade_cutoffs
        if len(cutoffs) != len(GRADES) - 1:
            raise RiskError(f"{self.version} has no grade cut-offs.")
        return GRADES[int(np.searchsorted(cutoffs, probability, side="right"))]


def load(version: ModelVersion) -> LoadedModel:
    booster = booster_from_bytes(version.booster)
    # One row at a time is fastest on one thread; batch scoring sets its own.
    booster.set_param({"nthread": 1})
    return LoadedModel(version=version, booster=booster)


_cache: dict[str, tuple[LoadedModel, float]] = {}
_lock = threading.Lock()


_UNKNOWN = object()


def champion(card: str, *, current_pk=_UNKNOWN) -> LoadedModel:
    """The card's champion, loaded once per process and replaced when another is promoted.

    `current_pk`: the champion's primary key (None: there is none) as the caller has just read
    it; the decision reads it with the applicant (`risk.selectors.applicant`), so it always
    scores with today's champion and needs no recheck of its own."""
    now = time.monotonic()
    cached = _cache.get(card)
    if (current_pk is _UNKNOWN and cached
            and now - cached[1] < settings.RISK_CHAMPION_RECHECK_SECONDS):
        return cached[0]
    with _lock:
        if current_pk is _UNKNOWN:
            current_pk = (ModelVersion.objects.filter(card=card, status=ModelStatus.CHAMPION)
                          .values_list("pk", flat=True).first())
        if current_pk is None:
            _cache.pop(card, None)
            raise NoChampion(f"No {card} model has been promoted to champion yet.")
        if cached and cached[0].version.pk == current_pk:
            model = cached[0]
        else:
            model = load(ModelVersion.objects.get(pk=current_pk))
        _cache[card] = (model, now)
        return model


def champion_cache_clear() -> None:
    _cache.clear()


def score_batch(model: LoadedModel, rows: np.ndarray, *, with_contributions: bool = False,
                threads: int = 0):
    """Probabilities for many rows in one vectorised call (all cores unless `threads`), and
    contributions only when asked: they cost a thousand times more per row."""
    rows = model._check_width(rows)
    booster = model.booster.copy()
    booster.set_param({"nthread": threads or os.cpu_count()})
    margin = booster.inplace_predict(rows, predict_type="margin", missing=np.nan)
    probabilities = platt_apply(margin, model.version.calibration)
    if not with_contributions:
        return probabilities, None
    return probabilities, LoadedModel(model.version, booster).contributions(rows)
