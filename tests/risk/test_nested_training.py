"""Small CSV tables: capacity chosen by nested cross-validation, a tuned logistic baseline on
the same outer folds, the choices in the report; and tables above the threshold trained as
before. Tables are generated here with a known truth."""

import json
from io import StringIO
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from django.core.management import call_command
from sklearn.linear_model import LogisticRegression

from risk.training import nested
from risk.training.crossval import baseline_cv_auc, folds, model_cv_auc
from risk.training.csv_table import read_credit_table
from risk.training.metrics import auc
from risk.training.pipeline import DEFAULT_GRADE_CUTOFFS, train_scorecard
from risk.training.report import build_report, format_report
from tests.risk.test_train_from_csv import credit_table, write

# Dozens of small model fits: run with `make test PYTEST_ARGS="-m slow"`.
pytestmark = pytest.mark.slow

ROUNDS = 50


def known_truth(n=2000, seed=0):
    """Applications whose probability of default is known: logistic in income, utilisation
    and employment (a category), with what a logistic regression on the columns cannot
    express: an interaction (utilisation hurts students and the unemployed more), a threshold
    in utilisation and a risk higher at both ends of the age range. One value in twenty is
    missing."""
    rng = np.random.default_rng(seed)
    income = rng.lognormal(9, 0.5, n)
    utilisation = rng.random(n)
    age = rng.integers(18, 75, n).astype(float)
    employment = rng.choice(["employed", "self-employed", "student", "unemployed"], n,
                            p=[0.55, 0.2, 0.15, 0.1])
    fragile = np.isin(employment, ["student", "unemployed"])
    logit = (-1.8 - 1.0 * (np.log(income) - 9) + 1.2 * (utilisation - 0.5)
             + np.select([employment == "student", employment == "unemployed"], [0.5, 1.0], 0)
             + 3.0 * fragile * (utilisation - 0.5) + 2.0 * (utilisation > 0.85)
             + 1.5 * (np.abs(age - 45) > 18))
    truth = 1 / (1 + np.exp(-logit))
    frame = pd.DataFrame({"monthly_income": income.round(2), "utilisation": utilisation.round(3),
                          "age": age, "employment": employment})
    for column in ("monthly_income", "employment"):
        frame.loc[rng.random(n) < 0.05, column] = np.nan
    frame["employment"] = frame["employment"].astype("category")
    return frame, (rng.random(n) < truth).astype(np.int64), truth


@pytest.fixture(scope="module")
def known():
    frame, y, truth = known_truth()
    result = nested.train_small_table(frame, y, seed=3, threads=1, max_rounds=ROUNDS,
                                      grade_cutoffs=DEFAULT_GRADE_CUTOFFS)
    return SimpleNamespace(frame=frame, y=y, truth=truth, result=result,
                           cv=result.cross_validation, training=result.training)


def test_the_threshold_is_inclusive():
    assert nested.is_small(nested.SMALL_TABLE_ROWS)
    assert not nested.is_small(nested.SMALL_TABLE_ROWS + 1)


def test_the_nested_auc_is_reported_with_its_spread_and_below_the_ceiling(known):
    cv, training = known.cv, known.training
    assert len(cv["cv_auc_folds"]) == len(cv["baseline_cv_auc_folds"]) == 5
    assert cv["cv_auc"] == pytest.approx(np.mean(cv["cv_auc_folds"]))
    assert cv["cv_auc_std"] == pytest.approx(np.std(cv["cv_auc_folds"], ddof=1))
    assert cv["baseline_cv_auc"] == pytest.approx(np.mean(cv["baseline_cv_auc_folds"]))
    assert cv["baseline_cv_auc_std"] == pytest.approx(np.std(cv["baseline_cv_auc_folds"],
                                                             ddof=1))
    # The model finds most of the signal, and no model beats the true probabilities.
    ceiling = auc(known.y, known.truth)
    assert ceiling - 0.06 < cv["cv_auc"] < ceiling + 0.02
    # Every row was scored once, by a model, calibration and settings that never saw it; the
    # calibrated probabilities average to the bad rate.
    assert training.metrics["test_rows"] == len(known.y)
    assert training.metrics["auc"] == pytest.approx(cv["cv_auc"], abs=0.02)
    assert training.metrics["mean_probability"] == pytest.approx(known.y.mean(), abs=0.02)
    assert sum(g["rows"] for g in training.metrics["grades"]) == len(known.y)
    # Paired on the same outer folds; the truth's threshold, U-shape and interaction are
    # beyond a logistic regression on the columns, so the trees win, and clearly.
    gain = np.subtract(cv["cv_auc_folds"], cv["baseline_cv_auc_folds"])
    assert cv["beats_baseline"] and cv["nested"]["gain_clear"]
    assert cv["nested"]["gain"] == pytest.approx(gain.mean())
    assert cv["nested"]["folds_won"] == int((gain > 0).sum())
    assert cv["beats_baseline"] == (gain.mean() > 0)
    assert cv["nested"]["gain_clear"] == (abs(gain.mean()) > np.std(gain, ddof=1))


def test_the_chosen_settings_are_in_the_report_and_the_final_model_has_them(known):
    nested_report = known.cv["nested"]
    capacities = [{k: v[0] for k, v in c.items()} for c in nested.CAPACITIES]
    assert nested_report["grid"]["capacities"] == capacities
    assert nested_report["grid"]["n_estimators"] == [25, ROUNDS]
    for fold in [*nested_report["folds"], nested_report["final"]]:
        settings = dict(fold["model_settings"])
        assert settings.pop("n_estimators") in (25, ROUNDS)
        assert settings in capacities
        assert fold["baseline_C"] in nested.BASELINE_C
        assert 0.5 < fold["model_inner_auc"] < 1 and 0.5 < fold["baseline_inner_auc"] < 1
    final = nested_report["final"]["model_settings"]
    training = known.training
    # Refitted on every row with the settings chosen on every row.
    assert training.split["train"] == len(known.y)
    assert training.booster.num_boosted_rounds() == final["n_estimators"]
    assert training.best_iteration + 1 == final["n_estimators"]
    assert {k: training.params[k] for k in final} == final

    version = SimpleNamespace(pk=1, card="csv", version=1, status="candidate",
                              feature_names=list(known.frame.columns), feature_hash="h")
    report = build_report(training, model_version=version,
                          data_summary={"rows": len(known.y), "bads": int(known.y.sum()),
                                        "bad_rate": float(known.y.mean())},
                          seconds=1.0, max_rounds=ROUNDS, extra_metrics=known.cv)
    text = format_report(json.loads(json.dumps(report)))
    assert "Nested 5-fold cross-validated AUC" in text
    assert f"model {report['cv_auc']:.4f} ± {report['cv_auc_std']:.4f}" in text
    assert f"baseline C {nested_report['final']['baseline_C']:g}" in text
    for number in range(1, 6):
        assert f"  fold {number}: max_depth " in text
    assert (f"final, on every row: max_depth {final['max_depth']}, min_child_weight "
            f"{final['min_child_weight']:g}") in text
    assert ("The model beats the baseline" if report["beats_baseline"]
            else "The model does not beat the baseline") in text
    assert ("no clear difference" in text) != nested_report["gain_clear"]


def baseline_folds(frame, y, seed=0):
    return [nested.baseline_fold(frame, y, fit, scored, seed=seed)
            for fit, scored in folds(y, seed=seed)]


def test_the_baseline_one_hot_encodes_a_category():
    """Signal only in a category whose bad rate is not ordered like its codes: a one-hot
    logistic regression ranks rows by their category's bad rate; one reading the codes as a
    number cannot."""
    rng = np.random.default_rng(5)
    rates = {"a": 0.45, "b": 0.05, "c": 0.6, "d": 0.1, "e": 0.3}
    kind = rng.choice(list(rates), 1500)
    y = (rng.random(1500) < np.vectorize(rates.get)(kind)).astype(np.int64)
    frame = pd.DataFrame({"kind": pd.Categorical(kind)})
    by_hand, as_codes = [], []
    for fit, scored in folds(y, seed=0):
        one_hot = pd.get_dummies(frame["kind"]).to_numpy(float)
        regression = LogisticRegression().fit(one_hot[fit], y[fit])
        by_hand.append(auc(y[scored], regression.decision_function(one_hot[scored])))
        codes = frame["kind"].cat.codes.to_numpy(float).reshape(-1, 1)
        regression = LogisticRegression().fit(codes[fit], y[fit])
        as_codes.append(auc(y[scored], regression.decision_function(codes[scored])))
    baseline = [fold["baseline_auc"] for fold in baseline_folds(frame, y)]
    assert baseline == pytest.approx(by_hand, abs=1e-12)
    assert np.mean(baseline) > np.mean(as_codes) + 0.1


def test_the_baseline_standardises_numbers_imputes_gaps_and_tunes_l2_by_inner_cv():
    frame, y, _ = known_truth(n=1000, seed=1)
    frame["monthly_income"] *= 1000          # a scale an unscaled L2 penalty would punish
    pipeline = nested.baseline_search(frame, y, seed=0)
    prepared = pipeline.named_steps["prepare"].transform(frame)
    numbers = prepared[:, :3]
    assert not np.isnan(prepared).any()
    assert numbers.mean(axis=0) == pytest.approx(0, abs=1e-9)
    assert numbers.std(axis=0) == pytest.approx(1, abs=1e-9)
    categories = frame["employment"].cat.categories
    assert prepared.shape[1] == 3 + len(categories)
    assert set(np.unique(prepared[:, 3:])) == {0.0, 1.0}
    regression = pipeline.named_steps["regression"]
    assert regression.l1_ratio_ == 0 and regression.C_ in nested.BASELINE_C
    assert regression.scoring == "roc_auc" and regression.cv.n_splits == nested.INNER_FOLDS
    # On a fold it scores as a logistic regression, with the C it chose, on numbers
    # median-filled and standardised and the category one-hot encoded, all done by hand.
    (fit, scored), *_ = folds(y, seed=0)
    fold = nested.baseline_fold(frame, y, fit, scored, seed=0)
    train = frame.iloc[fit]
    numbers = frame[["monthly_income", "utilisation", "age"]]
    numbers = numbers.fillna(numbers.iloc[fit].median())
    numbers = (numbers - numbers.iloc[fit].mean()) / numbers.iloc[fit].std(ddof=0)
    employment = frame["employment"].fillna(train["employment"].mode()[0])
    by_hand = pd.concat([numbers, pd.get_dummies(employment)], axis=1).to_numpy(float)
    regression = LogisticRegression(C=fold["baseline_C"], tol=1e-10, max_iter=10_000)
    regression.fit(by_hand[fit], y[fit])
    assert fold["baseline_auc"] == pytest.approx(
        auc(y[scored], regression.decision_function(by_hand[scored])), abs=1e-4)


def noise_table(n=400, width=20, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({f"x{i}": rng.normal(size=n) for i in range(width)})
    frame["kind"] = pd.Categorical(rng.choice(list("pqrst"), n))
    return frame, (rng.random(n) < 0.3).astype(np.int64)


def test_the_reported_auc_is_not_tuned_on_its_own_folds(monkeypatch):
    """Labels of pure noise: the inner scores the choices were made on flatter the luckiest
    setting, but the nested AUC, measured on rows that chose nothing, stays near 0.5."""
    frame, y = noise_table()
    seen = []

    def spy(function):
        def wrapper(x, *args, **kwargs):
            seen.append((function.__name__, frozenset(x.index)))
            return function(x, *args, **kwargs)
        return wrapper

    for name in ("choose_capacity", "fit_chosen", "baseline_search"):
        monkeypatch.setattr(nested, name, spy(getattr(nested, name)))
    cv = nested.train_small_table(frame, y, seed=0, threads=1, max_rounds=ROUNDS,
                                  grade_cutoffs=DEFAULT_GRADE_CUTOFFS).cross_validation

    inner = np.mean([fold["model_inner_auc"] for fold in cv["nested"]["folds"]])
    assert abs(cv["cv_auc"] - 0.5) < 0.1 and abs(cv["baseline_cv_auc"] - 0.5) < 0.1
    assert inner > 0.5 and inner > cv["cv_auc"] + 0.02
    # No outer fold's held-out rows reached a choice, a calibration or a fit for that fold;
    # only the final model, after the outer folds, sees every row.
    outer = folds(y, seed=0)
    per_fold, final = seen[:3 * len(outer)], seen[3 * len(outer):]
    for number, (fit, scored) in enumerate(outer):
        for name, rows in per_fold[3 * number:3 * number + 3]:
            assert rows == frozenset(fit) and not rows & frozenset(scored), name
    assert [name for name, _ in final] == ["choose_capacity", "fit_chosen", "baseline_search"]
    assert all(rows == frozenset(range(len(y))) for _, rows in final)


@pytest.mark.django_db
def test_a_table_above_the_threshold_trains_as_before(tmp_path, monkeypatch):
    frame = credit_table(n=600, seed=2)
    path = write(tmp_path, frame)
    monkeypatch.setattr(nested, "SMALL_TABLE_ROWS", 599)

    def refuse(*args, **kwargs):
        raise AssertionError("a large table went down the small-table path")

    monkeypatch.setattr("risk.management.commands.train_model.train_small_table", refuse)
    report_path = tmp_path / "report.json"
    out = StringIO()
    call_command("train_model", "--from-csv", str(path), "--target", "status", "--bad-value",
                 "bad", "--max-rounds", "60", "--threads", "1", "--report-json",
                 str(report_path), stdout=out)
    report = json.loads(report_path.read_text())

    table = read_credit_table(path, target="status", bad_value="bad")
    params = {"nthread": 1}
    result = train_scorecard(table.features, table.y, feature_names=list(table.features.columns),
                             seed=1, max_rounds=60, params=params)
    assert report["auc"] == pytest.approx(result.metrics["auc"])
    assert report["split"] == result.split and report["trees"] == result.best_iteration + 1
    assert report["cv_auc_folds"] == pytest.approx(
        model_cv_auc(table.features, table.y, seed=1, max_rounds=60, params=params))
    assert report["baseline_cv_auc_folds"] == pytest.approx(
        baseline_cv_auc(table.features, table.y, seed=1))
    assert not {"nested", "cv_auc_std", "beats_baseline"} & set(report)
    printed = out.getvalue()
    assert "Held-out test" in printed and "5-fold cross-validated AUC: model" in printed
    assert "Settings chosen" not in printed
