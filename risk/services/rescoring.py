"""Nightly B-card rescoring of the open cash-loan lines, one chunk of customers at a time (the
close step `rescore_lines`, risk/close.py).

For the customers from `first_id` to `last_id`, in the chunk's one transaction:

1. their open lines (active or frozen) are read, and the B-card's features computed for all of
   them at once as of the close of the night's business date (`risk.features.behaviour`, a few
   set-based queries for the whole chunk);
2. the champion scores them, and a challenger, when one is marked, scores the same rows in the
   shadow; each line's latest score per role is kept (`LineScore`, rewritten only when it moves)
   and on the last business date of a month every line's score is kept for good
   (`LineScoreMonthEnd`);
3. the champion's score is acted on by the one policy function (`risk.rescoring_policy`): the
   limits and rates it changes are written by lending in a few statements
   (`lending.services.lines_terms_change`), each with a `LineReview` saying what decided it and
   a notice to the customer in plain words. The challenger never acts.

A rerun or redelivered chunk changes nothing: the scores come out the same and are not
rewritten, and the policy's decisions are fixed points (a lowered limit is at its target, a
raise holds the next one back for ninety days, a rate is its grade's), and a line has at most
one `LineReview` a night. Pay-later lines are not reviewed here: their limits follow their own
rules."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple

import numpy as np
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import translation
from django.utils.translation import gettext, gettext_noop

from accounts.languages import by_language
from accounts.models import NoticeKind
from accounts.services.notices import NoticeDraft, notices_create_many
from core.audit import actor_system
from core.batch import field_in, rows_insert, rows_upsert
from lending.models import CreditProduct, LimitChange
from lending.services import LineTermsChange, lines_terms_change

from .. import scoring
from ..errors import NoChampion, RiskError
from ..features.behaviour import (
    BEHAVIOUR_FEATURE_NAMES,
    BEHAVIOUR_FEATURES_HASH,
    behaviour_columns,
    behaviour_matrix,
)
from ..models import (
    Card,
    CreditDecision,
    LineReview,
    LineScore,
    LineScoreMonthEnd,
    ModelStatus,
    ModelVersion,
    RescoringNightCustomer,
    ScoreRole,
)
from ..rescoring_policy import LineReviewInput, ProductTerms, line_review
from .rescoring_selection import (
    behaviour_model_pk,
    chosen_customers,
    is_month_end,
    open_cash_lines,
)

ACTOR = actor_system("rescore_lines")
NOTICE_SUBJECT = gettext_noop("Your credit line has changed")
_MONTHS_ON_BOOK = BEHAVIOUR_FEATURE_NAMES.index("months_on_book")
_WORST_DPD_6M = BEHAVIOUR_FEATURE_NAMES.index("worst_dpd_6m")
_PROBABILITY = Decimal("0.000001")


class _Line(NamedTuple):
    """A line as the review reads it (plain values: a chunk holds thousands), with what the
    policy needs beside it, read in the same query."""

    pk: int
    customer_id: int
    product_id: int
    credit_limit: Decimal
    outstanding_principal: Decimal
    daily_rate: Decimal
    officer_cap: Decimal | None
    # The business date of the line's last raise, None if never raised.
    last_raise_on: date | None
    # Whether the line was reviewed with a change tonight already (a rerun's chunk).
    reviewed_tonight: bool
    # The monthly income the line's latest accepted decision used; for a line opened without
    # one (before decisions recorded their income, or by the simulator), the income on the
    # customer's profile; None when neither is known.
    monthly_income: Decimal | None


@dataclass(frozen=True)
class Scores:
    """One model's scores of a chunk's customers, in the order of their rows."""

    model: scoring.LoadedModel
    probabilities: list[Decimal]
    grades: list[str]


def behaviour_champion() -> scoring.LoadedModel | None:
    """The B-card champion, or None while there is none (nothing is rescored then). Its key is
    read each chunk (one indexed read), so a promotion takes effect from the next chunk; the
    booster is loaded once per process."""
    try:
        model = scoring.champion(Card.BEHAVIOUR,
                                 current_pk=behaviour_model_pk(ModelStatus.CHAMPION))
    except NoChampion:
        return None
    _features_check(model.version)
    return model


_challengers: dict[int, scoring.LoadedModel] = {}


def behaviour_challenger() -> scoring.LoadedModel | None:
    """The B-card candidate marked challenger, or None. One indexed read a chunk; the booster is
    loaded once per process."""
    pk = behaviour_model_pk(ModelStatus.CHALLENGER)
    if pk is None:
        return None
    if pk not in _challengers:
        version = ModelVersion.objects.get(pk=pk)
        _features_check(version)
        _challengers.clear()
        _challengers[pk] = scoring.load(version)
    return _challengers[pk]


def _features_check(version: ModelVersion) -> None:
    if version.feature_hash != BEHAVIOUR_FEATURES_HASH:
        raise RiskError(f"{version} was trained on other behaviour features than today's: "
                        "retrain it before it scores.")


def lines_rescore(*, day: date, first_id=None, last_id=None) -> int:
    """Score, record and review the open cash-loan lines of the customers from `first_id` to
    `last_id` (see the module's doc); returns how many lines were scored. Joins the caller's
    transaction."""
    champion = behaviour_champion()
    if champion is None:
        return 0
    bounds = Q()
    if first_id is not None:
        bounds &= Q(customer_id__gte=first_id)
    if last_id is not None:
        bounds &= Q(customer_id__lte=last_id)
    night = chosen_customers(day)
    if night is not None:
        # Tonight scores only the customers that can have moved (rescoring_selection).
        bounds &= Q(customer_id__in=RescoringNightCustomer.objects.filter(bounds, night=night)
                    .values("customer_id"))
    # Read without a lock: lending locks only the lines a review changes, and leaves alone
    # those whose limit, rate or drawn balance moved since this read (a draw or repayment
    # meanwhile). A row lock is a write to the row: locking every line read would write a
    # million rows a night, and hold up a customer's draw for the whole chunk.
    lines = [_Line(*row) for row in
             open_cash_lines(day).filter(bounds)
             .annotate(**_review_inputs(day))
             .order_by("pk").values_list(*_Line._fields)]
    if not lines:
        return 0
    customers = sorted({line.customer_id for line in lines})
    row_of = {customer: row for row, customer in enumerate(customers)}
    X = behaviour_matrix(behaviour_columns(customers, day), day)
    scored = [model_scores(champion, X)]
    challenger = behaviour_challenger()
    if challenger is not None:
        scored.append(model_scores(challenger, X))
    roles = [ScoreRole.CHAMPION, ScoreRole.CHALLENGER][:len(scored)]
    _latest_scores_save(lines, row_of, dict(zip(roles, scored, strict=True)), day)
    if is_month_end(day):
        _month_end_scores_save(lines, row_of, dict(zip(roles, scored, strict=True)), day)
    _lines_review(lines, row_of, X, scored[0], day)
    return len(lines)


def _review_inputs(day: date) -> dict:
    """The annotations that read `_Line`'s last three fields with the lines, one index probe
    each per line, in the lines' one query."""
    decided = (CreditDecision.objects.filter(line_id=OuterRef("pk"), accepted_at__isnull=False,
                                             income_used__isnull=False)
               .order_by("-accepted_at").values("income_used")[:1])
    return {
        "last_raise_on": Subquery(
            LimitChange.objects.filter(line_id=OuterRef("pk"), new_limit__gt=F("old_limit"))
            .order_by("-business_date").values("business_date")[:1]),
        "reviewed_tonight": Exists(LineReview.objects.filter(line_id=OuterRef("pk"),
                                                             business_date=day)),
        "monthly_income": Coalesce(Subquery(decided), F("customer__profile__monthly_income")),
    }


def model_scores(model: scoring.LoadedModel, X: np.ndarray) -> Scores:
    """The model's scores of the rows of `X`: calibrated probabilities to six places, and
    grades by the version's cut-offs."""
    probabilities = model.probabilities(X)
    cutoffs = model.version.grade_cutoffs
    if len(cutoffs) != len(scoring.GRADES) - 1:
        raise RiskError(f"{model.version} has no grade cut-offs.")
    grades = np.searchsorted(cutoffs, probabilities, side="right")
    return Scores(model=model,
                  probabilities=[Decimal(f"{p:.6f}") for p in probabilities],
                  grades=[scoring.GRADES[g].value for g in grades])


def _latest_scores_save(lines, row_of, scored: dict, day: date) -> None:
    """Each line's latest score per role, written only where it moved."""
    kept = {(line_id, role): (version, probability, grade)
            for line_id, role, version, probability, grade in
            LineScore.objects.filter(field_in("line_id", [line.pk for line in lines]))
            .values_list("line_id", "role", "model_version_id", "probability", "grade")}
    moved = []
    for role, scores in scored.items():
        version = scores.model.version.pk
        for line in lines:
            row = row_of[line.customer_id]
            score = (version, scores.probabilities[row], scores.grades[row])
            if kept.get((line.pk, role)) != score:
                moved.append((line.pk, role, *score, day))
    rows_upsert(LineScore, ["line_id", "role", "model_version_id", "probability", "grade",
                            "business_date"], moved, unique=["line_id", "role"],
                update=["model_version_id", "probability", "grade", "business_date"])


def _month_end_scores_save(lines, row_of, scored: dict, day: date) -> None:
    rows_upsert(LineScoreMonthEnd,
                ["line_id", "model_version_id", "role", "probability", "grade",
                 "business_date"],
                [(line.pk, scores.model.version.pk, role,
                  scores.probabilities[row_of[line.customer_id]],
                  scores.grades[row_of[line.customer_id]], day)
                 for role, scores in scored.items() for line in lines],
                unique=["model_version_id", "business_date", "line_id"])


def _lines_review(lines, row_of, X: np.ndarray, scores: Scores, day: date) -> None:
    """Act on the champion's scores: the policy's changes, each with its LineReview and a
    notice. A line already reviewed with a change tonight is not reviewed again."""
    terms = {product.pk: ProductTerms.of(product) for product in
             CreditProduct.objects.filter(pk__in={line.product_id for line in lines})}
    decided = []
    for line in lines:
        if line.reviewed_tonight or line.monthly_income is None:
            continue  # reviewed tonight already; or no income known at all (no profile)
        row = row_of[line.customer_id]
        review = line_review(LineReviewInput(
            current_limit=line.credit_limit, outstanding_principal=line.outstanding_principal,
            current_daily_rate=line.daily_rate, grade=scores.grades[row],
            probability=scores.probabilities[row], monthly_income=line.monthly_income,
            product=terms[line.product_id], months_on_book=int(X[row, _MONTHS_ON_BOOK]),
            worst_dpd_6m=int(X[row, _WORST_DPD_6M]), last_raise_on=line.last_raise_on,
            officer_cap=line.officer_cap, business_date=day))
        if review.changed:
            decided.append((line, row, review))
    if not decided:
        return
    version = scores.model.version
    changes = {}
    for line, row, review in decided:
        texts = dict(zip(review.reason_codes, review.reason_texts, strict=True))
        limit_text = next((t for c, t in texts.items() if c.startswith("limit_")), "")
        rate_text = next((t for c, t in texts.items() if c.startswith("rate_")), "")
        changes[line.pk] = LineTermsChange(
            line_id=line.pk, limit_was=line.credit_limit, rate_was=line.daily_rate,
            drawn_was=line.outstanding_principal,
            new_limit=review.new_limit, new_rate=review.new_daily_rate,
            limit_reason=limit_text, rate_reason=rate_text,
            audit={"model_version": f"{version.card} v{version.version}",
                   "probability": scores.probabilities[row], "grade": scores.grades[row],
                   "reason_codes": list(review.reason_codes), "findings": list(review.findings)})
    applied = {c.line_id for c in lines_terms_change(changes.values(), day=day, actor=ACTOR)}
    reviews, told = [], []
    for line, row, review in decided:
        if line.pk not in applied:
            continue
        told.append((line, review))
        reviews.append((
            line.pk, day, version.pk, scores.probabilities[row], scores.grades[row],
            line.credit_limit, line.credit_limit if review.new_limit is None
            else review.new_limit, line.daily_rate,
            line.daily_rate if review.new_daily_rate is None else review.new_daily_rate,
            [{"code": r.code, "text": r.text} for r in review.reasons], list(review.findings)))
    # Each customer's notice in their language; the records above stay in English.
    notices = []
    for language, group in by_language(told, customer_id=lambda t: t[0].customer_id).items():
        with translation.override(language):
            subject = gettext(NOTICE_SUBJECT)
            notices += [NoticeDraft(customer_id=line.customer_id, kind=NoticeKind.ACCOUNT,
                                    key=f"line-review:{line.pk}:{day.isoformat()}",
                                    subject=subject, body="\n\n".join(review.reason_texts),
                                    business_date=day) for line, review in group]
    rows_insert(LineReview, ["line_id", "business_date", "model_version_id", "probability",
                             "grade", "old_limit", "new_limit", "old_daily_rate",
                             "new_daily_rate", "reasons", "findings"], reviews)
    notices_create_many(notices)
