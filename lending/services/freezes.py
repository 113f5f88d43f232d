"""The overdue rule's freezes (冻结) and their cure, set-based for the nightly close
(debt_collection/close/freezes.py, step `freeze_or_cure_lines`, after `set_days_past_due`).

The rule, for the close of business date D (days past due as that night's earlier steps left
them, i.e. as of D+1):

* a customer is *delinquent* while they have a loan with days past due or a written-off loan
  (after `set_days_past_due`, an overdue instalment always gives its loan days past due), a
  pay-later statement past due (after `set_statements_past_due`) or a written-off pay-later
  line (which is closed, so the rule never touches it, but keeps the customer's other lines
  frozen as a written-off loan does);
* every ACTIVE line of a delinquent customer is frozen, `frozen_by = overdue`, with the reason
  "Payment overdue on loan N" (their lowest-numbered such loan) or, with no such loan, "Payment
  overdue on the pay-later statement": no draws, no purchases. The reason is kept in English
  for officers and the audit trail; a customer reads it in their language
  (`freeze_reason_text`);
* a line the rule froze (`frozen_by = overdue`) whose customer is delinquent no more becomes
  active again. A line an officer froze (`frozen_by = officer`, `credit_line_freeze`, which also
  takes over the rule's freeze) is never touched: it holds until an officer lifts it.

Each changed line gets an audit event on its chain ("line.freeze" / "line.unfreeze", actor
the system step "freeze_overdue"), and each customer whose lines changed a notice (one for the
freezes, one for the cures), e-mailed after commit. Both halves select their work again under
the lines' locks and change only lines still in the state they look for, so a rerun or a
redelivered chunk changes nothing."""

from datetime import timedelta

from django.db.models import Case, CharField, Exists, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Cast, Concat
from django.utils import translation
from django.utils.translation import gettext, gettext_noop, ngettext

from accounts.languages import by_language
from accounts.models import NoticeKind
from accounts.services.notices import NoticeDraft, notices_create_many
from core.audit import AuditDraft, actor_system, audit_events_append_many

from ..models import CreditLine, CreditLineStatus, Loan, LoanStatus, Statement, StatementStatus
from ..models.lines import FreezeSource
from ..models.revolving import LineWriteOff
from ..rules.status import LINE_TRANSITIONS, transition_check

ACTOR_NAME = "freeze_overdue"
REASON_PREFIX = "Payment overdue on loan "
STATEMENT_REASON = gettext_noop("Payment overdue on the pay-later statement")
CURE_REASON = "Nothing is overdue any more."


def freeze_reason_text(reason: str) -> str:
    """A line's freeze reason in the active language when it is one of the rule's; an officer's
    reason as the officer wrote it."""
    if reason.startswith(REASON_PREFIX):
        return gettext("Payment overdue on loan %(loan)s") % {
            "loan": reason.removeprefix(REASON_PREFIX)}
    if reason == STATEMENT_REASON:
        return gettext(STATEMENT_REASON)
    return reason


def _delinquent_loans(customer):
    """The loans that make `customer` (an id or an OuterRef to one) delinquent. Runs after the
    close has set days past due, so every active loan with an overdue instalment is counted by
    its days past due: no need to look at the instalments."""
    return Loan.objects.filter(
        Q(overdue_since__isnull=False, status=LoanStatus.ACTIVE)
        | Q(status=LoanStatus.WRITTEN_OFF),
        line__customer_id=customer)


def _delinquent_customers(first_id=None, last_id=None):
    """The ids of the delinquent customers from `first_id` to `last_id`, as one subquery: the
    union of two slices, each found by an index (`loan_delinquent`, the loans' status), so the
    lines are reached from them and not the other way."""
    def within(queryset, field):
        if first_id is not None:
            queryset = queryset.filter(**{f"{field}__gte": first_id})
        if last_id is not None:
            queryset = queryset.filter(**{f"{field}__lte": last_id})
        return queryset.values_list(field, flat=True).order_by()

    return within(Loan.objects.filter(overdue_since__isnull=False, status=LoanStatus.ACTIVE),
                  "line__customer_id").union(
        within(Loan.objects.filter(status=LoanStatus.WRITTEN_OFF), "line__customer_id"),
        within(Statement.objects.filter(overdue_since__isnull=False,
                                        status=StatementStatus.OPEN), "line__customer_id"),
        within(LineWriteOff.objects.all(), "line__customer_id"))


def _bounds(first_id, last_id) -> Q:
    bounds = Q()
    if first_id is not None:
        bounds &= Q(customer_id__gte=first_id)
    if last_id is not None:
        bounds &= Q(customer_id__lte=last_id)
    return bounds


def lines_freeze_overdue(*, day, first_id=None, last_id=None) -> int:
    """Freeze every active line of the delinquent customers with ids from `first_id` to
    `last_id`; returns how many lines were frozen. Joins the caller's transaction."""
    transition_check(LINE_TRANSITIONS, CreditLineStatus.ACTIVE, CreditLineStatus.FROZEN,
                     what="credit line")
    ids = list(CreditLine.objects.select_for_update(of=("self",))
               .filter(_bounds(first_id, last_id), status=CreditLineStatus.ACTIVE,
                       customer_id__in=_delinquent_customers(first_id, last_id))
               .order_by("pk").values_list("pk", flat=True))
    if not ids:
        return 0
    first_loan = (_delinquent_loans(OuterRef("customer_id")).order_by("pk")
                  .values("pk")[:1])
    CreditLine.objects.filter(pk__in=ids, status=CreditLineStatus.ACTIVE).update(
        status=CreditLineStatus.FROZEN, frozen_by=FreezeSource.OVERDUE,
        freeze_reason=Case(
            When(Exists(first_loan), then=Concat(
                Value(REASON_PREFIX), Cast(Subquery(first_loan), output_field=CharField()))),
            default=Value(STATEMENT_REASON)))
    frozen = list(CreditLine.objects.filter(pk__in=ids).order_by("pk")
                  .values_list("pk", "customer_id", "freeze_reason", "product__name"))
    actor = actor_system(ACTOR_NAME)
    audit_events_append_many([
        AuditDraft(actor=actor, action="line.freeze", subject_kind="line", subject_id=pk,
                   payload={"from": CreditLineStatus.ACTIVE, "to": CreditLineStatus.FROZEN,
                            "reason": reason, "business_date": day,
                            "frozen_by": FreezeSource.OVERDUE, "was_frozen_by": ""})
        for pk, _customer, reason, _product in frozen])
    notices_create_many(_notices(frozen, day=day, frozen=True))
    return len(frozen)


def lines_cure_overdue(*, day, first_id=None, last_id=None) -> int:
    """Unfreeze the lines the rule froze whose customers (ids from `first_id` to `last_id`)
    are delinquent no more; returns how many lines were unfrozen. Joins the caller's
    transaction."""
    transition_check(LINE_TRANSITIONS, CreditLineStatus.FROZEN, CreditLineStatus.ACTIVE,
                     what="credit line")
    cured = list(CreditLine.objects.select_for_update(of=("self",))
                 .filter(_bounds(first_id, last_id), status=CreditLineStatus.FROZEN,
                         frozen_by=FreezeSource.OVERDUE)
                 .exclude(customer_id__in=_delinquent_customers(first_id, last_id))
                 .order_by("pk")
                 .values_list("pk", "customer_id", "freeze_reason", "product__name"))
    if not cured:
        return 0
    CreditLine.objects.filter(pk__in=[pk for pk, *_ in cured], status=CreditLineStatus.FROZEN,
                              frozen_by=FreezeSource.OVERDUE).update(
        status=CreditLineStatus.ACTIVE, frozen_by="", freeze_reason="")
    actor = actor_system(ACTOR_NAME)
    audit_events_append_many([
        AuditDraft(actor=actor, action="line.unfreeze", subject_kind="line", subject_id=pk,
                   payload={"from": CreditLineStatus.FROZEN, "to": CreditLineStatus.ACTIVE,
                            "reason": CURE_REASON, "business_date": day,
                            "frozen_by": "", "was_frozen_by": FreezeSource.OVERDUE,
                            "freeze_reason": old_reason})
        for pk, _customer, old_reason, _product in cured])
    notices_create_many(_notices(cured, day=day, frozen=False))
    return len(cured)


def lines_freeze_or_cure(*, day, first_id=None, last_id=None) -> int:
    """The close step's work for one chunk of customers: the cures, then the freezes."""
    return (lines_cure_overdue(day=day, first_id=first_id, last_id=last_id)
            + lines_freeze_overdue(day=day, first_id=first_id, last_id=last_id))


def _notices(rows, *, day, frozen):
    """One notice per customer whose lines changed tonight, dated the next business date (the
    customer's "today" after the close), in the customer's language."""
    by_customer = {}
    for _pk, customer_id, reason, product in rows:
        names, reasons = by_customer.setdefault(customer_id, ([], []))
        names.append(product)
        reasons.append(reason)
    drafts = []
    for language, customers in by_language(by_customer, customer_id=lambda c: c).items():
        with translation.override(language):
            for customer_id in customers:
                names, reasons = by_customer[customer_id]
                subject, body = _notice_text(frozen, reasons[0], sorted(set(names)))
                drafts.append(NoticeDraft(
                    customer_id=customer_id, kind=NoticeKind.ACCOUNT,
                    key=f"lines:{'frozen' if frozen else 'unfrozen'}:{day.isoformat()}",
                    subject=subject, body=body, business_date=day + timedelta(days=1)))
    return drafts


def _notice_text(frozen, reason, names) -> tuple[str, str]:
    """The notice's subject and body in the active language: which lines, and why."""
    lines = (names[0] if len(names) == 1
             else gettext("%(first)s and %(last)s") % {"first": ", ".join(names[:-1]),
                                                      "last": names[-1]})
    if not frozen:
        return (gettext("Your credit is open again"),
                ngettext("Nothing is overdue any more, so your %(lines)s line is open again: "
                         "you can borrow and make purchases as before.",
                         "Nothing is overdue any more, so your %(lines)s lines are open again: "
                         "you can borrow and make purchases as before.",
                         len(names)) % {"lines": lines})
    if reason.startswith(REASON_PREFIX):
        cause = gettext("A payment on loan %(loan)s is overdue") % {
            "loan": reason.removeprefix(REASON_PREFIX)}
    else:
        cause = gettext("A payment on your pay-later statement is overdue")
    return (gettext("Your credit is frozen: a payment is overdue"),
            ngettext("%(cause)s, so your %(lines)s line is frozen: you cannot borrow or make "
                     "purchases with it while anything is overdue. Once every overdue payment "
                     "is made, it opens again after the next nightly close.",
                     "%(cause)s, so your %(lines)s lines are frozen: you cannot borrow or make "
                     "purchases with them while anything is overdue. Once every overdue "
                     "payment is made, they open again after the next nightly close.",
                     len(names)) % {"cause": cause, "lines": lines})
