"""Each dashboard as the admin index shows it: every figure's query turned into a chart (svg.py)
and the same figures as a table, with a sentence saying what the chart measures. When a figure
has no data yet (a new book, a close that has not run) it says so instead of drawing.

A chart's markup is marked safe for the template because svg.py escapes every text it draws."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.utils.safestring import SafeString, mark_safe

from debt_collection.selectors import collection_results
from risk.models import Grade

from . import queries, svg

BUCKET_COLOURS = {"current": "#0072B2", "M1": "#E69F00", "M2": "#D55E00", "M3": "#CC79A7",
                  "M4": "#7F7F7F"}
GRADE_COLOURS = {"A": "#009E73", "B": "#56B4E9", "C": "#E69F00", "D": "#D55E00", "E": "#CC79A7"}
NO_CLOSE_YET = "No data yet: the nightly close writes these figures, and it has not run."


@dataclass
class Figure:
    key: str
    title: str
    definition: str
    svg: SafeString | str = ""
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    empty: str = NO_CLOSE_YET


@dataclass
class Dashboard:
    key: str
    title: str
    figures: list[Figure]


def money(value) -> str:
    return f"{Decimal(value):,.2f}"


def share(value: Decimal | None) -> str:
    return "-" if value is None else f"{Decimal(value) * 100:.1f}%"


def month_label(month: date) -> str:
    return f"{month:%Y-%m}"


# The book ---------------------------------------------------------------------------------------

def outstanding_figure() -> Figure:
    day, rows = queries.outstanding_by_product_and_bucket()
    figure = Figure(
        "outstanding", "Outstanding principal by product and bucket",
        f"Active loans' outstanding principal at the close of {day or 'the latest night'}, "
        "stacked by delinquency bucket (current, then M1 1-30, M2 31-60, M3 61-90, M4 91-180 "
        "days past due).")
    if not rows:
        return figure
    products = list(dict.fromkeys(row.product for row in rows))
    cell = {(row.product, row.bucket): row for row in rows}
    series = [svg.Series(bucket.label.split(" ")[0], [
        float(cell[(p, bucket)].principal) if (p, bucket) in cell else 0 for p in products],
        BUCKET_COLOURS[bucket]) for bucket in queries.BUCKETS]
    figure.svg = mark_safe(svg.bar_chart(
        key="chart-outstanding", title=figure.title, description=figure.definition,
        categories=products, series=series, x_label="Product",
        y_label="Outstanding principal", y_format=svg.compact, stacked=True))
    figure.headers = ["Product", "Bucket", "Loans", "Outstanding principal"]
    figure.rows = [[row.product, row.bucket, f"{row.loans:,}", money(row.principal)]
                   for row in rows]
    return figure


def roll_rates_figure(today: date) -> Figure:
    rates = queries.roll_rates(today=today)
    figure = Figure(
        "roll-rates", "Roll rates between buckets, month on month",
        "Balance-based: the principal in a bucket at a month end divided by the principal in "
        "the bucket before it at the month end before (current to M1, M1 to M2, M2 to M3, M3 "
        "to M4), from the bucket snapshots of each month's last day. M4 spans three months "
        "(91-180 days), so it holds more than one month's arrivals and M3 to M4 can pass 100%.",
        empty="No data yet: roll rates need the bucket snapshots of two consecutive month ends.")
    if not rates:
        return figure
    months = sorted({rate.month for rate in rates})
    cell = {(rate.month, rate.source): rate.rate for rate in rates}
    series = [svg.Series(f"{source} to {target}", [
        None if cell.get((m, source)) is None else float(cell[(m, source)]) for m in months])
        for source, target in queries.ROLLS]
    figure.svg = mark_safe(svg.line_chart(
        key="chart-roll-rates", title=figure.title, description=figure.definition,
        categories=[month_label(m) for m in months], series=series, x_label="Month end",
        y_label="Roll rate", y_format=svg.percent))
    figure.headers = ["Month end", *[s.name for s in series]]
    figure.rows = [[month_label(m), *[share(cell.get((m, source)))
                                      for source, _target in queries.ROLLS]] for m in months]
    return figure


def vintage_figure(today: date) -> Figure:
    points = queries.vintage_curves(today=today)
    figure = Figure(
        "vintages", "Vintage curves: share 30+ days past due",
        "For each month's disbursements (one line per vintage), the share of its loans 30 or "
        "more days past due or written off, by months on book (0 is the month of "
        "disbursement), at each month end since.")
    if not points:
        return figure
    vintages = sorted({p.vintage for p in points})
    months_on_book = list(range(max(p.months_on_book for p in points) + 1))
    cell = {(p.vintage, p.months_on_book): p for p in points}
    series = [svg.Series(month_label(v), [
        float(cell[(v, m)].share) if (v, m) in cell else None for m in months_on_book])
        for v in vintages]
    figure.svg = mark_safe(svg.line_chart(
        key="chart-vintages", title=figure.title, description=figure.definition,
        categories=[str(m) for m in months_on_book], series=series, x_label="Months on book",
        y_label="Loans 30+ days past due", y_format=svg.percent))
    figure.headers = ["Vintage", "Months on book", "Loans", "30+ or written off", "Share",
                      "Share of principal"]
    figure.rows = [[month_label(p.vintage), str(p.months_on_book), f"{p.loans:,}",
                    f"{p.loans_30_plus:,}", share(p.share), share(p.principal_share)]
                   for p in points]
    return figure


def decision_figures(today: date) -> list[Figure]:
    months = queries.decisions_by_month(today=today)
    approvals = Figure(
        "approval-rate", "Approval rate by month",
        "Credit decisions approved as a share of all decisions made in the month (by business "
        "date), over the last twelve months.",
        empty="No data yet: no credit decision in the last twelve months.")
    grades = Figure(
        "grade-mix", "Grade mix of approvals by month",
        "The approved decisions of each month by risk grade (A is the lowest probability of "
        "default), as shares of the month's approvals.",
        empty=approvals.empty)
    if not months:
        return [approvals, grades]
    labels = [month_label(m.month) for m in months]
    approvals.svg = mark_safe(svg.line_chart(
        key="chart-approval-rate", title=approvals.title, description=approvals.definition,
        categories=labels, series=[svg.Series("Approval rate",
                                              [float(m.approval_rate) for m in months])],
        x_label="Month", y_label="Approved", y_format=svg.percent))
    approvals.headers = ["Month", "Decisions", "Approved", "Approval rate"]
    approvals.rows = [[label, f"{m.decided:,}", f"{m.approved:,}", share(m.approval_rate)]
                      for label, m in zip(labels, months, strict=True)]
    grade_names = [g.value for g in Grade]
    mix = [{g: (Decimal(m.by_grade.get(g, 0)) / m.approved if m.approved else Decimal(0))
            for g in grade_names} for m in months]
    grades.svg = mark_safe(svg.bar_chart(
        key="chart-grade-mix", title=grades.title, description=grades.definition,
        categories=labels, series=[svg.Series(f"Grade {g}", [float(shares[g]) for shares in mix],
                                              GRADE_COLOURS[g]) for g in grade_names],
        x_label="Month", y_label="Share of approvals", y_format=svg.percent, stacked=True))
    grades.headers = ["Month", *[f"Grade {g}" for g in grade_names]]
    grades.rows = [[label, *[f"{m.by_grade.get(g, 0):,} ({share(shares[g])})"
                             for g in grade_names]]
                   for label, m, shares in zip(labels, months, mix, strict=True)]
    return [approvals, grades]


# Collections ---------------------------------------------------------------------------------

def collections_figures() -> list[Figure]:
    months = collection_results(months=12)
    promises = Figure(
        "promises", "Promises to pay by month",
        "Promises to pay taken in the month, and those kept or broken in it (a promise is "
        "resolved the night its date ends: kept if the customer paid the amount by then).",
        empty="No data yet: no promise to pay in the last twelve months.")
    recovered = Figure(
        "recovered", "Amounts promised and recovered by month",
        "The amount promised in the month's promises, and the amount recovered: repayments and "
        "recoveries on a customer's loans while their collection case was open.",
        empty="No data yet: nothing promised or recovered in the last twelve months.")
    labels = [month_label(m["month"]) for m in months]
    if any(m["promises_made"] or m["promises_kept"] or m["promises_broken"] for m in months):
        promises.svg = mark_safe(svg.bar_chart(
            key="chart-promises", title=promises.title, description=promises.definition,
            categories=labels, series=[
                svg.Series("Made", [m["promises_made"] for m in months], "#0072B2"),
                svg.Series("Kept", [m["promises_kept"] for m in months], "#009E73"),
                svg.Series("Broken", [m["promises_broken"] for m in months], "#D55E00")],
            x_label="Month", y_label="Promises"))
        promises.headers = ["Month", "Made", "Kept", "Broken"]
        promises.rows = [[label, f"{m['promises_made']:,}", f"{m['promises_kept']:,}",
                          f"{m['promises_broken']:,}"]
                         for label, m in zip(labels, months, strict=True)]
    if any(m["amount_promised"] or m["amount_recovered"] for m in months):
        recovered.svg = mark_safe(svg.bar_chart(
            key="chart-recovered", title=recovered.title, description=recovered.definition,
            categories=labels, series=[
                svg.Series("Promised", [float(m["amount_promised"]) for m in months], "#E69F00"),
                svg.Series("Recovered", [float(m["amount_recovered"]) for m in months],
                           "#009E73")],
            x_label="Month", y_label="Amount", y_format=svg.compact))
        recovered.headers = ["Month", "Promised", "Recovered"]
        recovered.rows = [[label, money(m["amount_promised"]), money(m["amount_recovered"])]
                          for label, m in zip(labels, months, strict=True)]
    return [promises, recovered]


# The models ------------------------------------------------------------------------------------

def psi_figure(today: date) -> Figure:
    nights = queries.psi_by_night(today=today)
    figure = Figure(
        "psi", "Population stability index by night",
        "How far each watched model's scores tonight have drifted from its training "
        "distribution (PSI over its training deciles): above 0.1 is a warning, above 0.25 an "
        "alert. B-cards over the open lines, the A-card over the day's decisions.",
        empty="No data yet: no model in service has been watched by the close.")
    nights = [n for n in nights if n.psi is not None]
    if not nights:
        return figure
    days = sorted({n.business_date for n in nights})
    models = list(dict.fromkeys(n.model for n in nights))
    cell = {(n.model, n.business_date): n.psi for n in nights}
    figure.svg = mark_safe(svg.line_chart(
        key="chart-psi", title=figure.title, description=figure.definition,
        categories=[f"{d:%m-%d}" for d in days],
        series=[svg.Series(model, [cell.get((model, d)) for d in days]) for model in models],
        x_label="Night", y_label="PSI", y_format=lambda v: f"{v:.2f}",
        references=[svg.Reference(0.1, "warning 0.1"), svg.Reference(0.25, "alert 0.25")]))
    figure.headers = ["Night", "Model", "PSI", "Status", "Scored"]
    figure.rows = [[f"{n.business_date}", n.model, f"{n.psi:.3f}", n.status, f"{n.scored:,}"]
                   for n in reversed(nights)]
    return figure


# The dashboards -------------------------------------------------------------------------------

def risk_dashboard(today: date) -> Dashboard:
    return Dashboard("risk", "Risk: the book and its approvals", [
        outstanding_figure(), roll_rates_figure(today), vintage_figure(today),
        *decision_figures(today)])


def collections_dashboard(today: date, *, with_book: bool) -> Dashboard:
    """Promises and recoveries; `with_book` adds the book by bucket and the roll rates, for
    collections staff who do not see the risk dashboard (where those two are)."""
    book = [outstanding_figure(), roll_rates_figure(today)] if with_book else []
    return Dashboard("collections", "Collections", [*book, *collections_figures()])


def models_dashboard(today: date) -> Dashboard:
    return Dashboard("models", "Model monitoring", [psi_figure(today)])
