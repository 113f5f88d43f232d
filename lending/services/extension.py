"""Term extension (展期) by an officer: the quote shown (`loan_extension_quote`) and its booking
(`loan_term_extend`). The rules are in lending/rules/extension.py; this module reads the loan
for them and books what they quote.

Booking, under the locks of the customer's lines, the loan and its instalments (the fixed
order), with the quote recomputed there:

* a `LoanExtension` keeps the replaced rows as they stood and the new schedule as booked;
* each replaced row is settled out: status "superseded", its amounts due lowered to what it
  had been paid (so it owes nothing and every sum over a schedule passes it by), never deleted;
* the carried row (interest, fees and penalty the replaced rows owed) and the new instalments
  are appended with the next seq numbers, due on the new schedule's dates;
* interest the carried row holds that was booked as receivable is reversed (Dr interest
  income, Cr interest receivable, kind "extension"): the close books it again, with the rest
  of the carried row's interest, when the row falls due. Penalty receivable is untouched: it is
  still owed, paid from the receivable first (`repayment_legs`);
* the loan takes the new term, rate and APR and is current (days past due 0), and the overdue
  rule's freezes of the customer's lines are re-evaluated (`lines_cure_overdue`);
* an audit event on the loan, and a notice to the customer."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import dateformat, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.languages import customer_language
from accounts.models import NoticeKind
from accounts.services.notices import NoticeDraft, notices_create_many
from core.audit import audit_event_append
from core.calendar import business_date_today
from core.models import ActorKind
from core.money import to_rate

from ..errors import ExtensionRefused, LendingError
from ..models import CreditLine, Instalment, InstalmentStatus, Loan, LoanExtension
from ..rules.extension import ExtensionQuote, extension_quote
from ..rules.status import INSTALMENT_TRANSITIONS, transition_check
from . import ledger
from .freezes import lines_cure_overdue

KIND = "extension"
PARTS = ("principal", "interest", "fee", "penalty")


def _rate(daily_rate):
    return None if daily_rate in (None, "") else to_rate(daily_rate, what="daily rate")


def loan_extension_quote(*, loan, extra_months: int, daily_rate=None, day=None) -> ExtensionQuote:
    """What extending `loan` by `extra_months` at `daily_rate` (None: the loan's own) would
    book on `day` (the business date when not given). Reads the loan's instalments; books
    nothing. Raises ExtensionRefused when the rules say no."""
    return extension_quote(
        loan=loan, product=loan.line.product, instalments=list(loan.instalments.all()),
        extra_months=extra_months, daily_rate=_rate(daily_rate),
        day=day or business_date_today())


def recorded_officer_id(actor, officer) -> int | None:
    """The officer an officer action records: `officer`, or the user `actor` names."""
    if officer is not None:
        return officer.pk
    return int(actor.id) if actor.kind == ActorKind.USER else None


def loan_term_extend(*, loan_id, extra_months, daily_rate=None, reason, actor, officer=None,
                     shown=None) -> LoanExtension:
    """Extend the loan's term by `extra_months` at `daily_rate` (None: unchanged), booking the
    quote `loan_extension_quote` gives under the locks. `shown`: the fingerprint of the quote
    the officer was shown; when given and the loan has changed since (a payment, the close, an
    earlier extension), the booking is refused and nothing changes. `actor` is audited; the
    officer recorded is `officer`, or the user `actor` names.

    Joins the caller's transaction (`atomic()`, not durable): a hardship request's approval and
    a maker-checker approval record their decision in the same transaction as the extension, so
    the two commit or roll back together. Called on its own it is one transaction all the same."""
    reason = (reason or "").strip()
    if not reason:
        raise LendingError("A reason is required to extend a loan's term.")
    daily_rate = _rate(daily_rate)
    with transaction.atomic():
        row = (Loan.objects.filter(pk=loan_id)
               .values_list("line__customer_id", flat=True).first())
        if row is None:
            raise LendingError("No such loan.", code="not_found")
        customer_id = row
        # The fixed lock order: the customer's lines (the freeze rule's cure below changes
        # them), the loan, its instalments.
        lines = list(CreditLine.objects.select_for_update(of=("self",))
                     .filter(customer_id=customer_id).order_by("pk"))
        loan = Loan.objects.select_for_update(of=("self",)).get(pk=loan_id)
        instalments = list(Instalment.objects.select_for_update().filter(loan=loan)
                           .order_by("seq"))
        product = next(line.product for line in lines if line.pk == loan.line_id)
        day = business_date_today()
        quote = extension_quote(loan=loan, product=product, instalments=instalments,
                                extra_months=extra_months, daily_rate=daily_rate, day=day)
        if shown is not None and shown != quote.fingerprint:
            raise ExtensionRefused(
                "The loan changed since the preview (a payment, the nightly close or another "
                "change): look at the new preview and book it again.", code="stale_preview")
        extension = LoanExtension.objects.create(
            loan=loan, business_date=day, extra_months=extra_months,
            old_term_months=quote.old_term_months, new_term_months=quote.new_term_months,
            old_daily_rate=quote.old_daily_rate, new_daily_rate=quote.new_daily_rate,
            old_apr=quote.old_apr, new_apr=quote.new_apr, principal=quote.principal,
            carried_interest=quote.carried_interest, carried_penalty=quote.carried_penalty,
            old_schedule=[row.as_dict() for row in quote.replaced],
            new_schedule=quote.as_dict(), fingerprint=quote.fingerprint, reason=reason,
            officer_id=recorded_officer_id(actor, officer))
        _supersede(instalments, quote, extension)
        _append_new_schedule(loan, instalments, quote, extension)
        if quote.interest_reversed:
            ledger.journal_entry_post(
                kind=KIND, business_date=day, loan=loan,
                legs=[(ledger.INTEREST_INCOME, quote.interest_reversed),
                      (ledger.INTEREST_RECEIVABLE, -quote.interest_reversed)],
                memo=f"Extension {extension.pk} of loan {loan.pk}: overdue interest falls due "
                     f"again on {quote.first_due_date}")
        loan.term_months, loan.daily_rate, loan.apr = (
            quote.new_term_months, quote.new_daily_rate, quote.new_apr)
        loan.days_past_due, loan.overdue_since = 0, None
        loan.save(update_fields=["term_months", "daily_rate", "apr", "days_past_due",
                                 "overdue_since"])
        audit_event_append(actor=actor, action="loan.extend", subject_kind="loan",
                           subject_id=loan.pk, payload=_audit_payload(extension, quote))
        # The freeze rule's day D speaks of D+1 (the close runs at the end of D): as of today
        # is yesterday's close's view, and its notice is dated today.
        lines_cure_overdue(day=day - timedelta(days=1), first_id=customer_id,
                           last_id=customer_id)
        _notify(loan, customer_id, extension, quote)
    return extension


def _supersede(instalments, quote, extension):
    """Settle out the replaced rows: what they owed moved to the new schedule."""
    replaced = {row.seq for row in quote.replaced}
    changed = []
    for instalment in instalments:
        if instalment.seq not in replaced:
            continue
        transition_check(INSTALMENT_TRANSITIONS, instalment.status,
                         InstalmentStatus.SUPERSEDED, what="instalment")
        for part in PARTS:
            setattr(instalment, f"{part}_due", getattr(instalment, f"{part}_paid"))
        instalment.status, instalment.superseded_by = InstalmentStatus.SUPERSEDED, extension
        # Nothing of its interest is left to fall due: out of the close's accrual for good.
        instalment.interest_accrued = True
        changed.append(instalment)
    Instalment.objects.bulk_update(changed, [f"{part}_due" for part in PARTS]
                                   + ["status", "superseded_by", "interest_accrued"])


def _append_new_schedule(loan, instalments, quote, extension):
    seq = max(i.seq for i in instalments)
    rows = []
    if quote.carried_total:
        seq += 1
        rows.append(Instalment(
            loan=loan, seq=seq, period_start=quote.day, due_date=quote.first_due_date,
            principal_due=0, interest_due=quote.carried_interest, fee_due=quote.carried_fee,
            penalty_due=quote.carried_penalty, carried=True, extension=extension))
    for scheduled in quote.instalments:
        seq += 1
        rows.append(Instalment(
            loan=loan, seq=seq, period_start=scheduled.period_start,
            due_date=scheduled.due_date, principal_due=scheduled.principal,
            interest_due=scheduled.interest, extension=extension))
    Instalment.objects.bulk_create(rows)


def _audit_payload(extension, quote) -> dict:
    return {"extension": extension.pk, "business_date": quote.day,
            "extra_months": quote.extra_months,
            "term_months": [quote.old_term_months, quote.new_term_months],
            "daily_rate": [quote.old_daily_rate, quote.new_daily_rate],
            "apr": [quote.old_apr, quote.new_apr], "principal": quote.principal,
            "carried_interest": quote.carried_interest, "carried_fee": quote.carried_fee,
            "carried_penalty": quote.carried_penalty,
            "interest_reversed": quote.interest_reversed,
            "first_due_date": quote.first_due_date,
            "last_due_date": quote.instalments[-1].due_date,
            "fingerprint": quote.fingerprint, "reason": extension.reason}


def _notify(loan, customer_id, extension, quote):
    """Tell the customer their new schedule, in their language."""
    with translation.override(customer_language(loan.line.customer)):
        subject, body = _notice_text(loan, quote)
    notices_create_many([NoticeDraft(
        customer_id=customer_id, kind=NoticeKind.ACCOUNT,
        key=f"loan:{loan.pk}:extension:{extension.pk}",
        subject=subject, body=body, business_date=quote.day)])


def _notice_text(loan, quote) -> tuple[str, str]:
    # Translators: how the extension's notice writes a date, in Django's date format letters
    # ("05 June 2026").
    date_format = _("d F Y")
    first = quote.instalments[0]
    figures = {
        "loan": loan.pk, "months": quote.extra_months, "principal": quote.principal,
        "count": len(quote.instalments), "first": first.total,
        "first_day": dateformat.format(first.due_date, date_format),
        "last_day": dateformat.format(quote.instalments[-1].due_date, date_format),
        "old_rate": quote.old_daily_rate, "new_rate": quote.new_daily_rate,
        "carried": quote.carried_total, "old_apr": quote.old_apr, "new_apr": quote.new_apr,
        "currency": settings.CURRENCY, "contact": settings.SUPPORT_CONTACT}
    body = ngettext("We have extended loan %(loan)s by %(months)d month. ",
                    "We have extended loan %(loan)s by %(months)d months. ",
                    quote.extra_months) % figures
    body += _("You now repay the %(principal)s %(currency)s you owe in %(count)d monthly "
              "instalments, the first of %(first)s %(currency)s on %(first_day)s and the last "
              "on %(last_day)s. ") % figures
    if quote.new_daily_rate < quote.old_daily_rate:
        body += _("Your daily interest rate is lowered from %(old_rate)s to "
                  "%(new_rate)s. ") % figures
    if quote.carried_total:
        body += _("The %(carried)s %(currency)s of interest and late charges you owed is due on "
                  "%(first_day)s too, and is no longer overdue. ") % figures
    body += _("The new APR is %(new_apr)s%% (it was %(old_apr)s%%). Your loan page shows the "
              "new schedule. Questions: contact %(contact)s.") % figures
    return _("Your loan's term is extended"), body
