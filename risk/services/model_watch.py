"""Watching the models in service: each night's score distribution of the B-card's champion
and challenger (and of the A-card's champion over the day's decisions) against their training
distributions (the close step `watch_models`, after
`rescore_lines`), and, once outcomes have matured, the two models' AUCs on the same lines.

The distribution is counted by the database (one pass over the latest scores, a count per
training-decile bucket), so it costs the same whether or not the night's scores moved."""

from datetime import date

import numpy as np
from django.db.models import Avg, Count, Q

from lending.models import CreditLine
from lending.rules.schedule import add_months_anchored

from ..datasets import BEHAVIOUR_BAD_DAYS_PAST_DUE, BEHAVIOUR_HORIZON_MONTHS, bad_days
from ..models import (
    Card,
    CreditDecision,
    LineScore,
    LineScoreMonthEnd,
    ModelStatus,
    ModelVersion,
    ScoreDistribution,
    ScoreRole,
)
from ..monitoring import DECILES, population_stability_index, psi_status
from ..training import metrics
from .rescoring_selection import REVIEWED_STATUSES

ROLE_OF_STATUS = {ModelStatus.CHAMPION: ScoreRole.CHAMPION,
                  ModelStatus.CHALLENGER: ScoreRole.CHALLENGER}


def score_distributions_record(*, day: date) -> int:
    """Tonight's score distribution of each model in service, with its PSI against the model's
    training distribution; returns how many were recorded. The B-card's champion and challenger
    over the open lines' latest scores; the A-card's champion over the day's decisions (none
    that day: nothing recorded). Rerun for the same night, it records the same figures again
    in the same row."""
    recorded = 0
    for version, role, scores, field in _watched(day):
        edges = version.metrics.get("score_deciles")
        counts, scored, mean = _counted(scores, field, edges)
        if not scored:
            continue
        psi = status_seen = None
        if edges:
            actual = np.asarray(counts, dtype=np.float64) / scored
            psi = population_stability_index(version.metrics["score_shares"], actual)
            status_seen = psi_status(psi)
        ScoreDistribution.objects.update_or_create(
            model_version=version, business_date=day,
            defaults={"role": role, "lines": scored, "bucket_counts": counts,
                      "mean_probability": mean, "psi": psi, "psi_status": status_seen or ""})
        recorded += 1
    return recorded


def _watched(day):
    """(model version, role, its scores tonight, the scores' field) for each model in
    service."""
    for status, role in ROLE_OF_STATUS.items():
        version = ModelVersion.objects.filter(card=Card.BEHAVIOUR, status=status).first()
        if version is not None:
            yield (version, role, LineScore.objects.filter(
                role=role, model_version=version, line__status__in=REVIEWED_STATUSES),
                "probability")
    a_card = ModelVersion.objects.filter(card=Card.APPLICATION,
                                         status=ModelStatus.CHAMPION).first()
    if a_card is not None:
        yield (a_card, ScoreRole.CHAMPION, CreditDecision.objects.filter(
            model_version=a_card, business_date=day, probability_of_default__isnull=False),
            "probability_of_default")


def _counted(scores, field, edges) -> tuple[list[int], int, float | None]:
    """Scores per training-decile bucket (closed on the right, as `risk.monitoring` buckets
    them), how many in all, and their mean; one query."""
    buckets = {}
    if edges:
        bounds = [None, *edges, None]
        for k in range(DECILES):
            low, high = bounds[k], bounds[k + 1]
            condition = Q()
            if low is not None:
                condition &= Q(**{f"{field}__gt": low})
            if high is not None:
                condition &= Q(**{f"{field}__lte": high})
            buckets[f"b{k}"] = Count("pk", filter=condition)
    figures = scores.aggregate(scored=Count("pk"), mean=Avg(field), **buckets)
    counts = [figures[f"b{k}"] for k in range(DECILES)] if edges else []
    mean = None if figures["mean"] is None else float(figures["mean"])
    return counts, figures["scored"], mean


def drift_alerts() -> list[ScoreDistribution]:
    """The latest night's distributions of the models in service whose PSI is above the
    warning level, for the risk manager's admin index."""
    last = ScoreDistribution.objects.order_by("-business_date").values_list(
        "business_date", flat=True).first()
    if last is None:
        return []
    return list(ScoreDistribution.objects.filter(business_date=last,
                                                  psi_status__in=["warning", "alert"])
                .select_related("model_version").order_by("-psi"))


def challenger_comparison(champion, challenger, *, today: date,
                          horizon_months: int = BEHAVIOUR_HORIZON_MONTHS) -> dict:
    """Both models' AUCs on the same lines: the month-end scores both gave whose outcome
    window (`horizon_months`, bad at the B-card's days past due) has closed by `today`.
    Lines are counted as their customers' (the B-card scores customers)."""
    champion_scores = _month_end_scores(champion, today, horizon_months)
    challenger_scores = _month_end_scores(challenger, today, horizon_months)
    common = sorted(set(champion_scores) & set(challenger_scores))
    result = {"rows": len(common), "bads": 0, "champion_auc": None, "challenger_auc": None,
              "snapshots": sorted({d.isoformat() for _, d in common})}
    if not common:
        return result
    customer_of = dict(CreditLine.objects.filter(pk__in={line for line, _ in common})
                       .values_list("pk", "customer_id"))
    bad = bad_days(set(customer_of.values()), BEHAVIOUR_BAD_DAYS_PAST_DUE)
    # As in the B-card's training rows: a customer already in default at the snapshot is
    # left out, and bad means reaching the days past due within the window after it.
    common = [(line, d) for line, d in common
              if not any(day <= d for day in bad.get(customer_of[line], []))]
    result["rows"] = len(common)
    y = np.array([int(any(d < day <= add_months_anchored(d, horizon_months)
                          for day in bad.get(customer_of[line], [])))
                  for line, d in common], dtype=np.int8)
    result["bads"] = int(y.sum())
    if 0 < y.sum() < len(y):
        result["champion_auc"] = metrics.auc(y, np.array([champion_scores[k] for k in common]))
        result["challenger_auc"] = metrics.auc(
            y, np.array([challenger_scores[k] for k in common]))
    return result


def _month_end_scores(version, today, horizon_months) -> dict:
    matured = add_months_anchored(today, -horizon_months)
    return {(line, d): float(p) for line, d, p in LineScoreMonthEnd.objects.filter(
        model_version=version, business_date__lte=matured).values_list(
        "line_id", "business_date", "probability")}
