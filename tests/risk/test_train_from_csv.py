"""`train_model --from-csv` on tables the tests write themselves: mixed numeric and text
columns, gaps, text or numeric targets; and every way a table can be unusable."""

import json
from io import StringIO

import numpy as np
import pandas as pd
import pytest
from django.core.management import CommandError, call_command

from risk.models import ModelVersion
from risk.services.registry import booster_from_bytes

pytestmark = pytest.mark.django_db


def credit_table(n=600, seed=0):
    """Applications with an identifier, numbers and text, one value in ten missing, and an
    outcome driven by income, employment and utilisation."""
    rng = np.random.default_rng(seed)
    income = rng.lognormal(9, 0.5, n).round(2)
    employment = rng.choice(["employed", "self-employed", "student", "unemployed"], n)
    utilisation = rng.random(n).round(3)
    city = rng.choice(["Hangzhou", "Shanghai", "Lanzhou", "Kashgar"], n)
    logit = (-1.0 - 1.2 * (np.log(income) - 9) + 1.5 * (utilisation - 0.5)
             + np.select([employment == "student", employment == "unemployed"], [0.8, 1.5], 0))
    bad = rng.random(n) < 1 / (1 + np.exp(-logit))
    frame = pd.DataFrame({
        "application_no": [f"AP-{i:06d}" for i in range(n)], "monthly_income": income,
        "employment": employment, "utilisation": utilisation, "city": city,
        "months_at_address": rng.integers(0, 240, n),
        # Written with stray spaces, as spreadsheets do.
        "status": np.where(bad, " bad", "good "),
    })
    for column in ("monthly_income", "employment", "utilisation", "city"):
        frame.loc[rng.random(n) < 0.1, column] = np.nan
    return frame


def train_csv(path, *args):
    out = StringIO()
    call_command("train_model", "--from-csv", str(path), *args, "--max-rounds", "60",
                 "--threads", "1", stdout=out)
    return out.getvalue()


def write(tmp_path, frame, name="table.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def test_a_mixed_table_trains_reports_cross_validation_and_registers_a_csv_model(tmp_path):
    path = write(tmp_path, credit_table())
    report_path = tmp_path / "report.json"
    printed = train_csv(path, "--target", "status", "--bad-value", "bad",
                        "--report-json", str(report_path))
    report = json.loads(report_path.read_text())

    assert report["auc"] > 0.6
    for key in ("cv_auc", "baseline_cv_auc"):
        assert 0.6 < report[key] <= 1
        assert len(report[f"{key}_folds"]) == 5
        assert report[key] == pytest.approx(np.mean(report[f"{key}_folds"]))
    assert report["data"]["dropped_identifiers"] == ["application_no"]
    kinds = {c["name"]: c["kind"] for c in report["data"]["columns"]}
    assert kinds == {"monthly_income": "number", "employment": "text", "utilisation": "number",
                     "city": "text", "months_at_address": "number"}
    text = next(c for c in report["data"]["columns"] if c["name"] == "employment")
    assert text["categories"] == ["employed", "self-employed", "student", "unemployed"]

    version = ModelVersion.objects.get()
    assert (version.card, version.version, version.status) == ("csv", 1, "candidate")
    assert version.feature_names == list(kinds)
    assert version.metrics["cv_auc"] == pytest.approx(report["cv_auc"])
    assert version.training_summary["bad_value"] == "bad"
    assert "logistic-regression baseline" in printed and "application_no" in printed

    # 600 rows: a small table, so the cross-validation is nested and the registered model is
    # refitted on every row with the settings chosen on every row.
    final = report["nested"]["final"]["model_settings"]
    assert report["split"]["scheme"] == "nested cross-validation"
    assert report["trees"] == final["n_estimators"]
    assert "Settings chosen" in printed and "final, on every row: max_depth" in printed
    assert "Held out by the outer folds" in printed
    assert version.metrics["nested"]["final"]["model_settings"] == final
    assert version.training_summary["split"]["train"] == 600
    assert booster_from_bytes(bytes(version.booster)).num_boosted_rounds() == final["n_estimators"]
    assert {k: version.training_summary["params"][k] for k in final} == final


def test_a_numeric_target_is_compared_as_text(tmp_path):
    frame = credit_table(seed=1)
    frame["status"] = np.where(frame["status"].str.strip() == "bad", 1, 0)
    # Rows without an outcome are skipped, and said so; the gaps make pandas write 1.0 / 0.0,
    # which --bad-value 1 still matches.
    frame.loc[:4, "status"] = np.nan
    path = write(tmp_path, frame)
    printed = train_csv(path, "--target", "status", "--bad-value", "1")
    version = ModelVersion.objects.get()
    summary = version.training_summary
    assert summary["rows_without_target"] == 5
    assert summary["rows"] == 595
    assert summary["bads"] == int((frame["status"] == 1).sum())
    assert "Skipped 5 rows" in printed


def test_a_csv_model_cannot_be_promoted(tmp_path):
    path = write(tmp_path, credit_table())
    with pytest.raises(CommandError, match="cannot be promoted"):
        train_csv(path, "--target", "status", "--bad-value", "bad", "--promote",
                  "--reason", "try")
    assert not ModelVersion.objects.exists()


def few_bads(count):
    frame = credit_table()
    bad = frame["status"].str.strip() == "bad"
    return pd.concat([frame[~bad], frame[bad].head(count)])


def _table_text(tmp_path, text):
    path = tmp_path / "table.csv"
    path.write_text(text)
    return path


@pytest.mark.parametrize(("make", "target", "bad", "message"), [
    (lambda d: d / "missing.csv", "status", "bad", "No such file"),
    (lambda d: _table_text(d, ""), "status", "bad", "is empty"),
    (lambda d: _table_text(d, "  \n\n"), "status", "bad", "is empty"),
    (lambda d: _table_text(d, "income,status\n"), "status", "bad", "header but no rows"),
    (lambda d: write(d, credit_table()), "outcome", "bad",
     "No column named 'outcome'. The columns are: application_no, monthly_income, employment, "
     "utilisation, city, months_at_address, status."),
    (lambda d: write(d, credit_table()), "status", "default",
     "No row has status = 'default'. Its values are: 'bad', 'good'."),
    (lambda d: write(d, credit_table().assign(status="good")), "status", "bad",
     "Every row has status = 'good'"),
    (lambda d: write(d, few_bads(9)), "status", "bad",
     "Too few rows for 5-fold cross-validation: 9 bad and"),
    (lambda d: write(d, credit_table()[["status"]]), "status", "bad", "the only column"),
    (lambda d: write(d, credit_table()[["application_no", "status"]]), "status", "bad",
     "No column is left.*application_no"),
])
def test_an_unusable_table_stops_with_a_clear_message(tmp_path, make, target, bad, message):
    with pytest.raises(CommandError, match=message.replace(".", r"\.").replace(r"\.*", ".*")):
        train_csv(make(tmp_path), "--target", target, "--bad-value", bad)
    assert not ModelVersion.objects.exists()


def test_from_csv_needs_a_target_and_a_bad_value(tmp_path):
    path = write(tmp_path, credit_table())
    with pytest.raises(CommandError, match="--target COLUMN and --bad-value VALUE"):
        train_csv(path, "--target", "status")
