"""The model registry: recording trained scorecards and promoting one of them to champion."""

import xgboost as xgb
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from core.audit import actor_system, actor_user, audit_event_append

from ..errors import RiskError
from ..models import Card, ModelPromotion, ModelStatus, ModelVersion


def booster_to_bytes(booster: xgb.Booster) -> bytes:
    """XGBoost's own UBJSON: loading it back can never execute code, unlike a pickle."""
    return bytes(booster.save_raw(raw_format="ubj"))


def booster_from_bytes(raw: bytes) -> xgb.Booster:
    booster = xgb.Booster()
    booster.load_model(bytearray(raw))
    return booster


def model_version_register(*, card: str, booster: xgb.Booster, feature_names, feature_hash: str,
                           training_summary: dict, metrics: dict, calibration: dict,
                           grade_cutoffs=()) -> ModelVersion:
    """Store a trained model as the card's next version, a candidate until promoted."""
    if card not in Card.values:
        raise RiskError(f"Unknown card {card!r}; expected one of {', '.join(Card.values)}.")
    with transaction.atomic():
        # Serialise numbering per card: lock the card's existing versions (none on the first).
        list(ModelVersion.objects.select_for_update().filter(card=card).values_list("pk"))
        last = ModelVersion.objects.filter(card=card).aggregate(last=Max("version"))["last"]
        return ModelVersion.objects.create(
            card=card, version=(last or 0) + 1, feature_names=list(feature_names),
            feature_hash=feature_hash, training_summary=training_summary, metrics=metrics,
            calibration=calibration, grade_cutoffs=list(grade_cutoffs),
            booster=booster_to_bytes(booster),
        )


def model_version_promote(*, model_version_id: int, promoted_by=None,
                          reason: str) -> ModelPromotion:
    """Make this version its card's champion, retiring the previous one, and record the act."""
    reason = (reason or "").strip()
    if not reason:
        raise RiskError("A reason is required to promote a model.")
    with transaction.atomic(durable=True):
        candidate = ModelVersion.objects.select_for_update().get(pk=model_version_id)
        if candidate.card == Card.CSV:
            raise RiskError("A model trained on a CSV table scores that table's columns, not "
                            "the platform's features, so it cannot become a champion.")
        if candidate.status == ModelStatus.CHAMPION:
            raise RiskError(f"{candidate} is already the champion.")
        previous = (ModelVersion.objects.select_for_update()
                    .filter(card=candidate.card, status=ModelStatus.CHAMPION).first())
        now = timezone.now()
        if previous is not None:
            previous.status = ModelStatus.RETIRED
            previous.save(update_fields=["status"])
        candidate.status = ModelStatus.CHAMPION
        candidate.promoted_at = now
        candidate.save(update_fields=["status", "promoted_at"])
        promotion = ModelPromotion.objects.create(
            model_version=candidate, previous_champion=previous, promoted_by=promoted_by,
            reason=reason)
        actor = actor_user(promoted_by) if promoted_by else actor_system("promote_model")
        audit_event_append(actor=actor, action="model.promote", subject_kind="model",
                           subject_id=candidate.card,
                           payload={"champion": candidate.version,
                                    "replaces": previous.version if previous else None,
                                    "metrics": {k: str(v) for k, v in candidate.metrics.items()
                                                if k == "auc"},
                                    "reason": reason})
        return promotion


def model_version_challenger_set(*, model_version_id: int, marked_by=None,
                                 reason: str) -> ModelVersion:
    """Mark a B-card candidate as its card's challenger: from tonight it scores every line the
    champion scores, in the shadow (recorded, never acted on). A challenger already marked
    goes back to being a candidate. Only a B-card can be a challenger: only the B-card scores
    every night."""
    reason = (reason or "").strip()
    if not reason:
        raise RiskError("A reason is required to mark a challenger.")
    with transaction.atomic(durable=True):
        candidate = ModelVersion.objects.select_for_update().get(pk=model_version_id)
        if candidate.card != Card.BEHAVIOUR:
            raise RiskError("Only a B-card can be a challenger: the B-card is what rescores "
                            "every line each night.")
        if candidate.status != ModelStatus.CANDIDATE:
            raise RiskError(f"{candidate} is not a candidate.")
        previous = (ModelVersion.objects.select_for_update()
                    .filter(card=candidate.card, status=ModelStatus.CHALLENGER).first())
        if previous is not None:
            previous.status = ModelStatus.CANDIDATE
            previous.save(update_fields=["status"])
        candidate.status = ModelStatus.CHALLENGER
        candidate.save(update_fields=["status"])
        actor = actor_user(marked_by) if marked_by else actor_system("mark_challenger")
        audit_event_append(actor=actor, action="model.challenger", subject_kind="model",
                           subject_id=candidate.card,
                           payload={"challenger": candidate.version,
                                    "replaces": previous.version if previous else None,
                                    "reason": reason})
        return candidate
