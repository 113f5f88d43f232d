"""The registry keeps boosters as UBJSON and numbers versions per card; promotion is recorded and
leaves one champion; serving notices a new champion without a restart."""

import numpy as np
import pytest
import xgboost as xgb
from django.db import IntegrityError, transaction

from risk.errors import NoChampion, RiskError
from risk.features.application import APPLICATION_FEATURE_NAMES, APPLICATION_FEATURES_HASH
from risk.models import ModelPromotion, ModelStatus, ModelVersion
from risk.scoring import champion, champion_cache_clear, score_batch
from risk.services.registry import booster_from_bytes, model_version_promote, model_version_register
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
WIDTH = len(APPLICATION_FEATURE_NAMES)


def _booster(seed):
    rng = np.random.default_rng(seed)
    x = rng.random((400, WIDTH))
    y = (x[:, 1] + rng.normal(0, 0.2, 400)) > 0.6
    return xgb.train({"objective": "binary:logistic", "max_depth": 3, "seed": seed},
                     xgb.DMatrix(x, label=y), num_boost_round=15)


def _register(seed=1, card="application", cutoffs=(0.03, 0.06, 0.12, 0.25)):
    return model_version_register(
        card=card, booster=_booster(seed), feature_names=APPLICATION_FEATURE_NAMES,
        feature_hash=APPLICATION_FEATURES_HASH, training_summary={"rows": 400},
        metrics={"auc": 0.8}, calibration={"a": 1.0, "b": 0.0}, grade_cutoffs=cutoffs)


@pytest.fixture(autouse=True)
def fresh_cache(settings):
    settings.RISK_CHAMPION_RECHECK_SECONDS = 0
    champion_cache_clear()
    yield
    champion_cache_clear()


def test_versions_are_numbered_per_card_and_round_trip_exactly():
    first, second = _register(1), _register(2)
    other_card = _register(3, card="behaviour")
    assert (first.version, second.version, other_card.version) == (1, 2, 1)
    stored = ModelVersion.objects.get(pk=first.pk)
    assert bytes(stored.booster)[:1] == b"{"  # UBJSON object, not a pickle
    rows = np.random.default_rng(9).random((50, WIDTH)).astype(np.float32)
    np.testing.assert_array_equal(booster_from_bytes(bytes(stored.booster)).inplace_predict(rows),
                                  _booster(1).inplace_predict(rows))


def test_unknown_card_is_refused():
    with pytest.raises(RiskError, match="Unknown card"):
        _register(card="c-card")


def test_promotion_retires_the_previous_champion_and_is_recorded():
    officer = UserFactory()
    first, second = _register(1), _register(2)
    model_version_promote(model_version_id=first.pk, reason="first model")
    promotion = model_version_promote(model_version_id=second.pk, promoted_by=officer,
                                      reason="better AUC")
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (ModelStatus.RETIRED, ModelStatus.CHAMPION)
    assert (promotion.previous_champion, promotion.promoted_by, promotion.reason) == (
        first, officer, "better AUC")
    assert second.promoted_at is not None
    assert ModelPromotion.objects.count() == 2


@pytest.mark.parametrize("reason", ["", "   "])
def test_promotion_needs_a_reason(reason):
    version = _register()
    with pytest.raises(RiskError, match="reason"):
        model_version_promote(model_version_id=version.pk, reason=reason)
    assert not ModelPromotion.objects.exists()


def test_a_champion_cannot_be_promoted_again_nor_a_csv_model_at_all():
    version = _register()
    model_version_promote(model_version_id=version.pk, reason="go")
    with pytest.raises(RiskError, match="already"):
        model_version_promote(model_version_id=version.pk, reason="again")
    csv_model = _register(card="csv")
    with pytest.raises(RiskError, match="CSV"):
        model_version_promote(model_version_id=csv_model.pk, reason="try")


def test_the_database_allows_one_champion_per_card():
    first, second = _register(1), _register(2)
    ModelVersion.objects.filter(pk=first.pk).update(status=ModelStatus.CHAMPION)
    with pytest.raises(IntegrityError), transaction.atomic():
        ModelVersion.objects.filter(pk=second.pk).update(status=ModelStatus.CHAMPION)


def test_serving_notices_a_new_champion_without_a_restart():
    with pytest.raises(NoChampion):
        champion("application")
    first, second = _register(1), _register(2)
    model_version_promote(model_version_id=first.pk, reason="first")
    loaded = champion("application")
    assert loaded.version.pk == first.pk
    assert champion("application") is loaded  # loaded once, kept
    model_version_promote(model_version_id=second.pk, reason="second")
    assert champion("application").version.pk == second.pk


def test_between_checks_the_loaded_model_keeps_serving(settings):
    settings.RISK_CHAMPION_RECHECK_SECONDS = 3600
    first, second = _register(1), _register(2)
    model_version_promote(model_version_id=first.pk, reason="first")
    assert champion("application").version.pk == first.pk
    model_version_promote(model_version_id=second.pk, reason="second")
    assert champion("application").version.pk == first.pk


def test_probabilities_follow_the_calibration_and_batch_agrees_with_single_rows():
    version = _register()
    version.calibration = {"a": 0.5, "b": -1.0}
    version.save(update_fields=["calibration"])
    model_version_promote(model_version_id=version.pk, reason="go")
    model = champion("application")
    rows = np.random.default_rng(4).random((30, WIDTH)).astype(np.float32)
    margins = model.margins(rows)
    expected = 1 / (1 + np.exp(-(0.5 * margins - 1.0)))
    np.testing.assert_allclose(model.probabilities(rows), expected, rtol=1e-6)
    batch, contributions = score_batch(model, rows, with_contributions=True)
    np.testing.assert_allclose(batch, expected, rtol=1e-6)
    assert contributions.shape == rows.shape
    assert score_batch(model, rows)[1] is None


def test_rows_of_the_wrong_width_are_refused():
    model_version_promote(model_version_id=_register().pk, reason="go")
    with pytest.raises(RiskError, match="features"):
        champion("application").probabilities(np.zeros((2, WIDTH - 1)))


@pytest.mark.parametrize(("probability", "grade"), [
    (0.0, "A"), (0.0299, "A"), (0.03, "B"), (0.0599, "B"), (0.06, "C"), (0.12, "D"),
    (0.2499, "D"), (0.25, "E"), (1.0, "E"),
])
def test_grades_by_cutoff(probability, grade):
    model_version_promote(model_version_id=_register().pk, reason="go")
    assert champion("application").grade(probability) == grade


def test_probabilities_from_contributions_equal_the_direct_ones():
    """The decision takes its probability from the contributions' sum; it must be the same
    probability the model gives directly."""
    version = _register()
    version.calibration = {"a": 0.8, "b": -0.5}
    version.save(update_fields=["calibration"])
    model_version_promote(model_version_id=version.pk, reason="go")
    model = champion("application")
    rows = np.random.default_rng(5).random((200, WIDTH)).astype(np.float32)
    rows[::7, 3] = np.nan
    probabilities, contributions = model.probabilities_and_contributions(rows)
    np.testing.assert_allclose(probabilities, model.probabilities(rows), rtol=1e-5)
    np.testing.assert_array_equal(contributions, model.contributions(rows))
