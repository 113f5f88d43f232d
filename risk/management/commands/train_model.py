"""Train a scorecard, register it as a candidate, print its report and write it as JSON."""

import hashlib
import json
import time
from datetime import date
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from risk.errors import RiskError
from risk.models import Card
from risk.services.registry import model_version_promote, model_version_register
from risk.training.crossval import FOLDS, baseline_cv_auc, model_cv_auc
from risk.training.csv_table import TableError, read_credit_table
from risk.training.nested import SMALL_TABLE_ROWS, is_small, train_small_table
from risk.training.pipeline import check_grade_cutoffs, train_scorecard
from risk.training.report import behaviour_ceiling, build_report, format_report
from risk.training.xgb import MAX_ROUNDS

# Below this the held-out figures are noise and early stopping has nothing to stop on.
MIN_ROWS = 200
MIN_BADS = 20


class Command(BaseCommand):
    help = ("Train an XGBoost scorecard on the platform's history (--card) or on a lender's CSV "
            "table (--from-csv), register it as a candidate model and report held-out AUC, KS, "
            "Gini and Brier.")

    def add_arguments(self, parser):
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--card", choices=[Card.APPLICATION, Card.BEHAVIOUR],
                            help="train on the platform's own history")
        source.add_argument("--from-csv", dest="csv_path", metavar="PATH",
                            help="train on a CSV table with a header row")
        parser.add_argument("--target", help="with --from-csv: the outcome column")
        parser.add_argument("--bad-value", help="with --from-csv: the target value meaning bad "
                                                "(compared as text, e.g. bad, 1, yes)")
        parser.add_argument("--snapshot", type=date.fromisoformat, metavar="YYYY-MM-DD",
                            help="with --card behaviour: train on this one snapshot day "
                                 "(default: month-ends stacked, from the book's third month "
                                 "to the business date less the horizon)")
        parser.add_argument("--horizon-months", type=int, default=6,
                            help="with --card behaviour: months after the snapshot in which "
                                 "a default counts (default 6)")
        parser.add_argument("--report-json", metavar="PATH", help="also write the report here")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--max-rounds", type=int, default=MAX_ROUNDS,
                            help=f"boosting rounds at most, before early stopping "
                                 f"(default {MAX_ROUNDS})")
        parser.add_argument("--threads", type=int, default=0,
                            help="XGBoost threads (default 0: every core; fewer on a machine "
                                 "busy with other work, where idle-waiting threads slow it; "
                                 f"a CSV table of at most {SMALL_TABLE_ROWS:,} rows trains "
                                 "its many small models on one unless told otherwise)")
        parser.add_argument("--promote", action="store_true",
                            help="make the new model its card's champion (needs --reason)")
        parser.add_argument("--reason", help="why the model is promoted (with --promote)")

    def handle(self, *args, card, csv_path, target, bad_value, snapshot, horizon_months,
               report_json, seed, max_rounds, threads, promote, reason, **options):
        if csv_path is not None:
            if target is None or bad_value is None:
                raise CommandError("--from-csv needs --target COLUMN and --bad-value VALUE.")
            if promote:
                raise CommandError("A model trained on a CSV table scores that table's columns, "
                                   "not the platform's features: it cannot be promoted.")
        elif target is not None or bad_value is not None:
            raise CommandError("--target and --bad-value go with --from-csv only.")
        if promote and not (reason or "").strip():
            raise CommandError("--promote needs --reason: promotion is a recorded act.")
        if max_rounds < 1:
            raise CommandError("--max-rounds must be at least 1.")
        if threads < 0:
            raise CommandError("--threads must be 0 (every core) or more.")
        params = {"nthread": threads} if threads else None
        if report_json and not Path(report_json).resolve().parent.is_dir():
            raise CommandError(f"Cannot write the report to {report_json}: no such folder.")
        try:
            cutoffs = check_grade_cutoffs(settings.RISK_GRADE_CUTOFFS)
        except ValueError as exc:
            raise CommandError(f"settings.RISK_GRADE_CUTOFFS: {exc}") from None

        started = time.perf_counter()
        if csv_path is not None:
            report = self._train_csv(Path(csv_path), target, bad_value, seed=seed,
                                     max_rounds=max_rounds, params=params, cutoffs=cutoffs,
                                     started=started)
        else:
            report = self._train_card(card, snapshot, horizon_months, seed=seed,
                                      max_rounds=max_rounds, params=params, cutoffs=cutoffs,
                                      started=started)
        if promote:
            try:
                model_version_promote(model_version_id=report["model"]["id"], reason=reason)
            except RiskError as exc:
                raise CommandError(str(exc)) from None
            report["model"]["status"] = "champion"
        self.stdout.write(format_report(report))
        if report_json:
            try:
                Path(report_json).write_text(json.dumps(report, indent=2) + "\n")
            except OSError as exc:
                raise CommandError(f"Model {card or Card.CSV} v{report['model']['version']} "
                                   f"is registered, but its report could not be written: "
                                   f"{exc}") from None
            self.stdout.write(f"Report written to {report_json}")

    def _train_card(self, card, snapshot, horizon_months, *, seed, max_rounds, params, cutoffs,
                    started):
        # Imported here: the datasets read the whole history and need the app registry ready.
        from risk import datasets

        if card == Card.APPLICATION:
            from risk.features.application import APPLICATION_FEATURES as features
            from risk.features.application import APPLICATION_FEATURES_HASH as feature_hash
            training_set = datasets.application_training_set()
        else:
            from risk.features.behaviour import BEHAVIOUR_FEATURES as features
            from risk.features.behaviour import BEHAVIOUR_FEATURES_HASH as feature_hash
            if horizon_months < 1:
                raise CommandError("--horizon-months must be at least 1.")
            # Stacked month-end snapshots unless one is asked for.
            try:
                training_set = datasets.behaviour_training_set(
                    None if snapshot is None else [snapshot], horizon_months=horizon_months)
            except ValueError as exc:
                raise CommandError(str(exc)) from None
        names = [f.name for f in features]
        if list(training_set.feature_names) != names:
            raise CommandError(f"The {card} training set's columns {training_set.feature_names} "
                               f"are not the card's features {names}.")
        rows, bads = len(training_set.y), int(training_set.y.sum())
        behaviour = card == Card.BEHAVIOUR
        if rows < MIN_ROWS or bads < MIN_BADS or rows - bads < MIN_BADS:
            counted = ("customer-snapshot rows" if behaviour else "customers")
            raise CommandError(
                f"Too little history to train the {card} card: {rows} {counted} with a known "
                f"outcome, {bads} of them bad; at least {MIN_ROWS} rows and {MIN_BADS} bads "
                f"(and as many goods) are needed. Run simulate_population first on a new "
                f"platform.")
        result = train_scorecard(training_set.X, training_set.y, feature_names=names,
                                 monotone=[f.monotone for f in features], seed=seed,
                                 # The B-card's ceiling is measured below, on the held-out
                                 # rows that have one (the simulated customers').
                                 true_probability=(None if behaviour
                                                   else training_set.true_probability),
                                 grade_cutoffs=cutoffs, max_rounds=max_rounds, params=params,
                                 # A customer's snapshots stay on one side of the split.
                                 groups=training_set.user_ids if behaviour else None)
        data_summary = {**_plain(training_set.summary), "rows": rows, "bads": bads,
                        "bad_rate": bads / rows}
        extra_metrics = (behaviour_ceiling(result, training_set.y,
                                           training_set.true_probability)
                         if behaviour else None)
        return self._register(card, result, feature_hash=feature_hash,
                              data_summary=data_summary, seed=seed,
                              max_rounds=max_rounds, started=started,
                              extra_metrics=extra_metrics)

    def _train_csv(self, path, target, bad_value, *, seed, max_rounds, params, cutoffs,
                   started):
        try:
            table = read_credit_table(path, target=target, bad_value=bad_value)
        except TableError as exc:
            raise CommandError(str(exc)) from None
        if is_small(len(table.y)):
            # Capacity chosen by nested cross-validation; one thread per fit, since threads
            # only wait on each other over a few thousand rows.
            nested = train_small_table(table.features, table.y, seed=seed,
                                       threads=(params or {}).get("nthread", 1),
                                       max_rounds=max_rounds, grade_cutoffs=cutoffs)
            result, cross_validation = nested.training, nested.cross_validation
        else:
            names = list(table.features.columns)
            result = train_scorecard(table.features, table.y, feature_names=names, seed=seed,
                                     grade_cutoffs=cutoffs, max_rounds=max_rounds,
                                     params=params)
            model_folds = model_cv_auc(table.features, table.y, seed=seed,
                                       max_rounds=max_rounds, params=params)
            baseline_folds = baseline_cv_auc(table.features, table.y, seed=seed)
            cross_validation = {
                "cv_auc": sum(model_folds) / FOLDS,
                "baseline_cv_auc": sum(baseline_folds) / FOLDS,
                "cv_auc_folds": model_folds, "baseline_cv_auc_folds": baseline_folds,
            }
        data_summary = {**table.summary(), "path": str(path.resolve())}
        # The table's own columns (names, kinds, categories) are what this model scores.
        feature_hash = hashlib.sha256(json.dumps(table.columns()).encode()).hexdigest()
        return self._register(Card.CSV, result, feature_hash=feature_hash,
                              data_summary=data_summary,
                              seed=seed, max_rounds=max_rounds, started=started,
                              extra_metrics=cross_validation)

    def _register(self, card, result, *, feature_hash, data_summary, seed, max_rounds, started,
                  extra_metrics=None):
        metrics = {**result.metrics, **(extra_metrics or {})}
        version = model_version_register(
            card=card, booster=result.booster, feature_names=result.feature_names,
            feature_hash=feature_hash,
            training_summary={**data_summary, **result.summary(), "seed": seed,
                              "max_rounds": max_rounds},
            metrics=metrics, calibration=result.calibration, grade_cutoffs=result.grade_cutoffs)
        return build_report(result, model_version=version, data_summary=data_summary,
                            seconds=time.perf_counter() - started, max_rounds=max_rounds,
                            extra_metrics=extra_metrics)


def _plain(value):
    """The dataset summary as JSON can store it (numpy numbers and dates become plain values)."""
    def convert(item):
        if isinstance(item, np.generic):
            return item.item()
        if isinstance(item, np.ndarray):
            return item.tolist()
        return str(item)
    return json.loads(json.dumps(value, default=convert))
