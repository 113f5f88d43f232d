"""Maker-checker (四眼原则): an officer's action above a threshold is only requested by its maker
and takes effect when a second officer approves it.

Core knows no action: an app registers each kind it sends for approval (`approval_kind`, from
its `approvals` module imported in its AppConfig.ready) with the permission a checker needs and
the `perform` that runs the real service. The app decides when an action needs approval (its
thresholds); the admin's `ActionWithFormMixin.action_with_form(approval=...)` then calls
`approval_request` instead of the service.

Nothing changes until approval. `approval_approve` runs `perform` in the same durable
transaction that locks the request and records the decision, so of two checkers approving at
once one waits on the request's lock and then finds it decided: the action runs once. The
service `perform` calls locks its own rows and re-checks their state (the loan may have been
repaid meanwhile): its `DomainError` rolls the action back and leaves the request `failed` with
the message, which the checker sees.

Every request, approval, rejection and failure is an event on the request's own audit chain
(subject "approval"); the action's service audits its own subject as always."""

import json
from collections.abc import Callable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from .audit import actor_user, audit_event_append, canonical_json
from .calendar import business_date_today
from .errors import DomainError
from .models import ApprovalRequest, ApprovalStatus

# The permission every checker needs, besides the permission of the action they approve.
DECIDE_PERMISSION = "core.decide_approvalrequest"


class ApprovalRefused(DomainError):
    code = "approval_refused"


@dataclass(frozen=True)
class ApprovalKind:
    """An action that can wait for a second officer. `perform(payload, *, maker, checker)` runs
    the service (joining the caller's transaction) and raises a `DomainError` when the state no
    longer allows it; `describe(payload)` says in words what it will do, for a request that
    comes without a summary; `label` names the kind in the back office ("Lower a line's
    limit"), the name itself when none is given."""

    name: str
    permission: str
    perform: Callable
    describe: Callable | None = None
    label: str = ""


@dataclass(frozen=True)
class ApprovalNeeded:
    """An app's answer that an action needs a second officer: what to request."""

    kind: str
    subject_kind: str
    subject_id: object
    payload: dict
    summary: str


_KINDS: dict[str, ApprovalKind] = {}


def approval_kind(name, *, permission, perform, describe=None, label="") -> ApprovalKind:
    """Register (or register again, as a reloaded app does) the kind `name`."""
    kind = ApprovalKind(name=name, permission=permission, perform=perform, describe=describe,
                        label=label or name)
    _KINDS[name] = kind
    return kind


def approval_kind_labels() -> dict[str, str]:
    """Every registered kind's name and label, in the order of the labels."""
    return dict(sorted(((k.name, k.label) for k in _KINDS.values()), key=lambda kv: kv[1]))


def approval_kind_get(name) -> ApprovalKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise ApprovalRefused(f"No action of kind {name!r} can be approved.") from None


def approval_request(*, kind, subject_kind, subject_id, payload, summary, reason,
                     maker) -> ApprovalRequest:
    """The maker asks for `kind` on the subject. Refused when the maker may not take the action
    themselves, without a reason, or while the same action on the same subject already waits
    for approval. The payload is kept as JSON (amounts as strings; a float is refused)."""
    spec = approval_kind_get(kind)
    reason = (reason or "").strip()
    if not reason:
        raise ApprovalRefused("A reason is required to request an approval.")
    if not maker.has_perm(spec.permission):
        raise ApprovalRefused("You may not request this action.")
    plain = json.loads(canonical_json(payload))
    summary = (summary or "").strip() or (spec.describe(plain) if spec.describe else kind)
    try:
        with transaction.atomic(durable=True):
            request = ApprovalRequest.objects.create(
                kind=kind, subject_kind=subject_kind, subject_id=str(subject_id),
                payload=plain, summary=summary, reason=reason, maker=maker,
                business_date=business_date_today())
            audit_event_append(actor=actor_user(maker), action="approval.request",
                               subject_kind="approval", subject_id=request.pk,
                               payload={"kind": kind, "subject_kind": subject_kind,
                                        "subject_id": str(subject_id), "payload": plain,
                                        "summary": summary, "reason": reason,
                                        "business_date": request.business_date})
    except IntegrityError as error:
        if "one_open_approval_per_subject" not in str(error):
            raise
        raise ApprovalRefused(f"The same action on {subject_kind} {subject_id} already waits "
                              "for approval: approve or reject that request first.") from None
    return request


def _locked_open_request(request_id, checker) -> tuple[ApprovalRequest, ApprovalKind]:
    """The request, locked, once it is known that `checker` may decide it."""
    request = ApprovalRequest.objects.select_for_update(of=("self",)).filter(
        pk=request_id).first()
    if request is None:
        raise ApprovalRefused("No such request.", code="not_found")
    if request.status != ApprovalStatus.REQUESTED:
        raise ApprovalRefused(f"Request #{request.pk} is already decided: "
                              f"{request.get_status_display().lower()}.")
    if request.maker_id == checker.pk:
        raise ApprovalRefused("Nobody approves or rejects their own request: a second officer "
                              "must decide it.")
    spec = approval_kind_get(request.kind)
    if not (checker.has_perm(DECIDE_PERMISSION) and checker.has_perm(spec.permission)):
        raise ApprovalRefused("You may not decide this request: it needs an approver who may "
                              "take the action themselves.")
    return request, spec


_DECISION_ACTIONS = {ApprovalStatus.APPROVED: "approval.approve",
                     ApprovalStatus.REJECTED: "approval.reject",
                     ApprovalStatus.FAILED: "approval.fail"}


def _decide(request, *, status, checker, reason=""):
    request.status = status
    request.checker = checker
    request.decided_at = timezone.now()
    request.decision_reason = reason
    request.save(update_fields=["status", "checker", "decided_at", "decision_reason"])
    audit_event_append(actor=actor_user(checker), action=_DECISION_ACTIONS[status],
                       subject_kind="approval", subject_id=request.pk,
                       payload={"kind": request.kind, "status": status, "reason": reason,
                                "business_date": business_date_today()})


def approval_approve(*, request_id, checker) -> ApprovalRequest:
    """A second officer approves: the action runs now, under the request's lock, in one
    transaction with the decision. Refused (nothing recorded) if the request is decided
    already, if the checker is its maker or lacks the permission. When the action's service
    refuses (the state changed since the request), nothing of it is booked and the request is
    returned `failed`, with the service's message as its `decision_reason`."""
    with transaction.atomic(durable=True):
        request, spec = _locked_open_request(request_id, checker)
        try:
            # A savepoint: the approval and the action commit together or not at all. The
            # approval's own event comes first, as audit subjects are appended in kind order.
            with transaction.atomic():
                _decide(request, status=ApprovalStatus.APPROVED, checker=checker)
                spec.perform(request.payload, maker=request.maker, checker=checker)
        except DomainError as error:
            _decide(request, status=ApprovalStatus.FAILED, checker=checker, reason=str(error))
    return request


def approval_reject(*, request_id, checker, reason) -> ApprovalRequest:
    """A second officer rejects the request with a reason; nothing of the action happens."""
    reason = (reason or "").strip()
    if not reason:
        raise ApprovalRefused("A reason is required to reject a request.")
    with transaction.atomic(durable=True):
        request, _spec = _locked_open_request(request_id, checker)
        _decide(request, status=ApprovalStatus.REJECTED, checker=checker, reason=reason)
    return request
