"""The training report: one dict (written as JSON) with the headline figures at the top level
(auc, ks, gini, brier, and when known ceiling_auc, auc_share_of_ceiling, cv_auc,
baseline_cv_auc), and the same as text a person reads, the grades last."""


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
    lines = [
        f"{model['card']} model v{model['version']} ({model['status']}), "
        f"{len(model['feature_names'])} features, {report['trees']} trees "
        f"(best round {report['best_iteration']} of at most {report['max_rounds']}), "
        f"trained in {report['seconds']:.1f} s",
        f"Data: {data['rows']} rows, {data['bads']} bads ({data['bad_rate']:.2%}); split "
        f"train {split['train']} / validation {split['validation']} / test {split['test']}",
    ]
    if data.get("dropped_identifiers"):
        lines.append("Dropped as identifiers (a different text value on every row): "
                     + ", ".join(data["dropped_identifiers"]))
    if data.get("rows_without_target"):
        lines.append(f"Skipped {data['rows_without_target']} rows with no target value.")
    lines += [
        f"Held-out test ({report['test_rows']} rows, bad rate {report['test_bad_rate']:.2%}):",
        f"  AUC {_figure(report['auc'])}   KS {_figure(report['ks'])}   "
        f"Gini {_figure(report['gini'])}   Brier {_figure(report['brier'])}",
        f"  mean calibrated PD {report['mean_probability']:.2%} "
        f"(Platt a={report['calibration']['a']:.4f}, b={report['calibration']['b']:.4f})",
    ]
    if "ceiling_auc" in report:
        lines.append(f"  ceiling AUC (true probabilities, same rows) "
                     f"{_figure(report['ceiling_auc'])}; model's share "
                     f"{report['auc_share_of_ceiling']:.2%}")
    if "cv_auc" in report:
        lines.append(f"5-fold cross-validated AUC: model {_figure(report['cv_auc'])}, "
                     f"logistic-regression baseline {_figure(report['baseline_cv_auc'])}")
    lines.append("Grades on the test rows (PD cut-offs "
                 + " | ".join(f"{c:g}" for c in report["grade_cutoffs"]) + "):")
    for grade in report["grades"]:
        lines.append(f"  {grade['grade']}: {grade['rows']:>6} rows ({grade['share']:6.1%})  "
                     f"bad rate {_percent(grade['bad_rate'])}  "
                     f"mean PD {_percent(grade['mean_probability'])}")
    return "\n".join(lines)


def _percent(value) -> str:
    return "     -" if value is None else f"{value:6.2%}"
