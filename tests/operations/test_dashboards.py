"""The dashboards on the admin index (operations/dashboards): each figure's query on a small
hand-built set of snapshots, loans and decisions with the figures worked out by hand, the SVG
charts, and which dashboards each user sees."""

import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from core.close import close_step_named, close_steps
from debt_collection.models import BucketSnapshot
from lending.models import Loan, LoanStatus
from lending.services import loan_originate
from operations.dashboards import figures, queries, svg
from operations.models import VintageSnapshot
from risk.models import CreditDecision, ModelVersion, ScoreDistribution
from tests.factories import CashLoanProductFactory, UserFactory, set_business_date
from tests.test_headers import inline_code_in

D = Decimal
SVG = "{http://www.w3.org/2000/svg}"


def parsed(markup):
    """The chart as XML: it must be well-formed to be drawn at all."""
    return ET.fromstring(markup)


def of_class(root, tag, name):
    return [e for e in root.iter(f"{SVG}{tag}") if e.get("class") == name]


# The SVG charts ------------------------------------------------------------------------------

def test_a_grouped_bar_chart_draws_a_bar_per_value_and_escapes_its_text():
    markup = svg.bar_chart(
        key="k<1>", title="Loans & <b>bold</b>", description='He said "no"',
        categories=["Jan", "Feb", "Mar"],
        series=[svg.Series("<script>alert(1)</script>", [1, 2, 3]),
                svg.Series("B", [4, None, 6])],
        x_label="Month", y_label="Count")
    root = parsed(markup)
    # Three values of the first series and two of the second (None draws nothing).
    assert len(of_class(root, "rect", "bar")) == 5
    assert "<script>" not in markup and "&lt;script&gt;alert(1)&lt;/script&gt;" in markup
    assert root.find(f"{SVG}title").text == "Loans & <b>bold</b>"
    assert root.find(f"{SVG}desc").text == 'He said "no"'
    assert root.get("aria-labelledby") == "k<1>-title k<1>-desc"
    assert root.get("width") == "100%" and root.get("viewBox").startswith("0 0 480 ")
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "Month" in texts and "Count" in texts  # both axes are labelled


def test_a_stacked_bar_stands_on_the_one_below():
    root = parsed(svg.bar_chart(key="s", title="t", description="d", categories=["P"],
                                series=[svg.Series("a", [2]), svg.Series("b", [3])],
                                x_label="x", y_label="y", stacked=True))
    lower, upper = of_class(root, "rect", "bar")
    # The upper bar's bottom edge is the lower bar's top edge, and 3 is 1.5 times 2.
    assert float(upper.get("y")) + float(upper.get("height")) == pytest.approx(
        float(lower.get("y")), abs=0.11)
    assert float(upper.get("height")) == pytest.approx(1.5 * float(lower.get("height")), abs=0.2)
    assert float(lower.get("x")) == float(upper.get("x"))


def test_a_line_chart_draws_a_point_per_value_and_breaks_at_a_gap():
    root = parsed(svg.line_chart(
        key="l", title="t", description="d", categories=["0", "1", "2", "3"],
        series=[svg.Series("2026-01", [0.0, 0.1, None, 0.3]), svg.Series("2026-02", [0.05])],
        x_label="Months on book", y_label="Share", y_format=svg.percent,
        references=[svg.Reference(0.25, "alert")]))
    assert len(of_class(root, "circle", "point")) == 4
    first_path = root.find(f"{SVG}g[@class='series']/{SVG}path").get("d")
    assert first_path.count("M") == 2 and first_path.count("L") == 1  # the gap lifts the pen
    assert len(of_class(root, "line", "reference")) == 1
    assert [t.text for t in root.iter(f"{SVG}text") if t.text and t.text.endswith("%")][:3] == [
        "0%", "10%", "20%"]


def test_ticks_are_round_and_reach_the_top():
    # 950 in about five steps: 190 a step, rounded up to 200, five steps reach 1,000.
    assert svg.nice_ticks(950) == [0, 200, 400, 600, 800, 1000]
    # 0.27: 0.054 a step, rounded up to 0.1.
    assert svg.nice_ticks(0.27) == pytest.approx([0, 0.1, 0.2, 0.3])
    assert svg.nice_ticks(0) == [0, 1]
    assert svg.percent(0.125) == "12.5%" and svg.percent(0.1) == "10%"
    assert svg.compact(1_250_000) == "1.25M" and svg.compact(32_000) == "32k"


# The vintage snapshot (a close step) --------------------------------------------------------

def borrow(line, day, principal, key):
    set_business_date(day)
    return loan_originate(line_id=line.pk, principal=principal, term_months=12,
                          method="equal_principal", idempotency_key=key, scope="test")


def test_the_close_snapshots_each_vintage_once_per_night(line):
    """January: 1,000 (45 days past due, 800.00 still out), 2,000 (10 days: not 30+) and 3,000
    (written off); February: 4,000 (exactly 30 days: 30+) and 5,000 (current). The night of
    March 31, 2026 counts the 24 vintages from April 2024."""
    borrow(line, date(2024, 3, 31), "500", "old")  # two years before March 2026: not counted
    jan = [borrow(line, date(2026, 1, d), p, f"j{d}") for d, p in ((10, "1000"), (15, "2000"),
                                                                   (20, "3000"))]
    feb = [borrow(line, date(2026, 2, 5), p, f"f{p}") for p in ("4000", "5000")]
    Loan.objects.filter(pk=jan[0].pk).update(days_past_due=45, overdue_since=date(2026, 2, 14),
                                             outstanding_principal=D("800.00"))
    Loan.objects.filter(pk=jan[1].pk).update(days_past_due=10, overdue_since=date(2026, 3, 21))
    Loan.objects.filter(pk=jan[2].pk).update(status=LoanStatus.WRITTEN_OFF,
                                             written_off_on=date(2026, 3, 30))
    Loan.objects.filter(pk=feb[0].pk).update(days_past_due=30, overdue_since=date(2026, 3, 1))
    step = close_step_named("snapshot_vintages")
    assert step.order == 690 and step in close_steps()

    assert step.run(date(2026, 3, 31), None, None) == 2
    assert step.run(date(2026, 3, 31), None, None) == 0  # a rerun keeps the first

    rows = {(s.vintage, s.loans, s.principal, s.loans_30_plus, s.principal_30_plus)
            for s in VintageSnapshot.objects.filter(business_date=date(2026, 3, 31))}
    # January: 3 loans, 1,000 + 2,000 + 3,000 = 6,000 lent; 30+: the 45-day one (800.00 out)
    # and the written-off one (3,000.00 out) = 3,800.00. February: 4,000 + 5,000 = 9,000 lent;
    # 30+: the 30-day one, 4,000.00.
    assert rows == {(date(2026, 1, 1), 3, D("6000.00"), 2, D("3800.00")),
                    (date(2026, 2, 1), 2, D("9000.00"), 1, D("4000.00"))}


# The queries, on hand-built snapshots and decisions ---------------------------------------

@pytest.fixture
def product(db):
    return CashLoanProductFactory()


@pytest.fixture
def other_product(db):
    return CashLoanProductFactory(code="cash-b", name="Cash loan B")


def vintage(product, day, month, loans, late, principal="1000.00", principal_late="0.00"):
    VintageSnapshot.objects.create(business_date=day, product=product, vintage=month,
                                   loans=loans, loans_30_plus=late, principal=D(principal),
                                   principal_30_plus=D(principal_late))


def test_vintage_curves_read_each_months_last_night_summed_over_products(product,
                                                                         other_product):
    jan = date(2026, 1, 1)
    vintage(product, date(2026, 1, 31), jan, 10, 0)
    vintage(product, date(2026, 2, 14), jan, 10, 9)  # not February's last night: unread
    vintage(product, date(2026, 2, 28), jan, 10, 2)
    vintage(other_product, date(2026, 2, 28), jan, 30, 2, "3000.00", "600.00")
    vintage(product, date(2026, 3, 10), jan, 10, 3)  # the latest night of the month under way
    vintage(product, date(2025, 2, 28), date(2025, 2, 1), 5, 1)  # a vintage older than a year

    points = queries.vintage_curves(today=date(2026, 3, 11))

    assert [(p.vintage, p.months_on_book, p.loans, p.loans_30_plus) for p in points] == [
        (jan, 0, 10, 0), (jan, 1, 40, 4), (jan, 2, 10, 3)]
    # Month on book 1: (2 + 2) of (10 + 30) loans = 10 %; of principal, 600 of 4,000 = 15 %.
    assert points[1].share == D("0.1") and points[1].principal_share == D("0.15")
    assert points[2].share == D("0.3")  # 3 of 10


def buckets(product, day, **principal):
    for bucket, amount in principal.items():
        BucketSnapshot.objects.create(business_date=day, product=product,
                                      bucket="current" if bucket == "current" else bucket,
                                      loans=1, outstanding_principal=D(amount))


def test_roll_rates_divide_a_bucket_by_the_one_before_a_month_earlier(product, other_product):
    buckets(product, date(2026, 1, 31), current="100000", M1="10000", M2="5000", M3="4000",
            M4="1000")
    buckets(other_product, date(2026, 1, 31), current="100000")
    buckets(product, date(2026, 2, 14), M1="99999")  # mid-month: not a month end
    buckets(product, date(2026, 2, 28), current="95000", M1="3000", M2="2500", M3="2000",
            M4="3000")
    buckets(other_product, date(2026, 2, 28), M1="1000")
    buckets(product, date(2026, 4, 30), M1="500")  # no March month end: nothing to roll from

    rates = queries.roll_rates(today=date(2026, 5, 2))

    # current to M1: (3,000 + 1,000) / (100,000 + 100,000) = 2 %; M1 to M2: 2,500 / 10,000 =
    # 25 %; M2 to M3: 2,000 / 5,000 = 40 %; M3 to M4: 3,000 / 4,000 = 75 %.
    assert [(r.month, r.source, r.target, r.rate) for r in rates] == [
        (date(2026, 2, 1), "current", "M1", D("0.02")),
        (date(2026, 2, 1), "M1", "M2", D("0.25")),
        (date(2026, 2, 1), "M2", "M3", D("0.4")),
        (date(2026, 2, 1), "M3", "M4", D("0.75"))]


def test_outstanding_reads_the_latest_night_without_written_off_loans(product):
    buckets(product, date(2026, 2, 27), current="1.00")
    buckets(product, date(2026, 2, 28), current="95000", M2="2500", written_off="700")
    day, rows = queries.outstanding_by_product_and_bucket()
    assert day == date(2026, 2, 28)
    assert [(r.product, r.bucket, r.principal) for r in rows] == [
        ("Cash loan", "current", D("95000.00")), ("Cash loan", "M2", D("2500.00"))]


def decide(product, day, outcome, grade=""):
    approved = outcome == "approved"
    return CreditDecision.objects.create(
        customer=UserFactory(), product=product, outcome=outcome, inputs={}, policy_results=[],
        grade=grade, credit_limit=D("10000.00") if approved else None,
        daily_rate=D("0.00050000") if approved else None, business_date=day, elapsed_ms=1.0)


def test_approval_rate_and_grade_mix_by_month(product):
    for grade in ("A", "A", "C"):
        decide(product, date(2026, 1, 5), "approved", grade)
    decide(product, date(2026, 1, 31), "declined")
    decide(product, date(2026, 2, 1), "approved", "B")
    decide(product, date(2026, 2, 19), "declined")
    decide(product, date(2025, 2, 28), "approved", "E")  # thirteen months back: left out

    months = queries.decisions_by_month(today=date(2026, 2, 20))

    assert [(m.month, m.decided, m.approved, m.by_grade) for m in months] == [
        (date(2026, 1, 1), 4, 3, {"A": 2, "C": 1}), (date(2026, 2, 1), 2, 1, {"B": 1})]
    # January: 3 approved of 4 decided = 75 %; February: 1 of 2 = 50 %.
    assert [m.approval_rate for m in months] == [D("0.75"), D("0.5")]
    approvals, grades = figures.decision_figures(date(2026, 2, 20))
    assert approvals.rows == [["2026-01", "4", "3", "75.0%"], ["2026-02", "2", "1", "50.0%"]]
    assert grades.rows[0][1] == "2 (66.7%)"  # two of January's three approvals were A
    root = parsed(str(grades.svg))
    # Five grades stacked in each of two months.
    assert len(of_class(root, "rect", "bar")) == 10


def test_psi_by_night_one_line_per_model(db):
    champion = ModelVersion.objects.create(card="behaviour", version=3, status="champion",
                                           feature_names=[], feature_hash="x", booster=b"")
    challenger = ModelVersion.objects.create(card="behaviour", version=4, status="challenger",
                                             feature_names=[], feature_hash="x", booster=b"")
    for model, role, psis in ((champion, "champion", (0.02, 0.12)),
                              (challenger, "challenger", (0.3, None))):
        for day, psi in zip((date(2026, 3, 1), date(2026, 3, 2)), psis, strict=True):
            ScoreDistribution.objects.create(model_version=model, role=role, business_date=day,
                                             lines=100, bucket_counts=[10] * 10, psi=psi)
    figure = figures.psi_figure(date(2026, 3, 3))
    root = parsed(str(figure.svg))
    assert [g.get("data-series") for g in root.iter(f"{SVG}g") if g.get("class") == "series"] \
        == ["B-card v3 (champion)", "B-card v4 (challenger)"]
    assert len(of_class(root, "circle", "point")) == 3  # the null PSI draws nothing
    assert len(of_class(root, "line", "reference")) == 2  # the warning and the alert


def test_collections_results_one_bar_per_month_and_measure(db):
    """One promise made in February and kept in March, one made in March and broken in March
    (the selector's months: made by the date of making, resolved by the date resolved)."""
    from debt_collection.models import CollectionCase, PromiseToPay

    collector = UserFactory(is_staff=True)
    case = CollectionCase.objects.create(customer=UserFactory(), bucket="M1", days_past_due=5,
                                         amount_overdue=D("900.00"),
                                         opened_on=date(2026, 2, 1), updated_on=date(2026, 3, 20))
    PromiseToPay.objects.create(case=case, amount=D("500.00"), promised_for=date(2026, 3, 5),
                                made_by=collector, made_on=date(2026, 2, 20), status="kept",
                                resolved_on=date(2026, 3, 5), amount_paid=D("500.00"))
    PromiseToPay.objects.create(case=case, amount=D("300.00"), promised_for=date(2026, 3, 10),
                                made_by=collector, made_on=date(2026, 3, 2), status="broken",
                                resolved_on=date(2026, 3, 10), amount_paid=D("0.00"))
    set_business_date(date(2026, 3, 20))

    promises, recovered = figures.collections_figures()

    # Twelve months, three bars each (made, kept, broken; a zero is a bar of no height).
    assert len(of_class(parsed(str(promises.svg)), "rect", "bar")) == 36
    assert promises.rows[-2:] == [["2026-02", "1", "0", "0"], ["2026-03", "1", "1", "1"]]
    assert recovered.rows[-2:] == [["2026-02", "500.00", "0.00"], ["2026-03", "300.00", "0.00"]]


# The admin index ---------------------------------------------------------------------------

def staff(client, *codenames):
    user = UserFactory(is_staff=True)
    for codename in codenames:
        app_label, name = codename.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label,
                                                         codename=name))
    client.force_login(user)
    return client.get("/admin/").content.decode()


@pytest.mark.parametrize(("permissions", "shown"), [
    (("lending.view_loan", "risk.view_creditdecision"), {"risk"}),
    (("lending.view_loan",), set()),
    (("debt_collection.view_collectioncase",), {"collections"}),
    (("risk.view_scoredistribution",), {"models"}),
    (("lending.view_loan", "risk.view_creditdecision", "debt_collection.view_collectioncase",
      "risk.view_scoredistribution"), {"risk", "collections", "models"}),
    ((), set()),
])
def test_the_index_shows_only_the_dashboards_a_user_may_see(client, db, permissions, shown):
    page = staff(client, *permissions)
    assert {key for key in ("risk", "collections", "models")
            if f'data-testid="dashboard-{key}"' in page} == shown


def test_without_data_each_figure_says_so_and_draws_nothing(client, db):
    page = staff(client, "lending.view_loan", "risk.view_creditdecision",
                 "debt_collection.view_collectioncase", "risk.view_scoredistribution")
    assert 'class="chart"' not in page
    assert page.count('class="dashboard-empty"') == 8  # 5 risk, 2 collections, 1 model figure
    assert "No data yet: roll rates need the bucket snapshots" in page


def test_with_data_the_charts_and_their_tables_are_on_the_page(client, product):
    buckets(product, date(2026, 1, 31), current="100000", M1="10000")
    buckets(product, date(2026, 2, 28), current="95000", M1="3000", M2="2500")
    vintage(product, date(2026, 2, 28), date(2026, 1, 1), 10, 2)
    decide(product, date(2026, 2, 10), "approved", "B")
    set_business_date(date(2026, 3, 1))
    page = staff(client, "lending.view_loan", "risk.view_creditdecision")
    for key in ("outstanding", "roll-rates", "vintages", "approval-rate", "grade-mix"):
        assert f'id="chart-{key}-title"' in page, key
    assert page.count("<details>") == 5 and "dashboards.css" in page
    # The charts' colours are attributes: nothing the Content-Security-Policy would block.
    assert inline_code_in(page) == []
    # The collections figures are another dashboard's: a risk user does not see them.
    assert "Promises to pay by month" not in page
