"""Nightly B-card rescoring as a close step: scores kept, the policy acted on through lending's
records (limit and rate changes, each with its review, audit event and notice), a redelivered
chunk changing nothing, an officer's cap holding, a challenger never acting, and the score
distribution's PSI recorded and shown."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction

from accounts.models import Notice
from core.audit import audit_trail_of
from core.close import close_step_named
from lending import services
from lending.models import CreditLine, LimitChange, Loan, RateChange
from lending.selectors import amount_due_on
from operations.nightly_close import business_day_close
from risk.models import (
    CreditDecision,
    LineReview,
    LineScore,
    LineScoreMonthEnd,
    ScoreDistribution,
)
from risk.monitoring import population_stability_index
from risk.pricing import band_rate
from risk.services.model_watch import (
    challenger_comparison,
    drift_alerts,
    score_distributions_record,
)
from risk.services.registry import model_version_promote
from tests.factories import CreditLineFactory, ProfileFactory, set_business_date
from tests.risk.bcard_champion import bcard_install
from tests.risk.test_admin import register

db = pytest.mark.django_db
OPENED = date(2026, 1, 10)


def _rescore(day):
    with transaction.atomic():
        return close_step_named("rescore_lines").run(day, None, None)


def _customer_line(limit="20000.00", rate="0.00050000"):
    set_business_date(OPENED)
    line = CreditLineFactory(credit_limit=Decimal(limit), daily_rate=Decimal(rate),
                             opened_on=OPENED)
    ProfileFactory(user=line.customer, monthly_income=Decimal("12000.00"))
    return line


def _draw(line, principal="6000.00"):
    set_business_date(OPENED)
    return services.loan_originate(line_id=line.pk, principal=Decimal(principal), term_months=3,
                                   method="equal_principal", idempotency_key=f"draw-{line.pk}",
                                   scope="test")


def _records():
    return (LimitChange.objects.count(), RateChange.objects.count(), LineReview.objects.count(),
            Notice.objects.count(), LineScore.objects.count())


@db
def test_without_a_bcard_champion_nothing_is_scored(bank):
    _customer_line()
    assert _rescore(date(2026, 1, 11)) == 0
    assert not LineScore.objects.exists()


@db
def test_a_customer_forty_days_past_due_has_the_limit_lowered_to_what_is_drawn(bank):
    """Line 20,000 at 0.05 % a day, 6,000 drawn on 2026-01-10 in three parts, nothing paid: on
    2026-03-22 the first part (due 2026-02-10) is 40 days past due, the B-card grades E, and
    the limit goes to the 6,000.00 drawn. The loan keeps its rate; the line keeps its rate (E
    is never priced)."""
    champion = bcard_install()
    line = _customer_line()
    loan = _draw(line)
    day = date(2026, 3, 22)
    set_business_date(day)
    assert _rescore(day) == 1

    line.refresh_from_db()
    assert line.credit_limit == Decimal("6000.00") and line.available == 0
    assert line.daily_rate == Decimal("0.00050000")
    change = LimitChange.objects.get(line=line)
    assert (change.old_limit, change.new_limit, change.officer) == (
        Decimal("20000.00"), Decimal("6000.00"), None)
    assert "the amount you have drawn" in change.reason
    review = LineReview.objects.get(line=line)
    assert (review.grade, review.model_version, review.business_date) == ("E", champion, day)
    assert review.probability > Decimal("0.25")
    assert [r["code"] for r in review.reasons] == ["limit_lowered_to_drawn"]
    assert "price_held_declined_grade" in review.findings
    event = [e for e in audit_trail_of("line", line.pk) if e.action == "line.limit_lower"][-1]
    assert event.actor_kind == "system" and event.payload["model_version"] == "behaviour v1"
    assert Decimal(event.payload["probability"]) == review.probability
    notice = Notice.objects.get(customer=line.customer, key=f"line-review:{line.pk}:{day}")
    assert "lowered your credit limit from CNY 20,000.00 to CNY 6,000.00" in notice.body
    score = LineScore.objects.get(line=line, role="champion")
    assert (score.grade, score.probability, score.business_date) == ("E", review.probability, day)
    assert Loan.objects.get(pk=loan.pk).daily_rate == Decimal("0.00050000")


@db
def test_a_redelivered_chunk_changes_nothing(bank):
    bcard_install()
    overdue = _customer_line()
    _draw(overdue)
    clean = _customer_line()
    day = date(2026, 3, 22)
    set_business_date(day)
    _rescore(day)
    before = _records()
    assert before[0] == 1 and before[1] == 1  # the overdue limit, the clean line's new price
    audit_before = len(audit_trail_of("line", overdue.pk)) + len(audit_trail_of("line", clean.pk))
    _rescore(day)
    assert _records() == before
    assert len(audit_trail_of("line", overdue.pk)) + len(
        audit_trail_of("line", clean.pk)) == audit_before
    # The next night, nothing has moved: the decisions are fixed points.
    set_business_date(date(2026, 3, 23))
    _rescore(date(2026, 3, 23))
    assert _records()[:4] == before[:4]


@db
def test_a_clean_customer_is_repriced_at_once_and_raised_after_three_months(bank):
    """Grade A prices at the band's minimum (0.02 % a day) from the first night; the limit
    (20,000; A's target on an income of 12,000 is 72,000) is raised only after three whole
    months on book, by 20 % to 24,000, then not again for ninety days."""
    bcard_install()
    line = _customer_line()
    loan = _draw(line)
    _rescore(date(2026, 1, 11))
    line.refresh_from_db()
    grade_a = band_rate("A", min_daily_rate=line.product.min_daily_rate,
                        max_daily_rate=line.product.max_daily_rate)
    assert line.daily_rate == grade_a == Decimal("0.00020000")
    assert line.credit_limit == Decimal("20000.00")
    assert RateChange.objects.get(line=line).old_rate == Decimal("0.00050000")
    assert Loan.objects.get(pk=loan.pk).daily_rate == Decimal("0.00050000")

    for due in (date(2026, 2, 10), date(2026, 3, 10), date(2026, 4, 10)):
        set_business_date(due)
        services.loan_repay(loan_id=loan.pk, amount=amount_due_on(loan, due),
                            idempotency_key=f"pay-{due}", scope="test")
    for day, limit in ((date(2026, 4, 9), "20000.00"),  # 2 months 30 days: held
                       (date(2026, 4, 10), "24000.00"),  # three whole months: raised
                       (date(2026, 7, 8), "24000.00"),  # 89 days after the raise: held
                       (date(2026, 7, 9), "28800.00")):  # 90 days: raised again
        set_business_date(day)
        _rescore(day)
        line.refresh_from_db()
        assert line.credit_limit == Decimal(limit), day
    raises = LineReview.objects.filter(line=line, reasons__0__code="limit_raised")
    assert raises.count() == 2


@db
def test_an_officers_cap_holds_against_the_raise(bank, django_user_model):
    bcard_install()
    line = _customer_line(limit="25000.00")
    officer = django_user_model.objects.create_user("officer-cap", password="x")
    services.line_limit_lower(line_id=line.pk, new_limit="20000.00", reason="Affordability",
                              officer=officer)
    day = date(2026, 5, 1)
    set_business_date(day)
    _rescore(day)
    line.refresh_from_db()
    assert (line.credit_limit, line.officer_cap) == (Decimal("20000.00"), Decimal("20000.00"))
    assert not LineReview.objects.filter(reasons__0__code="limit_raised").exists()


@db
def test_a_challenger_scores_in_the_shadow_and_never_acts(bank):
    """The champion grades this clean customer A; a challenger that grades everyone E (its
    calibration pushes every probability to about 1) would cut the limit to zero. It is
    recorded beside the champion, and the line follows the champion only."""
    bcard_install()
    challenger = bcard_install(role="challenger", calibration={"a": 1.0, "b": 20.0})
    line = _customer_line()
    day = date(2026, 1, 31)  # a month end: both models' scores kept for good
    set_business_date(day)
    _rescore(day)
    line.refresh_from_db()
    assert line.credit_limit == Decimal("20000.00")
    shadow = LineScore.objects.get(line=line, role="challenger")
    assert (shadow.model_version, shadow.grade) == (challenger, "E")
    assert LineScore.objects.get(line=line, role="champion").grade == "A"
    assert LineScoreMonthEnd.objects.filter(line=line).count() == 2
    assert all(r.model_version_id != challenger.pk for r in LineReview.objects.all())


@db
def test_the_nightly_psi_against_a_hand_computed_figure(bank):
    """Training shares 10 % in each decile bucket (cut points 0.01 ... 0.09); tonight the four
    clean customers all score below 0.01 ... unless they do not: the figure is computed from
    the recorded counts by hand. With every line in bucket 0:
    PSI = (1 - 0.1) ln(1 / 0.1) + 9 (0.0001 - 0.1) ln(0.0001 / 0.1) = 8.2831..."""
    bcard_install(calibration={"a": 1.0, "b": -10.0})  # every probability near zero
    for _ in range(4):
        _customer_line()
    day = date(2026, 1, 11)
    set_business_date(day)
    run = business_day_close(business_date=day)
    assert {s.step for s in run.steps.all()} >= {"rescore_lines", "watch_models"}
    distribution = ScoreDistribution.objects.get(business_date=day)
    assert distribution.lines == 4 and distribution.bucket_counts == [4] + [0] * 9
    by_hand = 0.9 * 2.302585093 + 9 * (0.0001 - 0.1) * (-6.907755279)
    assert distribution.psi == pytest.approx(by_hand, abs=1e-6) == pytest.approx(8.28313, abs=1e-4)
    assert distribution.psi == pytest.approx(
        population_stability_index([0.1] * 10, [1] + [0] * 9))
    assert distribution.psi_status == "alert"
    assert drift_alerts() == [distribution]


@db
def test_lines_changed_since_the_review_read_them_are_left_alone(bank):
    line = _customer_line()
    stale = services.LineTermsChange(line_id=line.pk, limit_was=Decimal("25000.00"),
                                     rate_was=line.daily_rate, new_limit=Decimal("10000.00"),
                                     limit_reason="test")
    from core.audit import actor_system
    with transaction.atomic():
        applied = services.lines_terms_change([stale], day=OPENED, actor=actor_system("test"))
    assert applied == [] and not LimitChange.objects.exists()
    assert CreditLine.objects.get(pk=line.pk).credit_limit == Decimal("20000.00")

    # The rescoring reads its lines without locking them: a draw after it read the line (the
    # lowered limit was decided from what was drawn before) leaves the line alone as well.
    _draw(line)
    drawn_before = services.LineTermsChange(
        line_id=line.pk, limit_was=Decimal("20000.00"), rate_was=line.daily_rate,
        new_limit=Decimal("1000.00"), drawn_was=Decimal("0.00"), limit_reason="test")
    as_read = services.LineTermsChange(
        line_id=line.pk, limit_was=Decimal("20000.00"), rate_was=line.daily_rate,
        new_limit=Decimal("6000.00"), drawn_was=Decimal("6000.00"), limit_reason="test")
    with transaction.atomic():
        applied = services.lines_terms_change([drawn_before], day=OPENED,
                                              actor=actor_system("test"))
    assert applied == [] and not LimitChange.objects.exists()
    with transaction.atomic():
        applied = services.lines_terms_change([as_read], day=OPENED, actor=actor_system("test"))
    assert applied == [as_read]
    assert CreditLine.objects.get(pk=line.pk).credit_limit == Decimal("6000.00")


@db
def test_the_challenger_and_the_champion_are_compared_on_the_same_matured_lines(bank):
    """Month-end scores of 2026-01-31 for four lines; two customers drew 6,000 on 2026-01-10 and
    paid nothing, so their first instalment (due 2026-02-10) is 60 days past due on 2026-04-11,
    within six months: bad. The champion scored the bads higher (AUC 1), the challenger lower
    (AUC 0). Scores whose six months are not over by `today` are not compared."""
    champion = bcard_install()
    challenger = bcard_install(role="challenger")
    lines = [_customer_line() for _ in range(4)]
    for line in lines[:2]:
        _draw(line)
    snapshot = date(2026, 1, 31)
    for line, (high, low) in zip(lines, [("0.9", "0.1"), ("0.8", "0.2"), ("0.2", "0.8"),
                                         ("0.1", "0.9")], strict=True):
        for version, probability, role in ((champion, high, "champion"),
                                           (challenger, low, "challenger")):
            LineScoreMonthEnd.objects.create(line=line, model_version=version, role=role,
                                             probability=Decimal(probability), grade="C",
                                             business_date=snapshot)
    set_business_date(date(2026, 8, 1))
    figures = challenger_comparison(champion, challenger, today=date(2026, 8, 1))
    assert (figures["rows"], figures["bads"]) == (4, 2)
    assert (figures["champion_auc"], figures["challenger_auc"]) == (1.0, 0.0)
    assert challenger_comparison(champion, challenger, today=date(2026, 7, 30))["rows"] == 0


@db
def test_the_application_cards_champion_is_watched_over_the_days_decisions(bank):
    """An A-card champion with training deciles 0.01 ... 0.09: three decisions of the day at
    probabilities 0.005, 0.05 and 0.5 fall in buckets 0, 4 (0.05 is on the edge: the lower
    bucket) and 9."""
    version = register(5)
    version.metrics = {"score_deciles": [round(0.01 * k, 2) for k in range(1, 10)],
                       "score_shares": [0.1] * 10}
    version.save(update_fields=["metrics"])
    model_version_promote(model_version_id=version.pk, reason="watch test")
    line = _customer_line()
    day = date(2026, 1, 12)
    for probability in ("0.005", "0.05", "0.5"):
        CreditDecision.objects.create(
            customer=line.customer, product=line.product, model_version=version,
            outcome="declined", inputs={}, policy_results=[], grade="E",
            probability_of_default=Decimal(probability), business_date=day, elapsed_ms=1.0)
    assert score_distributions_record(day=day) == 1
    distribution = ScoreDistribution.objects.get(model_version=version)
    assert distribution.bucket_counts == [1, 0, 0, 0, 1, 0, 0, 0, 0, 1]
    assert distribution.lines == 3
    expected = population_stability_index([0.1] * 10, [1 / 3, 0, 0, 0, 1 / 3, 0, 0, 0, 0, 1 / 3])
    assert distribution.psi == pytest.approx(expected)
