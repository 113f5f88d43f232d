"""Maker-checker for lending's officer actions (`core.approvals`): which actions need a second
officer, and what each runs once approved.

The rules, one pure function each, on the thresholds in `settings.MAKER_CHECKER`: a limit
change (lowered or raised) of more than a share of the old limit or more than an amount; a term
extension of more than a number of months; a penalty waiver or a write-off by hand above an
amount. Exactly at a threshold needs no second officer.

Each kind's `perform` calls the same service as the officer's action, with the maker as the
officer who decided the change and the checker as the actor audited for it (both are on the
approval's own audit chain); the service joins the approval's transaction, locks its rows and
re-checks the state, so an approval of a state that has moved on fails and books nothing.

The admin asks through the `*_approval(obj, cleaned_data)` hooks below, passed as
`action_with_form(approval=...)`: each returns what to request, or None when the officer may
act alone."""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import F, Sum

from core.approvals import ApprovalNeeded, approval_kind
from core.audit import actor_user
from core.money import to_amount, to_decimal, to_money

from .models import Instalment, InstalmentStatus
from .services import line_limit_lower, line_limit_raise
from .services.extension import loan_term_extend
from .services.waiver import loan_penalty_waive
from .services.write_off import loan_write_off

LINE_LIMIT_LOWER = "line.limit_lower"
LINE_LIMIT_RAISE = "line.limit_raise"
LOAN_EXTEND = "loan.extend"
LOAN_PENALTY_WAIVE = "loan.penalty_waive"
LOAN_WRITE_OFF = "loan.write_off"


@dataclass(frozen=True)
class Thresholds:
    limit_change_share: Decimal
    limit_change_amount: Decimal
    extension_months: int
    waiver_amount: Decimal
    write_off_amount: Decimal


def thresholds() -> Thresholds:
    """The thresholds in settings, parsed (amounts and shares are decimal strings)."""
    values = settings.MAKER_CHECKER
    return Thresholds(
        limit_change_share=to_decimal(values["LIMIT_CHANGE_SHARE"], what="limit change share"),
        limit_change_amount=to_decimal(values["LIMIT_CHANGE_AMOUNT"],
                                       what="limit change amount"),
        extension_months=int(values["EXTENSION_MONTHS"]),
        waiver_amount=to_decimal(values["WAIVER_AMOUNT"], what="waiver amount"),
        write_off_amount=to_decimal(values["WRITE_OFF_AMOUNT"], what="write-off amount"))


# The rules ----------------------------------------------------------------------------------

def limit_change_needs_approval(old_limit: Decimal, new_limit: Decimal,
                                limits: Thresholds) -> bool:
    """A limit moved, either way, by more than the share of the old limit or the amount."""
    change = abs(new_limit - old_limit)
    return change > limits.limit_change_share * old_limit or change > limits.limit_change_amount


def extension_needs_approval(extra_months: int, limits: Thresholds) -> bool:
    return extra_months > limits.extension_months


def waiver_needs_approval(amount: Decimal, limits: Thresholds) -> bool:
    return amount > limits.waiver_amount


def write_off_needs_approval(principal: Decimal, limits: Thresholds) -> bool:
    """A write-off by hand, measured by the principal it takes off the books."""
    return principal > limits.write_off_amount


# The admin's hooks --------------------------------------------------------------------------

def _limit_change_approval(kind, verb, line, data) -> ApprovalNeeded | None:
    new_limit = to_amount(data["new_limit"], what="new limit", allow_zero=True)
    if not limit_change_needs_approval(line.credit_limit, new_limit, thresholds()):
        return None
    return ApprovalNeeded(
        kind=kind, subject_kind="line", subject_id=line.pk,
        payload={"line_id": line.pk, "old_limit": line.credit_limit, "new_limit": new_limit,
                 "reason": data["reason"]},
        summary=(f"{verb} the limit of line {line.pk} ({line}) from {line.credit_limit} to "
                 f"{new_limit} {settings.CURRENCY}"))


def line_limit_lower_approval(line, data) -> ApprovalNeeded | None:
    return _limit_change_approval(LINE_LIMIT_LOWER, "Lower", line, data)


def line_limit_raise_approval(line, data) -> ApprovalNeeded | None:
    return _limit_change_approval(LINE_LIMIT_RAISE, "Raise", line, data)


def loan_extend_approval(loan, data) -> ApprovalNeeded | None:
    """`data`: "extra_months", "reason", and optionally "daily_rate" (empty: unchanged) and
    "shown", the fingerprint of the quote the maker saw: the checker's approval books that
    quote or nothing (the service refuses a loan changed since)."""
    months = int(data["extra_months"])
    if not extension_needs_approval(months, thresholds()):
        return None
    rate = data.get("daily_rate") or None
    return ApprovalNeeded(
        kind=LOAN_EXTEND, subject_kind="loan", subject_id=loan.pk,
        payload={"loan_id": loan.pk, "extra_months": months, "daily_rate": rate,
                 "shown": data.get("shown") or None, "reason": data["reason"]},
        summary=(f"Extend the term of loan {loan.pk} by {months} months, "
                 + (f"at a daily rate of {rate}" if rate else "at its rate")
                 + " (as in the preview the maker saw)"))


def unpaid_penalty(loan) -> Decimal:
    """The penalty interest the loan's live schedule still owes."""
    owed = (Instalment.objects.filter(loan=loan).exclude(status=InstalmentStatus.SUPERSEDED)
            .aggregate(owed=Sum(F("penalty_due") - F("penalty_paid")))["owed"])
    return owed or Decimal("0.00")


def loan_penalty_waive_approval(loan, data) -> ApprovalNeeded | None:
    """`data`: "reason" and optionally "amount" (empty: all the unpaid penalty). The request
    holds the amount itself, so the checker approves a known figure however the penalty moves
    until then."""
    amount = data.get("amount")
    amount = unpaid_penalty(loan) if amount in (None, "") else to_money(amount, what="amount")
    if not waiver_needs_approval(amount, thresholds()):
        return None
    return ApprovalNeeded(
        kind=LOAN_PENALTY_WAIVE, subject_kind="loan", subject_id=loan.pk,
        payload={"loan_id": loan.pk, "amount": amount, "reason": data["reason"]},
        summary=f"Waive {amount} {settings.CURRENCY} of penalty interest on loan {loan.pk}")


def loan_write_off_approval(loan, data) -> ApprovalNeeded | None:
    """`data`: "reason"."""
    if not write_off_needs_approval(loan.outstanding_principal, thresholds()):
        return None
    return ApprovalNeeded(
        kind=LOAN_WRITE_OFF, subject_kind="loan", subject_id=loan.pk,
        payload={"loan_id": loan.pk, "principal": loan.outstanding_principal,
                 "reason": data["reason"]},
        summary=(f"Write off loan {loan.pk}: {loan.outstanding_principal} "
                 f"{settings.CURRENCY} of principal off the books"))


# What each kind runs on approval ------------------------------------------------------------

def _approved_reason(payload, checker) -> str:
    return f"{payload['reason']} (approved by {checker.get_username()})"


def _limit_lower(payload, *, maker, checker):
    line_limit_lower(line_id=int(payload["line_id"]), new_limit=payload["new_limit"],
                     reason=_approved_reason(payload, checker), officer=maker,
                     actor=actor_user(checker))


def _limit_raise(payload, *, maker, checker):
    line_limit_raise(line_id=int(payload["line_id"]), new_limit=payload["new_limit"],
                     reason=_approved_reason(payload, checker), officer=maker,
                     actor=actor_user(checker))


def _extend(payload, *, maker, checker):
    loan_term_extend(loan_id=int(payload["loan_id"]), extra_months=int(payload["extra_months"]),
                     daily_rate=payload["daily_rate"], reason=_approved_reason(payload, checker),
                     actor=actor_user(checker), officer=maker, shown=payload["shown"])


def _waive(payload, *, maker, checker):
    loan_penalty_waive(loan_id=int(payload["loan_id"]), amount=payload["amount"],
                       reason=_approved_reason(payload, checker), actor=actor_user(checker),
                       officer=maker)


def _write_off(payload, *, maker, checker):
    loan_write_off(loan_id=int(payload["loan_id"]), reason=_approved_reason(payload, checker),
                   actor=actor_user(checker), officer=maker)


def approval_kinds_register():
    """Called once from LendingConfig.ready."""
    approval_kind(LINE_LIMIT_LOWER, permission="lending.lower_limit_creditline",
                  perform=_limit_lower, label="Lower a line's limit")
    approval_kind(LINE_LIMIT_RAISE, permission="lending.raise_limit_creditline",
                  perform=_limit_raise, label="Raise a line's limit")
    approval_kind(LOAN_EXTEND, permission="lending.extend_term_loan", perform=_extend,
                  label="Extend a loan's term")
    approval_kind(LOAN_PENALTY_WAIVE, permission="lending.waive_penalty_loan", perform=_waive,
                  label="Waive a loan's penalty")
    approval_kind(LOAN_WRITE_OFF, permission="lending.write_off_loan", perform=_write_off,
                  label="Write off a loan")
