"""A customer's history as one timeline from the audit trail (core.audit), and the check of
its chains.

The audit trail keeps one chain per subject; a customer's history is spread over several
subjects: the customer (credit decisions, income verification), each credit line and loan (a
loan's chain also holds its hardship requests), the collection case and the maker-checker's
approval requests on the lines and loans. `customer_subjects` names them, `timeline_page` reads
their events newest first as a reader may see them, `subjects_verify` recomputes their chains.

Events keep ids and choice codes (a customer's own actions name their actor "user 1224", a case
assignment names collectors by id, a hardship request its reason's code); the timeline shows
usernames, looked up in one query per page, and the choices' labels."""

from dataclasses import dataclass

from django.core.paginator import Paginator
from django.db.models import Q

from accounts.models import User
from core.audit import AuditBreak, audit_chain_verify
from core.models import ActorKind, AuditEvent
from debt_collection.models import ContactOutcome, HardshipReason

# Events shown per page of the timeline.
PAGE_SIZE = 50

# Which permission shows a subject's events: a reader sees the history of what they may view.
SUBJECT_PERMISSIONS = {
    "customer": "accounts.view_customerprofile",
    "line": "lending.view_creditline",
    "loan": "lending.view_loan",
    "collection_case": "debt_collection.view_collectioncase",
    "approval": "core.view_approvalrequest",
}
# Events on the customer that belong to another section, hidden without its permission (a
# collector sees no credit decisions).
ACTION_PERMISSIONS = {
    "decision.": "risk.view_creditdecision",
    "income.": "risk.view_incomeverification",
}

# What each action did, in words an officer reads at a glance. An action missing here is shown
# as its own name made readable ("loan.extend_term" -> "Extend term").
ACTION_WORDS = {
    "line.open": "Credit line opened",
    "line.limit_lower": "Limit lowered",
    "line.limit_raise": "Limit raised",
    "line.limit_raise_capped": "Limit raise stopped by an officer's cap",
    "line.rate_change": "Daily rate changed",
    "line.cap_lift": "Officer's cap lifted",
    "line.freeze": "Line frozen",
    "line.unfreeze": "Line unfrozen",
    "line.close": "Line closed",
    "loan.originate": "Loan drawn",
    "loan.repay": "Repayment",
    "loan.write_off": "Loan written off",
    "loan.recover": "Money recovered after write-off",
    "decision.make": "Credit decision",
    "decision.accept": "Offer accepted",
    "income.verify": "Income verified",
    "collection_case.open": "Collection case opened",
    "collection_case.close": "Collection case closed",
    "collection_case.assign": "Case assigned",
    "collection_case.contact": "Contact logged",
    "collection_case.promise": "Promise to pay taken",
    "loan.extend": "Term extended",
    "loan.waive_penalty": "Penalty waived",
    "hardship.submit": "Hardship request made",
    "hardship.approve": "Hardship request approved",
    "hardship.reject": "Hardship request rejected",
    "hardship.withdraw": "Hardship request withdrawn",
    "approval.request": "Approval requested",
    "approval.approve": "Approved by a second officer",
    "approval.reject": "Rejected by a second officer",
    "approval.fail": "Approved, but could no longer be done",
}
# Actions whose payload's "from" and "to" are users' ids (a case's collector before and after).
USER_CHANGES = {"collection_case.assign"}
# Payload values kept as choice codes, shown by their labels: (action, key) -> choices.
CHOICE_LABELS = {
    ("hardship.submit", "reason"): HardshipReason,
    ("collection_case.contact", "outcome"): ContactOutcome,
}
SUBJECT_WORDS = {"customer": "Customer", "line": "Line", "loan": "Loan",
                 "collection_case": "Case", "approval": "Approval request"}


@dataclass(frozen=True)
class Subject:
    kind: str
    id: str

    def __str__(self):
        if self.kind == "customer":
            return SUBJECT_WORDS["customer"]
        return f"{SUBJECT_WORDS.get(self.kind, self.kind)} {self.id}"


@dataclass(frozen=True)
class TimelineEntry:
    """One event as the timeline shows it: who, what, on which subject, when and why."""

    event_id: int
    when: object
    who: str
    what: str
    subject: Subject
    detail: str
    why: str


def customer_subjects(customer_id, *, line_ids=(), loan_ids=(), case_ids=(),
                      approval_ids=()) -> list[Subject]:
    """Every audit subject of one customer, the customer first."""
    subjects = [Subject("customer", str(customer_id))]
    for kind, ids in (("line", line_ids), ("loan", loan_ids), ("collection_case", case_ids),
                      ("approval", approval_ids)):
        subjects += [Subject(kind, str(pk)) for pk in sorted(ids)]
    return subjects


def subjects_visible(user, subjects) -> list[Subject]:
    """The subjects whose events `user` may read."""
    return [s for s in subjects if user.has_perm(SUBJECT_PERMISSIONS[s.kind])]


def _events_of(user, subjects):
    by_kind = {}
    for subject in subjects:
        by_kind.setdefault(subject.kind, []).append(subject.id)
    if not by_kind:
        return AuditEvent.objects.none()
    of_subjects = Q()
    for kind, ids in by_kind.items():
        of_subjects |= Q(subject_kind=kind, subject_id__in=ids)
    events = AuditEvent.objects.filter(of_subjects)
    for prefix, permission in ACTION_PERMISSIONS.items():
        if not user.has_perm(permission):
            events = events.exclude(action__startswith=prefix)
    return events


def timeline_page(user, subjects, page_number=1):
    """One page (`PAGE_SIZE` events, newest first) of the events on `subjects` that `user`
    may read; a Django `Page` of `TimelineEntry`. Three queries: the count, the page and the
    usernames of the users its events name."""
    events = (_events_of(user, subjects_visible(user, subjects))
              .order_by("-created_at", "-pk")
              .only("pk", "created_at", "actor_kind", "actor_label", "actor_id", "action",
                    "subject_kind", "subject_id", "payload"))
    page = Paginator(events, PAGE_SIZE).get_page(page_number)
    events = list(page.object_list)
    names = _usernames(events)
    page.object_list = [_entry(event, names) for event in events]
    return page


def _user_ids(event):
    """The ids of the users an event names: its actor, and a case assignment's collectors."""
    if event.actor_kind == ActorKind.USER:
        yield event.actor_id
    if event.action in USER_CHANGES and isinstance(event.payload, dict):
        yield from (event.payload.get(key) for key in ("from", "to"))


def _usernames(events) -> dict[str, str]:
    """Username by user id (as a string) of every user the events name: one query."""
    ids = {int(i) for event in events for i in _user_ids(event) if str(i or "").isdigit()}
    if not ids:
        return {}
    return {str(pk): name
            for pk, name in User.objects.filter(pk__in=ids).values_list("pk", "username")}


def _entry(event, names) -> TimelineEntry:
    payload = _labelled(event.action, event.payload if isinstance(event.payload, dict) else {})
    who = event.actor_label or event.actor_id
    if event.actor_kind == ActorKind.USER:
        who = names.get(event.actor_id, who)
    if event.action in USER_CHANGES:
        payload.update({key: _user_name(payload.get(key), names) for key in ("from", "to")
                        if key in payload})
    return TimelineEntry(event_id=event.pk, when=event.created_at, who=who,
                         what=action_words(event.action),
                         subject=Subject(event.subject_kind, event.subject_id),
                         detail=_detail(payload), why=_why(payload))


def _user_name(user_id, names) -> str:
    if user_id is None:
        return "nobody"
    return names.get(str(user_id), f"user {user_id}")


def _labelled(action, payload) -> dict:
    """A copy of `payload` with its choice codes replaced by their labels."""
    payload = dict(payload)
    for (of_action, key), choices in CHOICE_LABELS.items():
        if of_action == action and payload.get(key) in choices.values:
            payload[key] = choices(payload[key]).label
    return payload


def action_words(action: str) -> str:
    if action in ACTION_WORDS:
        return ACTION_WORDS[action]
    return action.rpartition(".")[2].replace("_", " ").capitalize()


def _detail(payload) -> str:
    """The figures that say what changed, where the payload has them."""
    parts = []
    if "from" in payload and "to" in payload:
        parts.append(f"{payload['from']} → {payload['to']}")
    for key, label in (("outcome", "outcome"), ("grade", "grade"), ("amount", "amount"),
                       ("summary", ""), ("months_asked", "months asked"),
                       ("principal", "principal"), ("credit_limit", "limit"),
                       ("extra_months", "extra months"), ("days_past_due", "days past due")):
        if payload.get(key) not in (None, ""):
            parts.append(f"{label} {payload[key]}".strip())
    return "; ".join(parts)


def _why(payload) -> str:
    """The reason given: an officer's or a rule's reason, a collector's note, or a
    decision's reasons."""
    reason = payload.get("reason") or payload.get("note")
    if reason:
        return str(reason)
    reasons = payload.get("reasons")
    if isinstance(reasons, list):
        return " ".join(str(r) for r in reasons)
    return ""


@dataclass(frozen=True)
class Verification:
    """The result of checking a customer's chains: how many, and the first break if any."""

    chains: int
    first_break: AuditBreak | None

    @property
    def intact(self) -> bool:
        return self.first_break is None


def subjects_verify(subjects) -> Verification:
    """Recompute the chain of each subject (`core.audit.audit_chain_verify`), stopping at the
    first break."""
    for subject in subjects:
        found = audit_chain_verify(subject_kind=subject.kind, subject_id=subject.id)
        if found is not None:
            return Verification(chains=len(subjects), first_break=found)
    return Verification(chains=len(subjects), first_break=None)
