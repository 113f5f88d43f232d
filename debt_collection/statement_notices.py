"""Payment reminders (催收提醒) for pay-later statements: the twin of debt_collection/notices.py
for the close step `send_statement_reminders` (debt_collection/close/notices.py), written
through the same notice machinery (accounts.services.notices) and in the same words' style.

The points are the pay-later product's `notice_days`, read for a line's open statement. The
close of business date D speaks of the next business date N = D+1:

* point p <= 0: the statement falls due on N - p (p = -3: three days after N; p = 0: on N) and
  less than its minimum has been paid on it;
* point p > 0: the line is p days past the due date days past due count from. Once past due,
  that is the statement's `overdue_since` (as `set_statements_past_due` set it for N, carried
  from statement to statement until the minimum left unpaid is paid); within the grace days, a
  statement with less than its minimum paid whose own due date was N - p (with 3 grace days,
  DPD 1 falls within them and would otherwise never be told).

One notice per (line, point, due date), keyed "dunning:line:{line}:{point}:{due date}", unique
per customer in the database: the same minimum carried onto the next statement keeps its due
date, so a rerun, a redelivered chunk or a statement cut in between never writes a second.
Each names the amount owed on the statement (its balance as of N, penalty included), the
minimum still to pay and the due date, in the customer's language."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.languages import by_language
from accounts.models import NoticeKind
from accounts.services.notices import NoticeDraft, notices_create_many
from lending.models import CreditProduct, ProductKind, Statement, StatementStatus

from .notices import _day_text, money_text

ZERO = Decimal("0.00")
PAID = (
    F("penalty_paid") + F("interest_paid") + F("fees_paid") + F("parts_paid") + F("purchases_paid")
)
# What a reminder reads of a statement, after the date it speaks of.
FIELDS = (
    "line_id",
    "line__customer_id",
    "minimum_due",
    "paid",
    "penalty_due",
    "interest_due",
    "fees_due",
    "parts_due",
    "purchases_due",
)


@dataclass(frozen=True)
class StatementReminder:
    """One reminder due tonight: the line, its customer, the point, the due date spoken of,
    and the statement's balance and minimum still to pay."""

    line_id: int
    customer_id: int
    point: int
    due_date: date
    owed: Decimal
    minimum: Decimal


def _points_by_product() -> dict[int, list[int]]:
    return {
        pk: sorted(set(days or []))
        for pk, days in CreditProduct.objects.filter(kind=ProductKind.PAY_LATER).values_list(
            "pk", "notice_days"
        )
    }


def _minimum_unpaid() -> Q:
    return Q(minimum_due__gt=PAID)


def statement_reminder_candidate_ids(*, day) -> list[int]:
    """The open statements that may be due a reminder tonight, ascending, found by the partial
    indexes of open statements by due date (`statement_open_by_due`) and of past-due ones
    (`statement_delinquent`)."""
    next_day = day + timedelta(days=1)
    points = set().union(*_points_by_product().values())
    if not points:
        return []
    due_dates = [next_day - timedelta(days=p) for p in points]
    since = [next_day - timedelta(days=p) for p in points if p > 0]
    return sorted(
        set(
            Statement.objects.filter(
                Q(due_date__in=due_dates) | Q(overdue_since__in=since), status=StatementStatus.OPEN
            ).values_list("pk", flat=True)
        )
    )


def statement_reminders_due(*, day, first_id=None, last_id=None) -> list[StatementReminder]:
    """The reminders due in the close of `day` for the open statements with ids from
    `first_id` to `last_id`: one query per product and kind of point, none per statement."""
    next_day = day + timedelta(days=1)
    bounds = Q(status=StatementStatus.OPEN)
    if first_id is not None:
        bounds &= Q(pk__gte=first_id)
    if last_id is not None:
        bounds &= Q(pk__lte=last_id)
    reminders = []
    for product_id, points in _points_by_product().items():
        statements = (
            Statement.objects.filter(bounds, line__product_id=product_id)
            .annotate(paid=PAID)
            .order_by()
        )
        ahead = {next_day - timedelta(days=p): p for p in points if p <= 0}
        past = {next_day - timedelta(days=p): p for p in points if p > 0}
        if ahead:
            reminders += [
                _reminder(ahead[due], due, *row)
                for due, *row in statements.filter(
                    _minimum_unpaid(), due_date__in=list(ahead)
                ).values_list("due_date", *FIELDS)
            ]
        if past:
            # The date days past due count from: `overdue_since` once past due, else the due
            # date of a statement within its grace days.
            reminders += [
                _reminder(past[since], since, *row)
                for since, *row in (
                    statements.filter(
                        Q(overdue_since__in=list(past))
                        | Q(_minimum_unpaid(), overdue_since__isnull=True, due_date__in=list(past))
                    )
                    .annotate(since=Coalesce("overdue_since", "due_date"))
                    .values_list("since", *FIELDS)
                )
            ]
    return sorted(reminders, key=lambda r: (r.line_id, r.point))


def _reminder(point, due, line_id, customer_id, minimum_due, paid, *due_amounts):
    owed = sum(due_amounts, ZERO) - paid
    return StatementReminder(
        line_id=line_id,
        customer_id=customer_id,
        point=point,
        due_date=due,
        owed=owed,
        minimum=max(min(minimum_due - paid, owed), ZERO),
    )


def statement_reminders_send(*, day, first_id=None, last_id=None) -> int:
    """Write tonight's reminders for the open statements with ids from `first_id` to `last_id`
    as customer notices (skipping any written before) and queue their e-mail for after commit;
    returns how many notices were written."""
    reminders = statement_reminders_due(day=day, first_id=first_id, last_id=last_id)
    next_day = day + timedelta(days=1)
    drafts = []
    # Each customer's reminder in their language: one override per language, not per notice.
    for language, group in by_language(reminders, customer_id=lambda r: r.customer_id).items():
        with translation.override(language):
            for r in group:
                subject, body = statement_reminder_text(r)
                drafts.append(
                    NoticeDraft(
                        customer_id=r.customer_id,
                        kind=NoticeKind.DUNNING,
                        key=f"dunning:line:{r.line_id}:{r.point}:{r.due_date.isoformat()}",
                        subject=subject,
                        body=body,
                        business_date=next_day,
                    )
                )
    return len(notices_create_many(drafts))


def statement_reminder_text(reminder) -> tuple[str, str]:
    """The reminder's subject and body in plain words (the amount owed, the minimum, the due
    date), in the active language."""
    figures = {
        "amount": money_text(reminder.owed),
        "minimum": money_text(reminder.minimum),
        "due": _day_text(reminder.due_date),
        "days": abs(reminder.point),
    }
    if reminder.point < 0:
        subject = _("Pay-later statement due on %(due)s") % figures
        body = (
            ngettext(
                "Your pay-later statement of %(amount)s is due on %(due)s, in %(days)d day. Pay at "
                "least the minimum of %(minimum)s by then to keep your line open; paying it all "
                "costs no interest.",
                "Your pay-later statement of %(amount)s is due on %(due)s, in %(days)d days. Pay "
                "at least the minimum of %(minimum)s by then to keep your line open; paying it all "
                "costs no interest.",
                figures["days"],
            )
            % figures
        )
    elif reminder.point == 0:
        subject = _("Pay-later statement due today, %(due)s") % figures
        body = (
            _(
                "Your pay-later statement of %(amount)s is due today, %(due)s. Please pay at "
                "least the minimum of %(minimum)s today to avoid it becoming overdue; paying "
                "it all costs no interest."
            )
            % figures
        )
    else:
        subject = _("Pay-later payment overdue since %(due)s") % figures
        body = (
            ngettext(
                "Your pay-later payment was due on %(due)s and is now %(days)d day late. You owe "
                "%(amount)s; please pay at least %(minimum)s as soon as you can: once the grace "
                "days are over, penalty interest is charged for every day past the due date, and "
                "you cannot borrow or buy on credit while a payment is overdue.",
                "Your pay-later payment was due on %(due)s and is now %(days)d days late. You owe "
                "%(amount)s; please pay at least %(minimum)s as soon as you can: once the grace "
                "days are over, penalty interest is charged for every day past the due date, and "
                "you cannot borrow or buy on credit while a payment is overdue.",
                figures["days"],
            )
            % figures
        )
    return subject, body
