"""Penalty waivers (减免罚息) by an officer: `loan_penalty_waive`.

A waiver lowers the unpaid penalty interest of the loan's live schedule, oldest row first: the
overdue instalments the close charged it to, or the row a term extension carried it over to.
It records a `PenaltyWaiver` (how much from which rows, why, who), reverses the penalty from
the books the way a write-off does (`write_off_legs`: Dr penalty income, Cr penalty receivable,
kind "penalty_waiver"), appends an audit event on the loan and tells the customer. Penalty
charged to a row but never booked as receivable (none is, outside hand-made test data) is
lowered without a ledger leg: only what the ledger holds is reversed."""

from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.languages import customer_language
from accounts.models import NoticeKind
from accounts.services.notices import NoticeDraft, notices_create_many
from core.audit import audit_event_append
from core.calendar import business_date_today
from core.money import to_money

from ..errors import LendingError
from ..models import Instalment, InstalmentStatus, Loan, LoanStatus, PenaltyWaiver
from . import ledger
from .extension import recorded_officer_id
from .penalty import penalty_receivable_by_loan
from .write_off import write_off_legs

KIND = "penalty_waiver"
ZERO = Decimal("0.00")


def loan_penalty_waive(*, loan_id, amount=None, reason, actor, officer=None) -> PenaltyWaiver:
    """Waive `amount` of the loan's unpaid penalty interest (None: all of it), oldest row
    first. A part must be more than 0 and at most the unpaid penalty. `actor` is audited; the
    officer recorded is `officer`, or the user `actor` names.

    Joins the caller's transaction (`atomic()`, not durable), as `loan_term_extend` does: a
    maker-checker approval records its decision in the same transaction as the waiver."""
    reason = (reason or "").strip()
    if not reason:
        raise LendingError("A reason is required to waive penalty interest.")
    if amount not in (None, ""):
        amount = to_money(amount, what="amount to waive")
    else:
        amount = None
    with transaction.atomic():
        loan = Loan.objects.select_for_update(of=("self",)).filter(pk=loan_id).first()
        if loan is None:
            raise LendingError("No such loan.", code="not_found")
        if loan.status != LoanStatus.ACTIVE:
            raise LendingError(f"Penalty can be waived only on an active loan; this one is "
                               f"{LoanStatus(loan.status).label.lower()}.")
        owing = [i for i in Instalment.objects.select_for_update().filter(loan=loan)
                 .exclude(status=InstalmentStatus.SUPERSEDED).order_by("seq")
                 if i.penalty_due > i.penalty_paid]
        unpaid = sum((i.penalty_due - i.penalty_paid for i in owing), ZERO)
        if unpaid <= 0:
            raise LendingError("This loan owes no penalty interest.")
        if amount is None:
            amount = unpaid
        elif amount > unpaid:
            raise LendingError(f"Only {unpaid} of penalty interest is unpaid on this loan: a "
                               f"waiver of {amount} is more than that.")
        by_instalment = _lower_oldest_first(owing, amount)
        Instalment.objects.bulk_update(owing, ["penalty_due"])
        day = business_date_today()
        waiver = PenaltyWaiver.objects.create(
            loan=loan, business_date=day, amount=amount,
            by_instalment={str(seq): str(part) for seq, part in by_instalment.items()},
            reason=reason, officer_id=recorded_officer_id(actor, officer))
        booked = min(amount, max(penalty_receivable_by_loan([loan.pk]).get(loan.pk, ZERO),
                                 ZERO))
        if booked:
            ledger.journal_entry_post(kind=KIND, business_date=day, loan=loan,
                                      legs=write_off_legs([], ZERO, booked),
                                      memo=f"Penalty waiver {waiver.pk} on loan {loan.pk}")
        audit_event_append(actor=actor, action="loan.waive_penalty", subject_kind="loan",
                           subject_id=loan.pk, payload={
                               "waiver": waiver.pk, "business_date": day, "amount": amount,
                               "by_instalment": waiver.by_instalment,
                               "penalty_unpaid": unpaid - amount, "reversed": booked,
                               "reason": reason})
        _notify(loan, waiver, unpaid - amount)
    return waiver


def _lower_oldest_first(owing, amount) -> dict[int, Decimal]:
    """Lower the rows' penalty due by `amount`, oldest first; returns seq -> amount lowered."""
    left, parts = amount, {}
    for instalment in owing:
        take = min(instalment.penalty_due - instalment.penalty_paid, left)
        if take:
            instalment.penalty_due -= take
            parts[instalment.seq] = take
            left -= take
    return parts


def _notify(loan, waiver, still_unpaid):
    """Tell the customer what was waived and what is still owed, in their language."""
    figures = {"amount": waiver.amount, "unpaid": still_unpaid, "loan": loan.pk,
               "currency": settings.CURRENCY, "contact": settings.SUPPORT_CONTACT}
    with translation.override(customer_language(loan.line.customer)):
        subject = _("Late-payment interest waived")
        body = _("We have waived %(amount)s %(currency)s of late-payment interest on loan "
                 "%(loan)s: you do not owe it any more. ") % figures
        body += (_("%(unpaid)s %(currency)s of late-payment interest is still owed. ") % figures
                 if still_unpaid else _("No late-payment interest is owed on it now. "))
        body += _("Your loan page shows what is due. Questions: contact %(contact)s.") % figures
    notices_create_many([NoticeDraft(
        customer_id=loan.line.customer_id, kind=NoticeKind.ACCOUNT,
        key=f"loan:{loan.pk}:penalty_waiver:{waiver.pk}",
        subject=subject, body=body, business_date=waiver.business_date)])
