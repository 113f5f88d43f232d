"""The instant credit decision, and accepting its offer.

`credit_decide` is the one decision service: the apply page, the API and the demo seeding all
call it. It reads a handful of rows, scores one row with the champion already in memory, and
writes one record that explains the decision on its own: the inputs exactly as the model saw
them, the monthly income it used and why, every rule's result, the model version, probability,
grade, offer and reasons."""

import math
import time
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from accounts.models import User
from core.audit import actor_user, audit_event_append
from core.calendar import business_date_today
from lending.models import CreditLine, CreditLineStatus
from lending.services import credit_line_open, line_limit_raise

from ..errors import RiskError
from ..features.application import (
    APPLICATION_FEATURE_NAMES,
    APPLICATION_FEATURES,
    APPLICATION_FEATURES_HASH,
    application_columns_of,
    application_matrix,
)
from ..income import income_to_use
from ..models import CreditDecision, DecisionOutcome
from ..policy import policy_evaluate, reasons_for_customer
from ..pricing import APR_CAP_UNREACHABLE, RISK_TOO_HIGH, PricingDeclined, offer_for
from ..scoring import LoadedModel, champion
from ..selectors import CoolingOff, applicant

REASONS_SHOWN = 3
FEATURES_BY_NAME = {f.name: f for f in APPLICATION_FEATURES}


def reasons_from_contributions(contributions: dict[str, float], *, raising: bool) -> list[str]:
    """The sentences for the features that pushed the score most: towards default
    (`raising`, for a decline) or away from it (for an approval). At most three, strongest
    first; a feature that pushed the other way is never given as a reason."""
    sign = 1 if raising else -1
    pushes = sorted(((sign * value, name) for name, value in contributions.items()
                     if sign * value > 0), reverse=True)[:REASONS_SHOWN]
    # In the applicant's language (the active one): the sentences are marked in
    # risk/reason_texts.py.
    return [_(FEATURES_BY_NAME[name].reason_up if raising else FEATURES_BY_NAME[name].reason_down)
            for _push, name in pushes]


def _serving_model(champion_pk) -> LoadedModel:
    """The A-card champion, refused unless it was trained on today's feature definitions.
    `champion_pk` is the champion as the applicant read found it."""
    model = champion("application", current_pk=champion_pk)
    if (model.version.feature_hash != APPLICATION_FEATURES_HASH
            or list(model.feature_names) != list(APPLICATION_FEATURE_NAMES)):
        raise RiskError(f"The champion {model.version} was trained on other feature definitions "
                        f"than the ones in use; no decision can be made until a model trained "
                        f"on the current features is promoted.")
    return model


def _cooling_off_refusal(cooling: CoolingOff, product) -> RiskError:
    """The apply page's message when an earlier decision's cooling-off still stands."""
    figures = {"product": product.name, "day": f"{cooling.decided_on:%Y-%m-%d}",
               "decision": cooling.decision_id, "until": f"{cooling.until:%Y-%m-%d}"}
    if cooling.outcome == DecisionOutcome.APPROVED:
        return RiskError(_("You were approved for %(product)s on %(day)s (decision "
                           "#%(decision)s); your offer is on its page. You may apply again "
                           "from %(until)s.") % figures)
    return RiskError(_("Your last application for %(product)s was declined on %(day)s. You may "
                       "apply again from %(until)s.") % figures)


def _reapply_on(outcome, today, *, priced_out=False):
    """The cooling-off every decision starts: RISK_REAPPLY_AFTER_APPROVAL_DAYS after an approval,
    RISK_REAPPLY_DAYS after a decline. A decline because the product's price cap cannot be met
    is not the applicant's doing: they may try again at once."""
    if priced_out:
        return today
    days = (settings.RISK_REAPPLY_AFTER_APPROVAL_DAYS if outcome == DecisionOutcome.APPROVED
            else settings.RISK_REAPPLY_DAYS)
    return today + timedelta(days=days)


def credit_decide(*, customer, product) -> CreditDecision:
    """Decide on this customer's application for this product and record the decision.

    One decision per customer at a time: the customer's row is locked first (as accepting an
    offer locks it), so a burst of applications is decided one after another, and every
    application after the first meets that decision's cooling-off and is refused, recording
    nothing. Then policy rules (a failure declines without scoring), on the monthly income
    `risk.income` chooses; then the champion's probability of default on the application
    features, built by the same code that built its training rows; grade; limit and price;
    reasons. Raises RiskError, recording nothing, when there is no profile, a cooling-off
    stands, there is no usable champion, or the product is closed."""
    started = time.perf_counter()
    today = business_date_today()
    if not product.is_active:
        raise RiskError(_("This product is not open for applications."))
    with transaction.atomic(durable=True):
        # Locks: the customer, then the audit chain head (in audit_event_append).
        list(User.objects.select_for_update().filter(pk=customer.pk).values_list("pk"))
        profile = applicant(customer_id=customer.pk, product=product, today=today)
        if profile is None:
            raise RiskError(_("Fill in your profile before applying for credit."))
        if profile.cooling_off is not None:
            raise _cooling_off_refusal(profile.cooling_off, product)
        return _decide(started, customer, product, today, profile)


def _decide(started, customer, product, today, profile) -> CreditDecision:
    income = income_to_use(
        declared=profile.monthly_income, previous=profile.previous_income,
        previous_decision=profile.previous_decision_id, verified=profile.verified_income,
        verified_on=profile.verified_on, verification=profile.verification_id,
        verified_since_previous=profile.verified_since_previous)
    # From here on the profile carries the income the decision uses, so the rules, the model's
    # features and the limit all read the one figure the record keeps.
    profile.monthly_income = income.used
    results = policy_evaluate(profile=profile, product=product, today=today,
                              monthly_income=income.used)
    record = {"customer": customer, "product": product, "business_date": today,
              "policy_results": [r.as_dict() for r in results],
              "income_declared": income.declared, "income_used": income.used,
              "income_basis": income.basis, "income_note": income.note}
    if not all(r.passed for r in results):
        return _record(started, **record, outcome=DecisionOutcome.DECLINED, inputs={},
                       reasons=reasons_for_customer(results),
                       reapply_on=_reapply_on(DecisionOutcome.DECLINED, today))

    model = _serving_model(profile.champion_id)
    row = application_matrix(application_columns_of(profile), today)
    probabilities, pushes = model.probabilities_and_contributions(row)
    probability = Decimal(f"{float(probabilities[0]):.6f}")
    # Graded on the probability as stored, so the record alone says why this grade.
    grade = model.grade(float(probability))
    contributions = {name: round(float(value), 6) for name, value in
                     zip(APPLICATION_FEATURE_NAMES, pushes[0], strict=True)}
    record.update(
        model_version=model.version, probability_of_default=probability, grade=grade,
        contributions=contributions,
        inputs={name: None if math.isnan(value) else float(value)
                for name, value in zip(APPLICATION_FEATURE_NAMES, row[0].tolist(), strict=True)})
    try:
        offer = offer_for(grade, income.used, product, today)
    except PricingDeclined as declined:
        reason = str(declined)
        if reason == RISK_TOO_HIGH:
            reasons = reasons_from_contributions(contributions, raising=True) or [_(reason)]
        else:
            reasons = [_(reason)]
        return _record(started, **record, outcome=DecisionOutcome.DECLINED, reasons=reasons,
                       reapply_on=_reapply_on(DecisionOutcome.DECLINED, today,
                                              priced_out=reason == APR_CAP_UNREACHABLE))
    reasons = reasons_from_contributions(contributions, raising=False)
    credit_limit = offer.credit_limit
    cap = profile.line_officer_cap
    if cap is not None and credit_limit > cap:
        # An officer's cut holds the line's limit: the offer says what accepting it can give.
        held = officer_cap_reason(cap, product)
        if cap <= 0:
            return _record(started, **record, outcome=DecisionOutcome.DECLINED, reasons=[held],
                           reapply_on=_reapply_on(DecisionOutcome.DECLINED, today))
        credit_limit = cap
        reasons = [held, *reasons]
    return _record(started, **record, outcome=DecisionOutcome.APPROVED,
                   credit_limit=credit_limit, daily_rate=offer.daily_rate, apr=offer.apr,
                   reasons=reasons, reapply_on=_reapply_on(DecisionOutcome.APPROVED, today))


def officer_cap_reason(cap, product) -> str:
    return _("After a review of your account, your %(product)s limit is held at %(amount)s; "
             "applying again cannot raise it until the review is lifted.") % {
        "product": product.name, "amount": f"{settings.CURRENCY} {cap:,.2f}"}


def _record(started, **fields) -> CreditDecision:
    """Inside credit_decide's transaction: the record and its audit event."""
    # The time taken is everything up to the record's own INSERT.
    elapsed_ms = round((time.perf_counter() - started) * 1000, 3)
    decision = CreditDecision.objects.create(**fields, elapsed_ms=elapsed_ms)
    model = decision.model_version
    audit_event_append(
        actor=actor_user(decision.customer), action="decision.make", subject_kind="customer",
        subject_id=decision.customer_id,
        payload={"decision": decision.pk, "product": decision.product.code,
                 "outcome": decision.outcome, "grade": decision.grade,
                 "probability_of_default": decision.probability_of_default,
                 "model": f"{model.card} v{model.version}" if model else None,
                 "credit_limit": decision.credit_limit, "daily_rate": decision.daily_rate,
                 "apr": decision.apr, "reasons": decision.reasons,
                 "income_declared": decision.income_declared,
                 "income_used": decision.income_used, "income_basis": decision.income_basis,
                 "reapply_on": decision.reapply_on,
                 "business_date": decision.business_date})
    return decision


def offer_expires_on(decision: CreditDecision):
    return decision.business_date + timedelta(days=settings.RISK_OFFER_VALID_DAYS)


def credit_offer_accept(*, decision_id: int, customer) -> CreditLine:
    """Accept the customer's own approved offer: open the product's line with the offered limit
    and rate, or raise an existing line to it (a raise never lowers, nor goes above an
    officer's cap on the line: `line_limit_raise`) and set its rate. Every
    other open offer of the customer is closed in the same act, so no later acceptance can put
    another decision's limit or rate on a line; a closed offer is refused.

    Idempotent: accepting again returns the same line and changes nothing."""
    with transaction.atomic(durable=True):
        # One customer's acceptances (and decisions) run one at a time, so two offers can
        # never both be accepted. Locks: customer, decisions, line (inside the services).
        list(User.objects.select_for_update().filter(pk=customer.pk).values_list("pk"))
        decision = (CreditDecision.objects.select_for_update(of=("self",))
                    .select_related("product", "line")
                    .filter(pk=decision_id, customer=customer).first())
        if decision is None:
            raise RiskError(_("There is no such credit decision."))
        if decision.accepted_at is not None:
            return decision.line
        if decision.outcome != DecisionOutcome.APPROVED:
            raise RiskError(_("Only an approved offer can be accepted."))
        if decision.closed_at is not None:
            raise RiskError(_("This offer was closed when you accepted offer #%(number)s; apply "
                              "again for a new decision.") % {"number": decision.closed_by_id})
        today = business_date_today()
        if today > offer_expires_on(decision):
            raise RiskError(_("This offer expired on %(day)s; apply again for a new decision.")
                            % {"day": f"{offer_expires_on(decision):%Y-%m-%d}"})
        # Every other open offer of the customer closes now (the customer's lock keeps new
        # ones from appearing meanwhile).
        now = timezone.now()
        others = (CreditDecision.objects.filter(customer=customer,
                                                outcome=DecisionOutcome.APPROVED,
                                                accepted_at__isnull=True, closed_at__isnull=True)
                  .exclude(pk=decision.pk))
        closed = sorted(others.values_list("pk", flat=True))
        if closed:
            CreditDecision.objects.filter(pk__in=closed).update(closed_at=now,
                                                                 closed_by=decision)
        line = CreditLine.objects.filter(customer=customer, product=decision.product).first()
        customer_actor = actor_user(customer)
        if line is None:
            line = credit_line_open(customer=customer, product=decision.product,
                                    credit_limit=decision.credit_limit,
                                    daily_rate=decision.daily_rate, actor=customer_actor)
        elif line.status != CreditLineStatus.ACTIVE:
            raise RiskError(_("Your %(product)s line is %(status)s, so its limit cannot be "
                              "raised now.") % {
                "product": decision.product.name,
                "status": pgettext("line status", line.get_status_display()).lower()})
        else:
            # Capped inside the service while an officer's cap holds (the reason then says so).
            line = line_limit_raise(line_id=line.pk, new_limit=decision.credit_limit,
                                    daily_rate=decision.daily_rate,
                                    reason=f"The customer accepted credit offer #{decision.pk} "
                                           f"(decided {decision.business_date:%Y-%m-%d}, "
                                           f"grade {decision.grade})",
                                    actor=customer_actor)
        decision.accepted_at = now
        decision.line = line
        decision.save(update_fields=["accepted_at", "line"])
        audit_event_append(actor=customer_actor, action="decision.accept",
                           subject_kind="customer", subject_id=customer.pk,
                           payload={"decision": decision.pk, "line": line.pk,
                                    "credit_limit": decision.credit_limit,
                                    "line_limit": line.credit_limit,
                                    "daily_rate": decision.daily_rate,
                                    "offers_closed": closed})
    return line
