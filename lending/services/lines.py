"""Opening credit lines, changing their limits and their status; each change is audited on the
line's chain (docs/architecture.md, "The audit trail"), and the customer is told in plain words
when an officer changes their limit or freezes or unfreezes their line (a notice in their
language, e-mailed after commit)."""

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.languages import customer_language
from accounts.models import NoticeKind
from accounts.services.notices import NoticeDraft, notices_create_many
from core.audit import actor_user, audit_event_append
from core.calendar import business_date_today
from core.money import CENT, to_decimal, to_money, to_rate

from ..errors import LendingError
from ..models import CreditLine, CreditLineStatus, LimitChange, ProductKind
from ..models.lines import FreezeSource
from ..rules.status import LINE_TRANSITIONS, transition_check

FREEZE_REASON_LENGTH = CreditLine._meta.get_field("freeze_reason").max_length


def credit_line_open(*, customer, product, credit_limit, daily_rate, actor,
                     statement_day=None) -> CreditLine:
    """Open a line. A pay-later line (花呗) gets its statement day (出账日, 1 to 28, the 1st
    unless the customer chose another)."""
    limit = to_money(credit_limit, what="credit limit")
    if product.kind == ProductKind.PAY_LATER:
        statement_day = 1 if statement_day is None else statement_day
        if not (isinstance(statement_day, int) and 1 <= statement_day <= 28):
            raise LendingError("Choose a statement day from 1 to 28.")
    else:
        statement_day = None
    rate = to_rate(daily_rate, what="daily rate")
    if not product.min_daily_rate <= rate <= product.max_daily_rate:
        raise LendingError(f"The daily rate must lie in the product's band "
                           f"{product.min_daily_rate}-{product.max_daily_rate}.")
    with transaction.atomic():
        line = CreditLine.objects.create(customer=customer, product=product, credit_limit=limit,
                                         daily_rate=rate, opened_on=business_date_today(),
                                         statement_day=statement_day)
        audit_event_append(actor=actor, action="line.open", subject_kind="line",
                           subject_id=line.pk,
                           payload={"customer": customer.pk, "product": product.code,
                                    "credit_limit": limit, "daily_rate": rate,
                                    "opened_on": line.opened_on})
    return line


def line_limit_lower(*, line_id: int, new_limit, reason: str, officer=None,
                     actor=None) -> LimitChange:
    """降额: lower a line's limit, recording who did it, why, and when: an `officer` (a user),
    or the system as `actor` when a rule does it.

    An officer's cut also caps the line (`officer_cap`) at the new limit: no acceptance,
    re-application or automatic raise takes the limit above it until an officer lifts the cap
    (`credit_line_cap_lift`). A rule's cut caps nothing; a cap already set stays. The customer
    is told of an officer's cut.

    `actor` is who is audited when it is not the officer: the second officer who approved the
    cut (maker-checker, lending/approvals.py). Joins the caller's transaction for that reason:
    an approval records its decision and runs the cut in one transaction, under the lock of the
    request; the line is locked and its limit re-checked here either way."""
    actor = actor or actor_user(officer)
    new_limit = to_decimal(new_limit, what="new limit")
    if new_limit < 0 or new_limit != new_limit.quantize(CENT):
        raise LendingError("The new limit must be zero or more, with at most two decimals.")
    new_limit = new_limit.quantize(CENT)
    reason = (reason or "").strip()
    if not reason:
        raise LendingError("A reason is required to lower a limit.")
    with transaction.atomic():
        line = (CreditLine.objects.select_for_update(of=("self",)).select_related("product")
                .get(pk=line_id))
        if new_limit >= line.credit_limit:
            raise LendingError(f"The new limit must be below the current limit "
                               f"{line.credit_limit}.")
        change = LimitChange.objects.create(line=line, old_limit=line.credit_limit,
                                            new_limit=new_limit, reason=reason, officer=officer,
                                            business_date=business_date_today())
        line.credit_limit = new_limit
        fields = ["credit_limit"]
        if officer is not None:
            line.officer_cap = new_limit
            fields.append("officer_cap")
        line.save(update_fields=[*fields, "updated_at"])
        _limit_change_audit(actor, change, action="line.limit_lower",
                            extra={"officer_cap": line.officer_cap})
        if officer is not None:
            _limit_change_notice(line, change)
    return change


def _limit_change_audit(actor, change, *, action, daily_rate=None, extra=None):
    payload = {"from": change.old_limit, "to": change.new_limit, "reason": change.reason,
               "business_date": change.business_date, **(extra or {})}
    if daily_rate is not None:
        payload["daily_rate"] = daily_rate
    audit_event_append(actor=actor, action=action, subject_kind="line",
                       subject_id=change.line_id, payload=payload)


def line_limit_raise(*, line_id: int, new_limit, reason: str, actor, officer=None,
                     daily_rate=None) -> CreditLine:
    """Raise a line's limit to `new_limit` (recorded as a LimitChange) and, when given, set its
    daily rate within the product's band. A raise never lowers: a limit already at or above
    `new_limit` stays, with no change recorded.

    While an officer's cap holds (`officer_cap`), the raise goes no higher than the cap: the
    LimitChange's reason says so, and a raise the cap stops altogether is recorded in the
    line's audit trail (`line.limit_raise_capped`), so a cap never gives way silently and a
    raise is never silently lost. The caller sees the limit granted on the line it gets back.

    An `officer`'s raise is the officer's decision, so it is refused rather than cut down: on a
    closed line, when it does not raise, when it passes the product's largest amount, or
    above the officer's cap (the officer lifts the cap first, `credit_line_cap_lift`). The
    customer is told of it.

    Joins the caller's transaction when there is one (accepting a credit offer marks the
    decision accepted in the same transaction, an approval its decision); the line is locked
    and re-checked either way."""
    new_limit = to_money(new_limit, what="new limit")
    rate = None if daily_rate is None else to_decimal(daily_rate, what="daily rate")
    reason = (reason or "").strip()
    if not reason:
        raise LendingError("A reason is required to raise a limit.")
    with transaction.atomic():
        line = (CreditLine.objects.select_for_update(of=("self",)).select_related("product")
                .get(pk=line_id))
        if officer is not None:
            _officer_raise_check(line, new_limit)
        fields = []
        if rate is not None and rate != line.daily_rate:
            product = line.product
            if not product.min_daily_rate <= rate <= product.max_daily_rate:
                raise LendingError(f"The daily rate must lie in the product's band "
                                   f"{product.min_daily_rate}-{product.max_daily_rate}.")
            line.daily_rate = rate
            fields.append("daily_rate")
        cap = line.officer_cap
        granted = new_limit if cap is None else min(new_limit, cap)
        capped = granted < new_limit and new_limit > line.credit_limit
        change = None
        if granted > line.credit_limit:
            if capped:
                reason = f"{reason} (asked {new_limit}, held at the officer's cap {cap})"
            change = LimitChange.objects.create(line=line, old_limit=line.credit_limit,
                                                new_limit=granted, reason=reason,
                                                officer=officer,
                                                business_date=business_date_today())
            line.credit_limit = granted
            fields.append("credit_limit")
        if fields:
            line.save(update_fields=[*fields, "updated_at"])
        if change is not None:
            _limit_change_audit(actor, change, action="line.limit_raise", daily_rate=rate,
                                extra={"asked": new_limit, "officer_cap": cap} if capped
                                else None)
            if officer is not None:
                _limit_change_notice(line, change)
        else:
            if capped:
                audit_event_append(actor=actor, action="line.limit_raise_capped",
                                   subject_kind="line", subject_id=line.pk,
                                   payload={"asked": new_limit, "officer_cap": cap,
                                            "credit_limit": line.credit_limit,
                                            "reason": reason,
                                            "business_date": business_date_today()})
            if "daily_rate" in fields:
                audit_event_append(actor=actor, action="line.rate_change", subject_kind="line",
                                   subject_id=line.pk, payload={"daily_rate": rate,
                                                                "reason": reason})
    return line


def _officer_raise_check(line, new_limit):
    """What an officer's raise must respect, on the locked line."""
    if line.status == CreditLineStatus.CLOSED:
        raise LendingError("The line is closed: its limit cannot be raised.")
    if new_limit <= line.credit_limit:
        raise LendingError(f"The new limit must be above the current limit {line.credit_limit}.")
    if new_limit > line.product.max_amount:
        raise LendingError(f"The new limit may not pass the product's largest amount "
                           f"{line.product.max_amount}.")
    if line.officer_cap is not None and new_limit > line.officer_cap:
        raise LendingError(f"An officer's cap holds this line at {line.officer_cap}: lift the "
                           f"cap first, then raise the limit.")


def _limit_change_notice(line, change):
    """Tell the customer their new limit, and what it means for borrowing, in their language."""
    figures = {"product": line.product.name, "new": change.new_limit, "old": change.old_limit,
               "available": line.available, "currency": settings.CURRENCY,
               "contact": settings.SUPPORT_CONTACT}
    with translation.override(customer_language(line.customer)):
        subject = (_("Your credit limit is lower") if change.new_limit < change.old_limit
                   else _("Your credit limit is higher"))
        body = _("The limit of your %(product)s line is now %(new)s %(currency)s (it was "
                 "%(old)s %(currency)s). ") % figures
        if line.outstanding_principal > change.new_limit:
            body += _("You owe more than the new limit, so you cannot borrow again until you "
                      "have repaid below it. ")
        else:
            body += _("You can borrow up to %(available)s %(currency)s now. ") % figures
        body += _("Loans you have taken already are unchanged. Questions: contact "
                  "%(contact)s.") % figures
    _line_notice(line, key=f"line:{line.pk}:limit:{change.pk}", subject=subject, body=body)


def _line_notice(line, *, key, subject, body):
    notices_create_many([NoticeDraft(customer_id=line.customer_id, kind=NoticeKind.ACCOUNT,
                                     key=key, subject=subject, body=body,
                                     business_date=business_date_today())])


def credit_line_cap_lift(*, line_id: int, reason: str, actor) -> CreditLine:
    """An officer lifts the cap their (or a colleague's) limit cut set: later acceptances,
    re-applications and automatic raises may take the limit higher again. The limit itself
    does not change, so no LimitChange is recorded; the lift is an event on the line's audit
    trail. A line with no cap is left as it is."""
    reason = (reason or "").strip()
    if not reason:
        raise LendingError("A reason is required to lift a line's cap.")
    with transaction.atomic(durable=True):
        line = CreditLine.objects.select_for_update(of=("self",)).get(pk=line_id)
        if line.officer_cap is None:
            return line
        cap = line.officer_cap
        line.officer_cap = None
        line.save(update_fields=["officer_cap", "updated_at"])
        audit_event_append(actor=actor, action="line.cap_lift", subject_kind="line",
                           subject_id=line.pk,
                           payload={"officer_cap": cap, "credit_limit": line.credit_limit,
                                    "reason": reason, "business_date": business_date_today()})
    return line


def _line_status_change(*, line_id, new_status, reason, actor, action, frozen_by="",
                        notice=None):
    """Move a line to `new_status`. A frozen line records who froze it (`frozen_by`) and why;
    any other status clears both (a database check holds that). `notice(line)`, when given,
    says what to tell the customer of the change: (subject, body), in the active language,
    which is the customer's while it runs."""
    reason = (reason or "").strip()
    if not reason:
        raise LendingError("A reason is required to change a line's status.")
    with transaction.atomic(durable=True):
        line = (CreditLine.objects.select_for_update(of=("self",)).select_related("product")
                .get(pk=line_id))
        old_status, old_frozen_by = line.status, line.frozen_by
        transition_check(LINE_TRANSITIONS, old_status, new_status, what="credit line")
        # Staying put is no change, except that an officer's freeze takes over a freeze by the
        # overdue rule (whose cure then leaves the line frozen).
        if old_status == new_status and old_frozen_by == frozen_by:
            return line
        line.status = new_status
        line.frozen_by = frozen_by
        line.freeze_reason = reason[:FREEZE_REASON_LENGTH] if frozen_by else ""
        line.save(update_fields=["status", "frozen_by", "freeze_reason", "updated_at"])
        payload = {"from": old_status, "to": new_status, "reason": reason,
                   "business_date": business_date_today()}
        if frozen_by or old_frozen_by:
            payload["frozen_by"] = frozen_by
            payload["was_frozen_by"] = old_frozen_by
        event = audit_event_append(actor=actor, action=action, subject_kind="line",
                                   subject_id=line.pk, payload=payload)
        if notice is not None:
            with translation.override(customer_language(line.customer)):
                subject, body = notice(line)
            _line_notice(line, key=f"line:{line.pk}:status:{event.seq}", subject=subject,
                         body=body)
    return line


def credit_line_freeze(*, line_id, reason, actor) -> CreditLine:
    """An officer's freeze: no draws or purchases on the line until an officer unfreezes it.
    It holds whatever the customer pays (the overdue rule's freezes are
    `lending.services.freezes`'), and takes over a freeze the overdue rule made. The customer
    is told."""
    return _line_status_change(line_id=line_id, new_status=CreditLineStatus.FROZEN,
                               reason=reason, actor=actor, action="line.freeze",
                               frozen_by=FreezeSource.OFFICER, notice=_frozen_notice)


def credit_line_unfreeze(*, line_id, reason, actor) -> CreditLine:
    """An officer lifts a freeze, whoever made it; the customer is told. (A line the overdue
    rule froze is frozen again by the next close while the customer is still overdue.)"""
    return _line_status_change(line_id=line_id, new_status=CreditLineStatus.ACTIVE,
                               reason=reason, actor=actor, action="line.unfreeze",
                               notice=_unfrozen_notice)


def _frozen_notice(line):
    figures = {"name": line.product.name, "contact": settings.SUPPORT_CONTACT}
    return (_("Your %(name)s line is frozen") % figures,
            _("We have frozen your %(name)s line: you cannot borrow or make purchases with it "
              "until we lift the freeze. Loans you have taken already run on, and their "
              "payments are due as before. Questions: contact %(contact)s.") % figures)


def _unfrozen_notice(line):
    figures = {"name": line.product.name}
    return (_("Your %(name)s line is open again") % figures,
            _("We have lifted the freeze on your %(name)s line: you can borrow and make "
              "purchases with it as before.") % figures)


def credit_line_close(*, line_id, reason, actor) -> CreditLine:
    """Closed for good: loans already drawn run on; nothing new is drawn."""
    return _line_status_change(line_id=line_id, new_status=CreditLineStatus.CLOSED,
                               reason=reason, actor=actor, action="line.close")
