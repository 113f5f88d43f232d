"""What the scorecards are trained on, read from the platform's own records.

Labels come from the instalments: an instalment reached N days past due on the day
`due_date + N` if it was still unpaid then (`paid_on` empty, or on or after that day: the day a
payment arrives still counts as past due, as the loan's days-past-due showed that morning).
Simulated customers' hidden truth is read only for the ceiling (`true_probability`), and the
simulated history's last day (`history_end`) to know where a simulated customer's behaviour
stops: after it they pay nothing, and that abandonment is no one's default."""

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
from django.db.models import F, Max, Min, Q

from core.calendar import business_date_today
from lending.models import CreditLine, Instalment, Loan, Repayment
from lending.rules.schedule import add_months_anchored

from .bcard_truth import DEFAULT_DPD, LoanHistory, bad_probability
from .features.application import APPLICATION_FEATURE_NAMES, application_columns, application_matrix
from .features.behaviour import BEHAVIOUR_FEATURE_NAMES, behaviour_columns, behaviour_matrix
from .models import SimulatedCustomer

BAD_DAYS_PAST_DUE = 90


@dataclass
class TrainingSet:
    X: np.ndarray  # float32, one row per customer
    y: np.ndarray  # int8: 1 = bad
    user_ids: np.ndarray
    feature_names: tuple
    true_probability: np.ndarray | None  # the simulator's truth, when every row has one
    summary: dict = field(default_factory=dict)
    as_of: np.ndarray | None = None  # each row's snapshot day (the B-card's stacked rows)


def bad_days(customer_ids, days_past_due: int = BAD_DAYS_PAST_DUE) -> dict:
    """Customer id -> the days on which one of their instalments reached `days_past_due`
    (sorted), as far as the business date; customers who never did are absent."""
    today = business_date_today()
    reached = {}
    rows = (Instalment.objects
            .filter(loan__line__customer_id__in=list(customer_ids),
                    due_date__lte=today - timedelta(days=days_past_due))
            .filter(Q(paid_on__isnull=True) | Q(paid_on__gt=F("due_date")))
            .values_list("loan__line__customer_id", "due_date", "paid_on"))
    for customer_id, due_date, paid_on in rows:
        day = due_date + timedelta(days=days_past_due)
        if paid_on is None or paid_on >= day:
            reached.setdefault(customer_id, []).append(day)
    return {customer_id: sorted(days) for customer_id, days in reached.items()}


def _went_bad_within(days: list, after: date, until: date) -> bool:
    return any(after < day <= until for day in days)


def _truth(user_ids) -> np.ndarray | None:
    truths = dict(SimulatedCustomer.objects.filter(user_id__in=list(user_ids))
                  .values_list("user_id", "true_probability"))
    if len(user_ids) == 0 or len(truths) < len(user_ids):
        return None
    return np.array([truths[u] for u in user_ids], dtype=np.float64)


def _summary(user_ids, y, first: date | None, last: date | None, **extra) -> dict:
    return {"rows": int(len(y)), "bads": int(y.sum()),
            "bad_rate": float(y.mean()) if len(y) else 0.0,
            "first_day": first.isoformat() if first else None,
            "last_day": last.isoformat() if last else None, **extra}


def application_training_set(window_months: int = 12) -> TrainingSet:
    """One row per customer with a credit line and a profile, as of their application day
    (the day their first line opened).

    y = 1 (bad) when an instalment of any of their loans reached 90 days past due on a day
    within `window_months` months after the application day (after it, up to and including
    application day + window). Customers whose window has not ended by the business date are
    left out unless they are already bad: a good outcome is only known once the window is over.
    Features are the profile and signals as they are now (the platform keeps no history of
    them; for simulated customers they never change)."""
    today = business_date_today()
    applied = dict(CreditLine.objects.filter(customer__profile__isnull=False)
                   .values("customer_id").annotate(first=Min("opened_on"))
                   .values_list("customer_id", "first"))
    customers = sorted(applied)
    bad = bad_days(customers)
    rows, labels, days = [], [], []
    for customer_id in customers:
        start = applied[customer_id]
        window_end = add_months_anchored(start, window_months)
        is_bad = _went_bad_within(bad.get(customer_id, []), start, window_end)
        if is_bad or window_end <= today:
            rows.append(customer_id)
            labels.append(int(is_bad))
            days.append(start)
    user_ids = np.array(rows, dtype=np.int64)
    y = np.array(labels, dtype=np.int8)
    as_of = np.array(days, dtype="datetime64[D]")
    X = (application_matrix(application_columns(rows), as_of) if rows
         else np.zeros((0, len(APPLICATION_FEATURE_NAMES)), dtype=np.float32))
    return TrainingSet(X=X, y=y, user_ids=user_ids, feature_names=APPLICATION_FEATURE_NAMES,
                       true_probability=_truth(rows),
                       summary=_summary(rows, y, min(days, default=None),
                                        max(days, default=None), card="application",
                                        window_months=window_months,
                                        bad_days_past_due=BAD_DAYS_PAST_DUE,
                                        as_of=today.isoformat()))


# The B-card's outcome: 60+ days past due within six months of the snapshot.
BEHAVIOUR_BAD_DAYS_PAST_DUE = 60
BEHAVIOUR_HORIZON_MONTHS = 6
# Stacked snapshots start at the end of the book's third month (its first line's month is the
# first): a customer has then had a couple of instalments fall due.
FIRST_SNAPSHOT_MONTH = 3


def behaviour_outcome_definition(horizon_months: int = BEHAVIOUR_HORIZON_MONTHS,
                                 bad_days_past_due: int = BEHAVIOUR_BAD_DAYS_PAST_DUE) -> str:
    """The B-card's outcome in words, as the model card (the registry's training summary and
    the report) states it."""
    return (f"One row per customer per snapshot (a customer with a line opened by the snapshot). "
            f"Features: behaviour as of the close of the snapshot day; nothing recorded later. "
            f"Bad (1): an instalment of any of the customer's loans reaches "
            f"{bad_days_past_due} days past due on a day after the snapshot, up to and including "
            f"the snapshot + {horizon_months} months (an instalment still unpaid on due date + "
            f"{bad_days_past_due} days, or paid that very day, has reached it; "
            f"{bad_days_past_due - 1} days has not). Good (0): none does. Left out: customers "
            f"already in default at the snapshot (an instalment {bad_days_past_due}+ days past "
            f"due on or before it), and rows whose whole window has not been seen (ended by the "
            f"business date and, for a simulated customer, by the end of the simulated "
            f"history; bads and goods alike, so the bad rate is not inflated).")


def behaviour_snapshots(horizon_months: int = BEHAVIOUR_HORIZON_MONTHS,
                        seen_until: date | None = None) -> list[date]:
    """Month-ends from the end of the book's third month (the month its first line opened is
    the first) to the last month-end whose window (snapshot + `horizon_months`) has ended by
    `seen_until` (default the business date). Empty when there is none."""
    first = CreditLine.objects.aggregate(first=Min("opened_on"))["first"]
    if first is None:
        return []
    last = add_months_anchored(seen_until or business_date_today(), -horizon_months)
    days, k = [], FIRST_SNAPSHOT_MONTH - 1
    while (day := _month_end(first, k)) <= last:
        days.append(day)
        k += 1
    return days


def _month_end(day: date, months_later: int) -> date:
    first_of_next = add_months_anchored(day.replace(day=1), months_later + 1)
    return first_of_next - timedelta(days=1)


def _history_ends(customer_ids) -> dict:
    """Simulated customer id -> the simulated history's last day: after it a simulated
    customer pays nothing, so their loans' later arrears are abandonment, not default. A
    population simulated before `history_end` was kept gets a lower bound from its own rows:
    the later of a defaulter's stop instalment + 90 days and the day after its last repayment
    (the simulator ran at least that long)."""
    simulated = list(SimulatedCustomer.objects.filter(user_id__in=list(customer_ids))
                     .values_list("user_id", "seed", "history_end"))
    inferred = {seed: _history_end_lower_bound(seed) for _, seed, end in simulated
                if end is None}
    return {customer_id: end if end is not None else inferred[seed]
            for customer_id, seed, end in simulated}


def _history_end_lower_bound(seed: int) -> date:
    stops = (Instalment.objects.filter(loan__line__customer__simulated__seed=seed,
                                       loan__line__customer__simulated__default_month=F("seq"))
             .aggregate(last=Max("due_date"))["last"])
    paid = (Repayment.objects.filter(loan__line__customer__simulated__seed=seed)
            .aggregate(last=Max("paid_on"))["last"])
    days = [d + timedelta(days=DEFAULT_DPD) for d in [stops] if d is not None]
    days += [d + timedelta(days=1) for d in [paid] if d is not None]
    return max(days, default=business_date_today())


def behaviour_training_set(snapshots=None, horizon_months: int = BEHAVIOUR_HORIZON_MONTHS,
                           bad_days_past_due: int = BEHAVIOUR_BAD_DAYS_PAST_DUE) -> TrainingSet:
    """The B-card's rows: one per customer and snapshot (`behaviour_outcome_definition`), the
    snapshots stacked (default `behaviour_snapshots`, else the day or days given). A row is a
    customer, not a line: the features add up all of a customer's lines and loans, the score
    is the customer's and every line of theirs is reviewed with it (a simulated customer has
    one line and one loan, so there it is the same).

    `user_ids` repeat across snapshots (they are the groups a split must keep together) and
    `as_of` gives each row's snapshot. `true_probability` is the ceiling's: for a simulated
    customer the Bayes-optimal probability of the row's outcome given the hidden truth and
    the history by the snapshot (`risk.bcard_truth.bad_probability`), NaN for other rows; None
    when no row has one."""
    today = business_date_today()
    opened = dict(CreditLine.objects.values("customer_id").annotate(first=Min("opened_on"))
                  .values_list("customer_id", "first"))
    customers = sorted(opened)
    history_ends = _history_ends(customers)
    # The last day whose record is the customer's own behaviour.
    until = {c: min(today, history_ends.get(c, today)) for c in customers}
    if isinstance(snapshots, date):
        snapshots = [snapshots]
    if snapshots is None:
        snapshots = behaviour_snapshots(horizon_months, max(until.values(), default=today))
    snapshots = sorted(set(snapshots))
    for snapshot in snapshots:
        if snapshot > today:
            raise ValueError(f"The snapshot {snapshot} is after the business date {today}.")
        if add_months_anchored(snapshot, horizon_months) > today:
            raise ValueError(f"The snapshot {snapshot}'s {horizon_months}-month window ends on "
                             f"{add_months_anchored(snapshot, horizon_months)}, after the "
                             f"business date {today}: its goods are not known yet.")
    bad = bad_days(customers, bad_days_past_due)
    blocks, per_snapshot = [], []
    left_in_default = left_unseen = 0
    for snapshot in snapshots:
        window_end = add_months_anchored(snapshot, horizon_months)
        rows, labels = [], []
        for customer_id in customers:
            if opened[customer_id] > snapshot:
                continue
            days = bad.get(customer_id, [])
            if days and days[0] <= snapshot:
                left_in_default += 1
            elif window_end > until[customer_id]:
                left_unseen += 1
            else:
                rows.append(customer_id)
                labels.append(int(_went_bad_within(days, snapshot, window_end)))
        X = (behaviour_matrix(behaviour_columns(rows, snapshot), snapshot) if rows
             else np.zeros((0, len(BEHAVIOUR_FEATURE_NAMES)), dtype=np.float32))
        blocks.append((snapshot, window_end, rows, np.array(labels, dtype=np.int8), X))
        per_snapshot.append({"snapshot": snapshot.isoformat(), "rows": len(rows),
                             "bads": int(sum(labels))})
    user_ids = np.concatenate([np.array(b[2], dtype=np.int64) for b in blocks]
                              or [np.zeros(0, dtype=np.int64)])
    y = np.concatenate([b[3] for b in blocks] or [np.zeros(0, dtype=np.int8)])
    X = (np.vstack([b[4] for b in blocks]) if blocks
         else np.zeros((0, len(BEHAVIOUR_FEATURE_NAMES)), dtype=np.float32))
    as_of = np.concatenate([np.full(len(b[2]), np.datetime64(b[0], "D")) for b in blocks]
                           or [np.zeros(0, dtype="datetime64[D]")])
    ceiling = _behaviour_ceiling(blocks, history_ends, bad_days_past_due)
    return TrainingSet(
        X=X, y=y, user_ids=user_ids, feature_names=BEHAVIOUR_FEATURE_NAMES,
        true_probability=ceiling, as_of=as_of,
        summary=_summary(user_ids, y, min(snapshots, default=None),
                         max(snapshots, default=None), card="behaviour", row="customer",
                         customers=int(len(np.unique(user_ids))),
                         snapshots=per_snapshot, horizon_months=horizon_months,
                         bad_days_past_due=bad_days_past_due,
                         outcome=behaviour_outcome_definition(horizon_months,
                                                              bad_days_past_due),
                         left_out_in_default=left_in_default,
                         left_out_window_not_seen=left_unseen,
                         ceiling_rows=int(0 if ceiling is None
                                          else np.count_nonzero(~np.isnan(ceiling))),
                         as_of=today.isoformat()))


def _behaviour_ceiling(blocks, history_ends: dict, bad_days_past_due: int) -> np.ndarray | None:
    """Each row's Bayes-optimal probability for a simulated customer with the simulator's one
    loan (NaN otherwise); None when there is no such row."""
    customers = sorted({c for block in blocks for c in block[2]})
    truths = dict(SimulatedCustomer.objects.filter(user_id__in=customers)
                  .values_list("user_id", "true_probability"))
    if not truths:
        return None
    loans = {}
    for loan_id, customer_id, paid_off_on in (
            Loan.objects.filter(line__customer_id__in=list(truths))
            .values_list("pk", "line__customer_id", "paid_off_on")):
        loans.setdefault(customer_id, []).append((loan_id, paid_off_on))
    one_loan = {customer_id: found[0] for customer_id, found in loans.items()
                if len(found) == 1}
    schedules = {}
    for loan_id, due_date, paid_on in (
            Instalment.objects.filter(loan_id__in=[loan for loan, _ in one_loan.values()])
            .order_by("loan_id", "seq").values_list("loan_id", "due_date", "paid_on")):
        schedules.setdefault(loan_id, []).append((due_date, paid_on))
    histories = {}
    for customer_id, (loan_id, paid_off_on) in one_loan.items():
        schedule = schedules.get(loan_id, [])
        histories[customer_id] = LoanHistory(due_dates=tuple(d for d, _ in schedule),
                                             paid_on=tuple(p for _, p in schedule),
                                             paid_off_on=paid_off_on)
    values = []
    for snapshot, window_end, rows, _y, _X in blocks:
        for customer_id in rows:
            if customer_id not in histories:
                values.append(np.nan)
                continue
            values.append(bad_probability(truths[customer_id], histories[customer_id],
                                          snapshot=snapshot, window_end=window_end,
                                          history_end=history_ends[customer_id],
                                          bad_dpd=bad_days_past_due))
    return np.array(values, dtype=np.float64)
