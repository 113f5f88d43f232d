"""Payment reminders (催收提醒): which (loan, point, due date) are due a notice tonight, and the
notices themselves, set-based for the close step `send_dunning_notices`
(debt_collection/close/notices.py).

A product's `notice_days` are its points: a negative number is days before a due date, 0 the due
date, a positive number days past due. The close of business date D speaks of the next business
date N = D+1, the customer's "today" once the close is over (as days past due are reckoned; see
lending/services/penalty.py):

* point p <= 0: the loan's instalments not yet due (pending) that fall due on N - p (p = -3:
  due three days after N; p = 0: due on N);
* point p > 0: the loan's oldest unpaid instalment fell due on N - p, so the loan is p days past
  that due date on N. For an instalment already overdue this is the loan's `days_past_due`
  (as `set_days_past_due` set it for N); it also counts the grace days, in which an instalment
  is late but not yet overdue (with 3 grace days, DPD 1 falls within them and would otherwise
  never be told).

Only active loans are reminded. One notice per (loan, point, due date), keyed
"dunning:loan:{loan}:{point}:{due date}", unique per customer in the database, so a rerun or a
redelivered chunk never writes a second. The amount is what is owed by the due date (p <= 0)
or by N (p > 0), lending's rule `amount_due_by` (its set-based twin
`amounts_due_by`), including anything overdue before."""

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils import formats, translation
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from accounts.languages import by_language
from accounts.models import NoticeKind
from accounts.services.notices import NoticeDraft, notices_create_many
from core.money_format import currency_sign
from lending.models import (
    CreditProduct,
    Instalment,
    InstalmentStatus,
    Loan,
    LoanStatus,
    ProductKind,
)
from lending.selectors import amounts_due_by

UNPAID = (InstalmentStatus.PENDING, InstalmentStatus.OVERDUE)


@dataclass(frozen=True)
class Reminder:
    """One reminder due tonight: the loan, its customer, the point and the due date spoken of."""

    loan_id: int
    customer_id: int
    point: int
    due_date: date


def _points_by_product() -> dict[int, list[int]]:
    """The cash-loan products' points: only they have loans. A pay-later product's points are
    its statements' (statement_notices.py); counted here, they cost every chunk two more
    queries over the instalments that can find nothing."""
    return {pk: sorted(set(days or [])) for pk, days in
            CreditProduct.objects.filter(kind=ProductKind.CASH_LOAN)
            .values_list("pk", "notice_days")}


def dunning_candidate_loan_ids(*, day) -> list[int]:
    """The loans that may be due a reminder tonight, ascending, found by partial indexes:
    instalments pending on their due dates (`instalment_pending_by_due`: points before and on
    a due date, and the grace days) and delinquent loans (`loan_delinquent`: the other points
    past due)."""
    next_day = day + timedelta(days=1)
    points = set().union(*_points_by_product().values())
    if not points:
        return []
    pending_dates = [next_day - timedelta(days=p) for p in points]
    loans = set(Instalment.objects.filter(status=InstalmentStatus.PENDING,
                                          due_date__in=pending_dates)
                .values_list("loan_id", flat=True))
    past = [p for p in points if p > 0]
    if past:
        # Days past due on N are N less `overdue_since`, which the index of delinquent loans
        # holds: no need to read the loans themselves.
        loans.update(Loan.objects.filter(
            overdue_since__in=[next_day - timedelta(days=p) for p in past],
            status=LoanStatus.ACTIVE).values_list("pk", flat=True))
    return sorted(loans)


def dunning_reminders_due(*, day, first_id=None, last_id=None) -> list[Reminder]:
    """The reminders due in the close of `day` for the loans with ids from `first_id` to
    `last_id`: a few set-based queries per product, none per loan."""
    next_day = day + timedelta(days=1)
    bounds = Q(loan__status=LoanStatus.ACTIVE)
    if first_id is not None:
        bounds &= Q(loan_id__gte=first_id)
    if last_id is not None:
        bounds &= Q(loan_id__lte=last_id)
    older_unpaid = Instalment.objects.filter(loan_id=OuterRef("loan_id"), status__in=UNPAID,
                                             due_date__lt=OuterRef("due_date"))
    reminders = []
    for product_id, points in _points_by_product().items():
        in_product = bounds & Q(loan__line__product_id=product_id)
        ahead = {next_day - timedelta(days=p): p for p in points if p <= 0}
        past = {next_day - timedelta(days=p): p for p in points if p > 0}
        if ahead:
            reminders += [Reminder(loan, customer, ahead[due], due) for loan, customer, due in
                          Instalment.objects.filter(in_product, status=InstalmentStatus.PENDING,
                                                    due_date__in=list(ahead))
                          .order_by()  # the reminders are sorted below: no sort here
                          .values_list("loan_id", "loan__line__customer_id", "due_date")]
        if past:
            reminders += [Reminder(loan, customer, past[due], due) for loan, customer, due in
                          Instalment.objects.filter(in_product, status__in=UNPAID,
                                                    due_date__in=list(past))
                          .exclude(Exists(older_unpaid)).order_by()
                          .values_list("loan_id", "loan__line__customer_id", "due_date")]
    # Two instalments of a loan falling due on one day make one reminder.
    return sorted(set(reminders), key=lambda r: (r.loan_id, r.point))


def dunning_notices_send(*, day, first_id=None, last_id=None) -> int:
    """Write tonight's reminders for the loans with ids from `first_id` to `last_id` as
    customer notices (skipping any written before) and queue their e-mail for after commit;
    returns how many notices were written."""
    reminders = dunning_reminders_due(day=day, first_id=first_id, last_id=last_id)
    if not reminders:
        return 0
    next_day = day + timedelta(days=1)
    # What each reminder speaks of: owed by its due date (ahead) or by N (past due).
    owed_by = {r: r.due_date if r.point <= 0 else next_day for r in reminders}
    amounts = amounts_due_by({(r.loan_id, d) for r, d in owed_by.items()})
    drafts = []
    # Each customer's reminder in their language: one override per language, not per notice.
    for language, group in by_language(reminders, customer_id=lambda r: r.customer_id).items():
        with translation.override(language):
            for r in group:
                amount = amounts.get((r.loan_id, owed_by[r]))
                if amount is None:
                    continue
                subject, body = dunning_text(r, amount=amount, today=next_day)
                drafts.append(NoticeDraft(
                    customer_id=r.customer_id, kind=NoticeKind.DUNNING,
                    key=f"dunning:loan:{r.loan_id}:{r.point}:{r.due_date.isoformat()}",
                    subject=subject, body=body, business_date=next_day))
    return len(notices_create_many(drafts))


def money_text(amount) -> str:
    """¥1,234.56 (the currency's sign, or its code), in either language: a reminder's amount
    leads with its sign, as a text message's would."""
    sign = currency_sign()
    if sign == settings.CURRENCY:
        sign += " "
    return f"{sign}{amount:,.2f}"


def _day_text(day) -> str:
    return _day_text_in(day, get_language())


@lru_cache(maxsize=512)
def _day_text_in(day, language) -> str:
    # A night's reminders speak of a handful of dates, tens of thousands of times. 28 February;
    # 2月28日 (config/formats).
    return formats.date_format(day, "MONTH_DAY_FORMAT")


def dunning_text(reminder, *, amount, today) -> tuple[str, str]:
    """The reminder's subject and body, in plain words with the amount and the date, in the
    active language."""
    language = get_language()  # read once: it costs more than the rest of the figures
    subject, body = _dunning_wording(reminder.point, language)
    figures = {"amount": money_text(amount), "loan": reminder.loan_id,
               "due": _day_text_in(reminder.due_date, language), "days": abs(reminder.point)}
    return subject % figures, body % figures


@lru_cache(maxsize=128)
def _dunning_wording(point, language) -> tuple[str, str]:
    """The subject and body of a reminder at `point`, in `language` (the active one), still to
    be filled in: a night writes tens of thousands of reminders in a few points and languages,
    and looking the same sentences up in the catalogue for each one cost more than the rest of
    the text."""
    days = abs(point)
    if point < 0:
        return _("Payment due on %(due)s"), ngettext(
            "Your payment of %(amount)s on loan %(loan)s is due on %(due)s, in %(days)d day. "
            "Paying on time keeps your credit open and costs nothing extra.",
            "Your payment of %(amount)s on loan %(loan)s is due on %(due)s, in %(days)d days. "
            "Paying on time keeps your credit open and costs nothing extra.",
            days)
    if point == 0:
        return (_("Payment due today, %(due)s"),
                _("Your payment of %(amount)s on loan %(loan)s is due today, %(due)s. Please "
                  "pay today to avoid it becoming overdue."))
    return _("Payment overdue: loan %(loan)s"), ngettext(
        "Your payment of %(amount)s on loan %(loan)s was due on %(due)s and is now "
        "%(days)d day late. Please pay as soon as you can: once the grace days are over, "
        "penalty interest is charged for every day past the due date, and you cannot "
        "borrow while a payment is overdue.",
        "Your payment of %(amount)s on loan %(loan)s was due on %(due)s and is now "
        "%(days)d days late. Please pay as soon as you can: once the grace days are over, "
        "penalty interest is charged for every day past the due date, and you cannot "
        "borrow while a payment is overdue.",
        days)
