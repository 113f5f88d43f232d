"""Hardship requests (困难申请): a customer asks for more time on a loan, an officer answers.

A customer submits a request on their own active loan: an extension of its term or a pause,
how many months, why, and their situation in their own words. One request per loan waits for
an answer at a time (a partial unique constraint backs the check). An officer with
`debt_collection.decide_hardshiprequest` then either

* approves it: the officer chooses the extra months and, if they wish, a lower daily rate, sees
  the old and the new schedule (`lending.services.extension.loan_extension_quote`), and the
  approval books exactly that quote through `loan_term_extend`, which refuses a quote that
  changed since the preview (`shown` is the preview's fingerprint). A pause is granted the same
  way: lending has no payment holiday, and a longer term is what lowers the instalments.
  More extra months than the maker-checker threshold need a second officer: the admin then
  requests the approval (debt_collection/approvals.py), and the second officer's approval
  runs `hardship_request_approve_within` in its own transaction;
* or rejects it, with a reason the customer reads in a notice and on their requests page.

A customer may withdraw a request still waiting. Every step is an event on the loan's audit
chain and a notice to the customer, in the same transaction as the change.

Locks: a submission locks the loan (two submissions on one loan queue there, so the second sees
the first); an answer locks the request, then the extension locks the customer's lines, the
loan and its instalments in lending's order. Only an approval holds two of these at once,
so there is no cycle."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from accounts.languages import customer_languages
from accounts.models import NoticeKind
from accounts.services.notices import NoticeDraft, notices_create_many
from core.audit import actor_user, audit_event_append
from core.calendar import business_date_today
from core.errors import DomainError
from lending.models import Loan, LoanStatus
from lending.services.extension import loan_term_extend

from ..models import (
    HARDSHIP_MONTHS_MAX,
    HARDSHIP_SITUATION_MAX,
    HardshipKind,
    HardshipReason,
    HardshipRequest,
    HardshipStatus,
)


class HardshipError(DomainError):
    """A hardship request that cannot be made or answered as asked; the message says why."""

    code = "hardship_refused"


def hardship_request_submit(*, customer, loan_id, kind, months_asked, reason,
                            situation) -> HardshipRequest:
    """Record the customer's request for more time on their loan `loan_id`.

    Raises a ValidationError keyed by field for bad input, and a HardshipError when the loan
    is not the customer's, is no longer active, or already has a request waiting."""
    situation = _checked_input(kind=kind, months_asked=months_asked, reason=reason,
                               situation=situation)
    with transaction.atomic(durable=True):
        loan = (Loan.objects.select_for_update(of=("self",))
                .filter(pk=loan_id, line__customer=customer).first())
        if loan is None:
            raise HardshipError(_("There is no such loan among yours."))
        if loan.status != LoanStatus.ACTIVE or loan.outstanding_principal <= 0:
            raise HardshipError(_("Loan %(loan)s is %(status)s: there is nothing left to give "
                                  "more time on.") % {
                "loan": loan.pk,
                "status": pgettext("loan status", loan.get_status_display()).lower()})
        if HardshipRequest.objects.filter(loan=loan, status=HardshipStatus.SUBMITTED).exists():
            raise HardshipError(_("You have already asked for more time on loan %(loan)s; we "
                                  "will answer that request first.") % {"loan": loan.pk})
        today = business_date_today()
        request = HardshipRequest.objects.create(
            loan=loan, customer=customer, kind=kind, months_asked=months_asked, reason=reason,
            situation=situation, submitted_on=today)
        _audit(request, actor_user(customer), "hardship.submit",
               kind=kind, months_asked=months_asked, reason=reason)
        _notify(request, "submitted", lambda: (
            _("We have your request for more time on loan %(loan)s") % {"loan": loan.pk},
            _("You asked for %(asked)s on loan %(loan)s. An officer will look at your "
              "situation and answer you here. Until then your schedule stays as it is, so "
              "please keep paying what you can.") % {"asked": _asked(request), "loan": loan.pk}))
    return request


def hardship_request_approve(*, request_id, officer, extra_months, daily_rate=None,
                             decision_reason, shown) -> HardshipRequest:
    """Approve a waiting request by booking the extension the officer previewed.

    `shown` is the fingerprint of the quote the officer saw (`ExtensionQuote.fingerprint`);
    the extension refuses if the loan's quote is no longer that one, and then nothing is
    recorded. One transaction: the extension, the request's decision, the audit events and
    the customer's notice commit together or not at all."""
    with transaction.atomic(durable=True):
        return hardship_request_approve_within(
            request_id=request_id, officer=officer, actor=actor_user(officer),
            extra_months=extra_months, daily_rate=daily_rate,
            decision_reason=decision_reason, shown=shown)


def hardship_request_approve_within(*, request_id, officer, actor, extra_months,
                                    daily_rate=None, decision_reason,
                                    shown) -> HardshipRequest:
    """The approval inside the caller's transaction: a second officer's approval of an
    extension above the maker-checker threshold (`debt_collection.approvals`) records its own
    decision in the same transaction. `officer` decided the terms (the maker); `actor` is who
    is audited for booking them (the checker, or the officer alone)."""
    decision_reason = _required_reason(decision_reason)
    if not shown:
        raise HardshipError("Look at the preview of the new schedule before approving it.")
    request = _waiting_request(request_id)
    extension = loan_term_extend(
        loan_id=request.loan_id, extra_months=extra_months, daily_rate=daily_rate,
        reason=f"Hardship request {request.pk}: {decision_reason}", actor=actor,
        officer=officer, shown=shown)
    _decide(request, officer, HardshipStatus.APPROVED, decision_reason, extension=extension)
    _audit(request, actor, "hardship.approve", reason=decision_reason,
           extension=extension.pk, extra_months=extra_months, daily_rate=daily_rate,
           decided_by=officer.get_username())
    _notify(request, "approved", lambda: (
        _("Your request for more time on loan %(loan)s is approved") % {"loan": request.loan_id},
        ngettext("We have approved your request of %(day)s. %(reason)s Loan %(loan)s is "
                 "extended by %(months)d month: our other notice of today gives the new "
                 "instalments, and the loan's page shows the new schedule.",
                 "We have approved your request of %(day)s. %(reason)s Loan %(loan)s is "
                 "extended by %(months)d months: our other notice of today gives the new "
                 "instalments, and the loan's page shows the new schedule.", extra_months)
        % {"day": formats.date_format(request.submitted_on, "DATE_FORMAT"),
           "reason": decision_reason, "loan": request.loan_id, "months": extra_months}))
    return request


def hardship_request_reject(*, request_id, officer, decision_reason) -> HardshipRequest:
    """Turn down a waiting request; the officer's reason is sent to the customer."""
    decision_reason = _required_reason(decision_reason)
    with transaction.atomic(durable=True):
        request = _waiting_request(request_id)
        _decide(request, officer, HardshipStatus.REJECTED, decision_reason)
        _audit(request, actor_user(officer), "hardship.reject", reason=decision_reason)
        _notify(request, "rejected", lambda: (
            _("Your request for more time on loan %(loan)s") % {"loan": request.loan_id},
            _("We cannot give you %(asked)s on loan %(loan)s. The officer's reason: %(reason)s "
              "Your schedule stays as it is. If your situation changes, you can ask again from "
              "the loan's page.") % {"asked": _asked(request), "loan": request.loan_id,
                                     "reason": decision_reason}))
    return request


def hardship_request_withdraw(*, request_id, customer) -> HardshipRequest:
    """The customer takes back a request still waiting for an answer."""
    with transaction.atomic(durable=True):
        request = (HardshipRequest.objects.select_for_update(of=("self",))
                   .filter(pk=request_id, customer=customer).first())
        if request is None:
            raise HardshipError(_("There is no such request among yours."))
        if request.status != HardshipStatus.SUBMITTED:
            raise HardshipError(_("%(answered)s: it can no longer be withdrawn.")
                                % {"answered": _answered(request)})
        request.status = HardshipStatus.WITHDRAWN
        request.save(update_fields=["status"])
        _audit(request, actor_user(customer), "hardship.withdraw")
    return request


def _checked_input(*, kind, months_asked, reason, situation) -> str:
    """The situation, stripped, once every field is valid; else the fields' errors."""
    errors = {}
    if kind not in HardshipKind.values:
        errors["kind"] = _("Choose an extension or a pause.")
    if (isinstance(months_asked, bool) or not isinstance(months_asked, int)
            or not 1 <= months_asked <= HARDSHIP_MONTHS_MAX):
        errors["months_asked"] = _("Ask for 1 to {most} months.").format(most=HARDSHIP_MONTHS_MAX)
    if reason not in HardshipReason.values:
        errors["reason"] = _("Choose the reason closest to yours.")
    situation = (situation or "").strip()
    if not situation:
        errors["situation"] = _("Tell us in a few words what has happened.")
    elif "\x00" in situation:
        errors["situation"] = _("Remove the null character from the text.")
    elif len(situation) > HARDSHIP_SITUATION_MAX:
        errors["situation"] = _("Please keep it to {most} characters.").format(
            most=HARDSHIP_SITUATION_MAX)
    if errors:
        raise ValidationError(errors)
    return situation


def _required_reason(reason) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise HardshipError("Give the reason for the decision: the customer reads it.")
    return reason


def _waiting_request(request_id) -> HardshipRequest:
    """The request, locked, if it still waits for an answer (another officer may have answered
    it, or the customer withdrawn it, since the page was shown)."""
    request = (HardshipRequest.objects.select_for_update(of=("self",))
               .select_related("loan").get(pk=request_id))
    if request.status != HardshipStatus.SUBMITTED:
        raise HardshipError(f"{_answered(request)}: there is nothing left to decide.")
    return request


def _answered(request) -> str:
    return {HardshipStatus.APPROVED: _("This request was approved already"),
            HardshipStatus.REJECTED: _("This request was turned down already"),
            HardshipStatus.WITHDRAWN: _("The customer withdrew this request")}[request.status]


def _decide(request, officer, status, reason, extension=None):
    request.status = status
    request.decided_by = officer
    request.decided_at = timezone.now()
    request.decision_reason = reason
    request.extension = extension
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_reason",
                                "extension"])


def _audit(request, actor, action, **details):
    """An event on the loan's chain, where the loan's other changes are."""
    audit_event_append(actor=actor, action=action, subject_kind="loan",
                       subject_id=request.loan_id,
                       payload={"hardship_request": request.pk, **details})


def _notify(request, step, texts):
    """A notice dated the business date the customer is living in, in the customer's language
    whoever acts (an officer's page is in English): `texts()` gives its subject and body."""
    language = customer_languages([request.customer_id])[request.customer_id]
    with translation.override(language):
        subject, body = texts()
    notices_create_many([NoticeDraft(
        customer_id=request.customer_id, kind=NoticeKind.ACCOUNT,
        key=f"hardship:{request.pk}:{step}", subject=subject, body=body,
        business_date=business_date_today())])


def _asked(request) -> str:
    months = request.months_asked
    if request.kind == HardshipKind.PAUSE:
        return ngettext("a pause of %(months)d month", "a pause of %(months)d months",
                        months) % {"months": months}
    return ngettext("%(months)d month more", "%(months)d months more", months) % {
        "months": months}
