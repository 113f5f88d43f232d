"""Maker-checker (`core.approvals`) for hardship approvals: an approval that extends a loan by
more months than `settings.MAKER_CHECKER["EXTENSION_MONTHS"]` is the same extension an officer
books from the loan, so it needs a second officer the same way (lending.approvals'
`extension_needs_approval`, one rule for both).

The maker's "Approve and book" then requests the approval instead of booking; the hardship
request keeps waiting, and the customer sees it waiting. The checker's approval books the
quote the maker previewed (the fingerprint travels in the payload) and answers the request in
the approval's transaction; a loan or a request that has moved on since (a payment, the close,
another officer's answer, the customer's withdrawal) fails the approval and books nothing."""

from core.approvals import ApprovalNeeded, approval_kind
from core.audit import actor_user
from lending.approvals import extension_needs_approval, thresholds

from .services.hardship import hardship_request_approve_within

HARDSHIP_APPROVE = "hardship.approve"
PERMISSION = "debt_collection.decide_hardshiprequest"


def hardship_approve_approval(hardship, data) -> ApprovalNeeded | None:
    """What to request for approving `hardship` with the admin form's `data` ("extra_months",
    "daily_rate" or None, "reason", "shown"), or None when the officer may approve alone."""
    months = int(data["extra_months"])
    if not extension_needs_approval(months, thresholds()):
        return None
    rate = data.get("daily_rate") or None
    return ApprovalNeeded(
        kind=HARDSHIP_APPROVE, subject_kind="loan", subject_id=hardship.loan_id,
        payload={"request_id": hardship.pk, "extra_months": months, "daily_rate": rate,
                 "shown": data["shown"], "reason": data["reason"]},
        summary=(f"Approve hardship request {hardship.pk}: extend loan {hardship.loan_id} by "
                 f"{months} months, "
                 + (f"at a daily rate of {rate}" if rate else "at its rate")
                 + " (as in the preview the maker saw)"))


def _approve(payload, *, maker, checker):
    hardship_request_approve_within(
        request_id=int(payload["request_id"]), officer=maker, actor=actor_user(checker),
        extra_months=int(payload["extra_months"]), daily_rate=payload["daily_rate"],
        decision_reason=payload["reason"], shown=payload["shown"])


def approval_kinds_register():
    approval_kind(HARDSHIP_APPROVE, permission=PERMISSION, perform=_approve,
                  label="Approve a hardship request")
