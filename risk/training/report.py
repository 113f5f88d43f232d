"""The training report: one dict (written as JSON) with the headline figures at the top level
(auc, ks, gini, brier, and when known ceiling_auc, auc_share_of_ceiling, cv_auc,
baseline_cv_auc; on a small CSV table also their spread across folds, beats_baseline and
`nested`: the settings each fold's inner cross-validation chose and the final ones), and the
same as text a person reads, the grades last. A B-card's report also states its outcome, its
snapshots, its split by customer and its ceiling (`behaviour_ceiling`)."""

import numpy as np

from . import metrics

BEHAVIOUR_CEILING = ("the Bayes-optimal probability of the row's outcome given the "
                     "simulator's hidden probability of default and the customer's history by "
                     "the snapshot (risk.bcard_truth.bad_probability)")


def behaviour_ceiling(result, y, ceiling) -> dict:
    """The B-card against its ceiling on the same held-out rows: those with a ceiling (the
    simulated customers'; every row on a simulated book). `result` is a `TrainingResult`,
    `ceiling` the training set's `true_probability` (NaN: none for that row)."""
    if ceiling is None or result.test_rows is None:
        return {}
    truth = np.asarray(ceiling, dtype=np.float64)[result.test_rows]
    known = ~np.isnan(truth)
    y_known = np.asarray(y)[result.test_rows][known]
    found = {"ceiling": BEHAVIOUR_CEILING, "ceiling_rows": int(known.sum())}
    if not known.any() or y_known.min() == y_known.max():
        return found
    model_auc = metrics.auc(y_known, result.test_probability[known])
    ceiling_auc = metrics.auc(y_known, truth[known])
    return {**found, "ceiling_auc": ceiling_auc, "auc_on_ceiling_rows": model_auc,
            "auc_share_of_ceiling": model_auc / ceiling_auc,
            "ceiling_brier": metrics.brier(y_known, truth[known])}


def build_report(result, *, model_version, data_summary: dict, seconds: float,
                 max_rounds: int, extra_metrics: dict | None = None) -> dict:
    """`result` is a `TrainingResult`; `model_version` the registered `ModelVersion`."""
    return {
        **result.metrics, **(extra_metrics or {}),
        "model": {"id": model_version.pk, "card": model_version.card,
                  "version": model_version.version, "status": model_version.status,
                  "feature_names": list(model_version.feature_names),
                  "feature_hash": model_version.feature_hash},
        "data": data_summary, "split": result.split, "best_iteration": result.best_iteration,
        "trees": result.best_iteration + 1, "max_rounds": max_rounds, "params": result.params,
        "calibration": result.calibration, "grade_cutoffs": result.grade_cutoffs,
        "seconds": seconds,
    }


def _figure(value, digits=4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def format_report(report: dict) -> str:
    model, data, split = report["model"], report["data"], report["split"]
    nested = report.get("nested")
    if nested:
        trees = (f"{report['trees']} trees (chosen by cross-validation from "
                 + ", ".join(str(r) for r in nested["grid"]["n_estimators"]) + ")")
        rows = (f"nested cross-validation ({nested['outer_folds']} outer folds, "
                f"{nested['inner_folds']} inner: a table of at most "
                f"{nested['small_table_rows']:,} rows); the model refitted on every row")
        held_out = (f"Held out by the outer folds (each of the {report['test_rows']} rows scored "
                    f"by a model that never saw it), bad rate {report['test_bad_rate']:.2%}:")
    else:
        trees = (f"{report['trees']} trees (best round {report['best_iteration']} of at most "
                 f"{report['max_rounds']})")
        rows = (f"split train {split['train']} / validation {split['validation']} / test "
                f"{split['test']}")
        held_out = (f"Held-out test ({report['test_rows']} rows, bad rate "
                    f"{report['test_bad_rate']:.2%}):")
    lines = [
        f"{model['card']} model v{model['version']} ({model['status']}), "
        f"{len(model['feature_names'])} features, {trees}, "
        f"trained in {report['seconds']:.1f} s",
        f"Data: {data['rows']} rows, {data['bads']} bads ({data['bad_rate']:.2%}); {rows}",
    ]
    if data.get("card") == "behaviour":
        lines += _behaviour_data_lines(data, split)
    if data.get("dropped_identifiers"):
        lines.append("Dropped as identifiers (a different text value on every row): "
                     + ", ".join(data["dropped_identifiers"]))
    if data.get("rows_without_target"):
        lines.append(f"Skipped {data['rows_without_target']} rows with no target value.")
    lines += [
        held_out,
        f"  AUC {_figure(report['auc'])}   KS {_figure(report['ks'])}   "
        f"Gini {_figure(report['gini'])}   Brier {_figure(report['brier'])}",
        f"  mean calibrated PD {report['mean_probability']:.2%} "
        f"(Platt a={report['calibration']['a']:.4f}, b={report['calibration']['b']:.4f})",
    ]
    if "ceiling_auc" in report and data.get("card") == "behaviour":
        lines += [f"  ceiling AUC {_figure(report['ceiling_auc'])} on the same "
                  f"{report['ceiling_rows']} held-out rows (ceiling: {report['ceiling']}); "
                  f"model's AUC on them {_figure(report['auc_on_ceiling_rows'])}, share "
                  f"{report['auc_share_of_ceiling']:.2%}"]
    elif "ceiling_auc" in report:
        lines.append(f"  ceiling AUC (true probabilities, same rows) "
                     f"{_figure(report['ceiling_auc'])}; model's share "
                     f"{report['auc_share_of_ceiling']:.2%}")
    if nested:
        lines += _nested_lines(report, nested)
    elif "cv_auc" in report:
        lines.append(f"5-fold cross-validated AUC: model {_figure(report['cv_auc'])}, "
                     f"logistic-regression baseline {_figure(report['baseline_cv_auc'])}")
    lines.append(("Grades on the held-out rows" if nested else "Grades on the test rows")
                 + " (PD cut-offs " + " | ".join(f"{c:g}" for c in report["grade_cutoffs"])
                 + "):")
    for grade in report["grades"]:
        lines.append(f"  {grade['grade']}: {grade['rows']:>6} rows ({grade['share']:6.1%})  "
                     f"bad rate {_percent(grade['bad_rate'])}  "
                     f"mean PD {_percent(grade['mean_probability'])}")
    return "\n".join(lines)


def _behaviour_data_lines(data: dict, split: dict) -> list[str]:
    lines = [f"Outcome: {data['outcome']}"]
    snapshots = data.get("snapshots") or []
    lines.append(f"Snapshots ({len(snapshots)}): " + ", ".join(
        f"{s['snapshot']} ({s['rows']} rows, {s['bads']} bads)" for s in snapshots)
        + f"; {data['customers']} customers; left out: {data['left_out_in_default']} rows "
        f"already in default at the snapshot, {data['left_out_window_not_seen']} whose window "
        f"was not seen")
    if "test_groups" in split:
        lines.append(f"Split by customer (no customer on two sides): train "
                     f"{split['train_groups']} customers ({split['train']} rows, "
                     f"{split['train_bads']} bads) / validation {split['validation_groups']} "
                     f"({split['validation']}, {split['validation_bads']}) / test "
                     f"{split['test_groups']} ({split['test']}, {split['test_bads']})")
    return lines


def _settings(settings: dict) -> str:
    return ", ".join(f"{name} {value:g}" for name, value in settings.items())


def _nested_lines(report: dict, nested: dict) -> list[str]:
    verdict = "beats" if report["beats_baseline"] else "does not beat"
    lines = [
        f"Nested {nested['outer_folds']}-fold cross-validated AUC (mean ± standard deviation "
        f"over the outer folds; every choice made by {nested['inner_folds']}-fold "
        f"cross-validation inside each fold's training rows):",
        f"  model {_figure(report['cv_auc'])} ± {_figure(report['cv_auc_std'])}   "
        f"logistic-regression baseline (one-hot text, standardised numbers, L2 chosen by "
        f"inner cross-validation) {_figure(report['baseline_cv_auc'])} ± "
        f"{_figure(report['baseline_cv_auc_std'])}",
        f"  The model {verdict} the baseline: {nested['gain']:+.4f} AUC "
        f"(± {_figure(nested['gain_std'])} over folds; ahead in {nested['folds_won']} of "
        f"{nested['outer_folds']})"
        + ("" if nested["gain_clear"] else
           ": less than the difference's spread over folds, so no clear difference"),
        "Settings chosen (inner AUC is tuned on its own folds, so optimistic; the outer AUC "
        "is not):",
    ]
    for fold in nested["folds"]:
        lines.append(f"  fold {fold['fold']}: {_settings(fold['model_settings'])} "
                     f"(inner {_figure(fold['model_inner_auc'])}, outer "
                     f"{_figure(fold['model_auc'])}); baseline C {fold['baseline_C']:g} "
                     f"(inner {_figure(fold['baseline_inner_auc'])}, outer "
                     f"{_figure(fold['baseline_auc'])})")
    final = nested["final"]
    lines.append(f"  final, on every row: {_settings(final['model_settings'])} "
                 f"(inner {_figure(final['model_inner_auc'])}); baseline C "
                 f"{final['baseline_C']:g} (inner {_figure(final['baseline_inner_auc'])})")
    return lines


def _percent(value) -> str:
    return "     -" if value is None else f"{value:6.2%}"
