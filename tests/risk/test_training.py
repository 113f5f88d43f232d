"""The training pipeline on synthetic data with a known truth, and `train_model --card`."""

import json
from datetime import date
from io import StringIO

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from risk import datasets
from risk.calibration import platt_apply
from risk.features.application import (
    APPLICATION_FEATURE_NAMES,
    APPLICATION_FEATURES,
    APPLICATION_FEATURES_HASH,
)
from risk.features.behaviour import (
    BEHAVIOUR_FEATURE_NAMES,
    BEHAVIOUR_FEATURES,
    BEHAVIOUR_FEATURES_HASH,
)
from risk.models import ModelPromotion, ModelStatus, ModelVersion
from risk.scoring import champion, champion_cache_clear
from risk.training.pipeline import check_grade_cutoffs, stratified_split, train_scorecard
from risk.training.xgb import margins, matrix
from tests.factories import set_business_date

ROUNDS = 150
# One thread: the tests share a small machine with other work, where XGBoost's threads waiting
# on each other at every barrier would make them slow.
ONE_THREAD = {"nthread": 1}


def synthetic(n, seed=0, width=5):
    """Features with a known probability of default: rising with x0 (in a curve, with a dip the
    trees would follow unless told not to), falling with x1, an interaction, and noise columns;
    one value in ten missing."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, width))
    logit = (-2.0 + 0.9 * x[:, 0] + 0.6 * np.sin(3 * x[:, 0]) - 0.8 * x[:, 1]
             + 0.4 * x[:, 2] * x[:, 3])
    truth = 1 / (1 + np.exp(-logit))
    y = (rng.random(n) < truth).astype(np.int64)
    x[rng.random(x.shape) < 0.1] = np.nan
    return x.astype(np.float32), y, truth


NAMES = [f"x{i}" for i in range(5)]
MONOTONE = [1, -1, 0, 0, 0]


@pytest.fixture(scope="module")
def trained():
    x, y, truth = synthetic(4000)
    return train_scorecard(x, y, feature_names=NAMES, monotone=MONOTONE, seed=7,
                           true_probability=truth, max_rounds=ROUNDS, params=ONE_THREAD)


def test_the_split_is_stratified_disjoint_and_complete():
    y = np.r_[np.ones(200), np.zeros(800)].astype(int)
    train, validation, test = stratified_split(y, seed=1)
    assert (len(train), len(validation), len(test)) == (600, 200, 200)
    assert sorted(np.r_[train, validation, test]) == list(range(1000))
    assert [y[part].sum() for part in (train, validation, test)] == [120, 40, 40]


def test_a_model_finds_the_signal_and_its_probabilities_are_calibrated(trained):
    m = trained.metrics
    assert m["auc"] > 0.75
    assert m["auc_share_of_ceiling"] == pytest.approx(m["auc"] / m["ceiling_auc"])
    assert m["auc_share_of_ceiling"] > 0.93
    assert m["gini"] == pytest.approx(2 * m["auc"] - 1)
    assert 0 < m["ks"] < 1 and 0 < m["brier"] < 0.25
    # Calibrated: on rows neither training nor calibration saw, the mean predicted probability
    # is the bad rate.
    assert m["mean_probability"] == pytest.approx(m["test_bad_rate"], abs=0.025)
    assert trained.split == {"train": 2400, "validation": 800, "test": 800,
                             "train_bads": trained.split["train_bads"],
                             "validation_bads": trained.split["validation_bads"],
                             "test_bads": round(m["test_bad_rate"] * 800)}


def test_early_stopping_keeps_only_the_trees_up_to_the_best_round(trained):
    assert trained.best_iteration < ROUNDS - 1
    assert trained.booster.num_boosted_rounds() == trained.best_iteration + 1
    assert trained.summary()["trees"] == trained.best_iteration + 1


def test_grades_partition_the_test_rows_by_the_cutoffs(trained):
    grades = trained.metrics["grades"]
    assert [g["grade"] for g in grades] == list("ABCDE")
    assert sum(g["rows"] for g in grades) == trained.metrics["test_rows"]
    filled = [g for g in grades if g["rows"]]
    # Higher grades hold riskier people, as predicted.
    means = [g["mean_probability"] for g in filled]
    assert means == sorted(means)
    cutoffs = [0] + trained.grade_cutoffs + [1]
    for g in filled:
        number = "ABCDE".index(g["grade"])
        assert cutoffs[number] <= g["mean_probability"] < cutoffs[number + 1]


def _along_feature(booster, calibration, feature, base_rows):
    grid = np.linspace(-3, 3, 121, dtype=np.float32)
    curves = []
    for base in base_rows:
        rows = np.repeat(base[None, :], len(grid), axis=0)
        rows[:, feature] = grid
        curves.append(platt_apply(margins(booster, matrix(rows, feature_names=NAMES)),
                                  calibration))
    return np.array(curves)


def test_monotone_constraints_are_honoured(trained):
    x, _, _ = synthetic(50, seed=3)
    up = _along_feature(trained.booster, trained.calibration, 0, x)
    down = _along_feature(trained.booster, trained.calibration, 1, x)
    assert (np.diff(up, axis=1) >= 0).all()
    assert (np.diff(down, axis=1) <= 0).all()
    assert (up[:, -1] > up[:, 0]).all() and (down[:, -1] < down[:, 0]).all()


def test_without_constraints_the_dip_in_x0_would_show():
    """The check above has teeth: the same data unconstrained gives a curve that goes down."""
    x, y, _ = synthetic(4000)
    free = train_scorecard(x, y, feature_names=NAMES, seed=7, max_rounds=ROUNDS,
                           params=ONE_THREAD)
    base, _, _ = synthetic(50, seed=3)
    curves = _along_feature(free.booster, free.calibration, 0, base)
    assert (np.diff(curves, axis=1) < 0).any()


def test_training_is_deterministic_for_a_seed():
    x, y, _ = synthetic(1000, seed=5)
    first, second = (train_scorecard(x, y, feature_names=NAMES, seed=2, max_rounds=60,
                                     params=ONE_THREAD) for _ in range(2))
    assert first.metrics == second.metrics and first.calibration == second.calibration


@pytest.mark.parametrize("cutoffs", [[0.1, 0.2, 0.3], [0.05, 0.03, 0.1, 0.2],
                                     [0.0, 0.1, 0.2, 0.3], [0.1, 0.2, 0.3, 1.0],
                                     [0.1, 0.1, 0.2, 0.3]])
def test_bad_grade_cutoffs_are_refused(cutoffs):
    with pytest.raises(ValueError, match="increasing"):
        check_grade_cutoffs(cutoffs)


def test_one_direction_per_feature():
    x, y, _ = synthetic(500)
    with pytest.raises(ValueError, match="monotone directions"):
        train_scorecard(x, y, feature_names=NAMES, monotone=[1, -1], max_rounds=5)


# --- the command, on a training set standing in for risk.datasets ---------------------------

def training_set(n, features, seed=0, bad_shift=-1.5, with_truth=True):
    """A stand-in for `risk.datasets`' training sets: the card's features, and a truth that
    respects their monotone directions."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, len(features))).astype(np.float32)
    directions = np.array([f.monotone for f in features], dtype=float)
    logit = bad_shift + x @ (0.5 * directions) + 0.3 * x[:, 0] ** 2
    truth = 1 / (1 + np.exp(-logit))
    y = (rng.random(n) < truth).astype(np.int8)
    return datasets.TrainingSet(
        X=x, y=y, user_ids=np.arange(n), feature_names=tuple(f.name for f in features),
        true_probability=truth if with_truth else None,
        summary={"rows": n, "bads": np.int64(y.sum()), "first_day": "2025-01-02"})


def application_set(n, seed=0, bad_shift=-1.5):
    return training_set(n, APPLICATION_FEATURES, seed=seed, bad_shift=bad_shift)


@pytest.fixture
def history(monkeypatch):
    """Have `risk.datasets` return the given application training set."""
    def install(training_set):
        monkeypatch.setattr(datasets, "application_training_set", lambda: training_set)
    return install


def train(*args):
    out = StringIO()
    call_command("train_model", *args, "--max-rounds", "80", "--threads", "1", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_train_application_card_registers_a_candidate_and_reports(history, tmp_path, settings):
    settings.RISK_GRADE_CUTOFFS = [0.02, 0.05, 0.1, 0.3]
    history(application_set(1500))
    report_path = tmp_path / "report.json"
    printed = train("--card", "application", "--report-json", str(report_path), "--seed", "3")
    report = json.loads(report_path.read_text())

    version = ModelVersion.objects.get()
    assert (version.card, version.version, version.status) == ("application", 1, "candidate")
    assert version.feature_names == list(APPLICATION_FEATURE_NAMES)
    assert version.feature_hash == APPLICATION_FEATURES_HASH
    assert version.grade_cutoffs == [0.02, 0.05, 0.1, 0.3]
    assert set(version.calibration) == {"a", "b"}
    summary = version.training_summary
    assert (summary["rows"], summary["seed"], summary["split"]["test"]) == (1500, 3, 300)
    assert summary["trees"] == summary["best_iteration"] + 1
    expected = "(" + ",".join(str(f.monotone) for f in APPLICATION_FEATURES) + ")"
    assert summary["params"]["monotone_constraints"] == expected
    assert version.metrics["auc"] == pytest.approx(report["auc"])
    assert report["model"] == {"id": version.pk, "card": "application", "version": 1,
                               "status": "candidate",
                               "feature_names": list(APPLICATION_FEATURE_NAMES),
                               "feature_hash": APPLICATION_FEATURES_HASH}
    for key in ("auc", "ks", "gini", "brier", "ceiling_auc", "auc_share_of_ceiling"):
        assert 0 < report[key] <= 1
    assert report["auc"] > 0.7
    assert "ceiling AUC" in printed and f"AUC {report['auc']:.4f}" in printed
    assert not ModelPromotion.objects.exists()


@pytest.mark.django_db
def test_promote_flag_makes_the_new_model_serve(history, settings):
    settings.RISK_CHAMPION_RECHECK_SECONDS = 0
    champion_cache_clear()
    history(application_set(800, seed=1))
    train("--card", "application")
    train("--card", "application", "--promote", "--reason", "first simulated population")
    first, second = ModelVersion.objects.order_by("version")
    assert (first.status, second.status) == (ModelStatus.CANDIDATE, ModelStatus.CHAMPION)
    assert ModelPromotion.objects.get().reason == "first simulated population"
    model = champion("application")
    assert model.version.pk == second.pk
    rows = application_set(5, seed=9).X
    assert ((model.probabilities(rows) > 0) & (model.probabilities(rows) < 1)).all()
    champion_cache_clear()


@pytest.mark.django_db
def test_promote_needs_a_reason(history):
    history(application_set(800))
    with pytest.raises(CommandError, match="--reason"):
        train("--card", "application", "--promote")
    assert not ModelVersion.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("rows", "shift", "message"), [
    (150, -1.0, "150 customers"),
    (1000, -6.0, "at least 200 rows and 20 bads"),
])
def test_too_little_history_is_refused(history, rows, shift, message):
    history(application_set(rows, bad_shift=shift))
    with pytest.raises(CommandError, match=message):
        train("--card", "application")
    assert not ModelVersion.objects.exists()


@pytest.mark.django_db
def test_a_source_is_required_and_csv_options_belong_to_csv():
    with pytest.raises(CommandError, match="one of the arguments --card --from-csv"):
        call_command("train_model")
    with pytest.raises(CommandError, match="--from-csv only"):
        call_command("train_model", "--card", "application", "--target", "status")


@pytest.mark.django_db
def test_train_behaviour_card_on_stacked_snapshots_or_the_one_asked_for(monkeypatch):
    set_business_date(date(2025, 12, 31))
    asked = []

    def behaviour_training_set(snapshots=None, horizon_months=6):
        asked.append((snapshots, horizon_months))
        return training_set(900, BEHAVIOUR_FEATURES, with_truth=False)
    monkeypatch.setattr(datasets, "behaviour_training_set", behaviour_training_set)
    printed = train("--card", "behaviour", "--horizon-months", "3")
    assert asked == [(None, 3)]  # the dataset's stacked month-ends
    version = ModelVersion.objects.get()
    assert (version.card, version.feature_hash) == ("behaviour", BEHAVIOUR_FEATURES_HASH)
    assert version.feature_names == list(BEHAVIOUR_FEATURE_NAMES)
    assert "ceiling_auc" not in version.metrics and "ceiling" not in printed
    train("--card", "behaviour", "--snapshot", "2025-06-30")
    assert asked[-1] == ([date(2025, 6, 30)], 6)


@pytest.mark.django_db
def test_a_snapshot_after_the_business_date_is_refused():
    set_business_date(date(2025, 3, 1))
    with pytest.raises(CommandError, match="after the business date"):
        train("--card", "behaviour", "--snapshot", "2025-03-02")


@pytest.mark.django_db
def test_a_platform_without_history_is_told_to_simulate_first():
    """The real dataset on an empty platform."""
    with pytest.raises(CommandError, match="0 customers with a known outcome.*simulate_population"):
        train("--card", "application")


@pytest.mark.django_db
def test_a_report_path_in_a_missing_folder_is_refused_before_training(history, tmp_path):
    history(application_set(800))
    with pytest.raises(CommandError, match="no such folder"):
        train("--card", "application", "--report-json", str(tmp_path / "nowhere" / "r.json"))
    assert not ModelVersion.objects.exists()
