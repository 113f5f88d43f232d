"""Promises to pay (承诺还款): taken by a collector, resolved by the nightly close.

Taking one. The date is after today and at most `PROMISE_MAX_DAYS` away (a promise further out
is a plan, which is a term extension's business); the amount is more than zero and at most the
case's amount overdue as the last close counted it (collections chase what is overdue, not the
whole balance); one pending promise per case at a time, so each payment is counted against one
promise. Taking a promise clears the case's "promise broken" flag, and the customer gets a
notice repeating what they promised.

Resolving one (step `check_promises`, after `sync_collection_cases`). In the close of business
date D, every pending promise whose date is D or earlier has had its last day: it is kept if
the customer's repayments and recoveries on any of their loans, dated from the day it was made
to its date (both included), add up to its amount, else broken, and a broken promise flags its
case (`promise_broken_on`), which the collector's queue shows. Under the cases' and promises'
locks, only promises still pending are resolved, so a rerun changes nothing."""

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import formats, translation
from django.utils.translation import gettext as _

from accounts.languages import customer_languages
from accounts.models import NoticeKind
from accounts.services.notices import NoticeDraft, notices_create_many
from core.audit import (
    AuditDraft,
    actor_system,
    actor_user,
    audit_event_append,
    audit_events_append_many,
)
from core.batch import field_in, rows_update
from core.calendar import business_date_today
from core.money import to_amount
from core.money_format import money_text
from lending.models import Repayment
from lending.models.loans import Recovery

from ..errors import CollectionError
from ..models import CollectionCase, PromiseStatus, PromiseToPay
from .access import case_lock_for_work

PROMISE_MAX_DAYS = 30
ACTOR_NAME = "check_promises"
ZERO = Decimal("0.00")


def promise_to_pay_make(*, case_id, collector, amount, promised_for) -> PromiseToPay:
    """Record that the customer of `case_id` promised `collector` to pay `amount` by
    `promised_for`."""
    amount = to_amount(amount, what="The promised amount")
    today = business_date_today()
    if promised_for <= today:
        raise CollectionError("The promised date must be after today.")
    if promised_for > today + timedelta(days=PROMISE_MAX_DAYS):
        raise CollectionError(f"A promise to pay is at most {PROMISE_MAX_DAYS} days away.")
    with transaction.atomic(durable=True):
        case = case_lock_for_work(case_id=case_id, user=collector)
        if amount > case.amount_overdue:
            raise CollectionError(f"The promised amount is more than what is overdue "
                                  f"({case.amount_overdue} {settings.CURRENCY}).")
        if case.promises.filter(status=PromiseStatus.PENDING).exists():
            raise CollectionError("This case already has a pending promise: it is resolved "
                                  "the night after its date.")
        promise = PromiseToPay.objects.create(case=case, amount=amount,
                                              promised_for=promised_for, made_by=collector,
                                              made_on=today)
        if case.promise_broken_on is not None:
            case.promise_broken_on = None
            case.save(update_fields=["promise_broken_on"])
        audit_event_append(actor=actor_user(collector), action="collection_case.promise",
                           subject_kind="collection_case", subject_id=case.pk,
                           payload={"promise": promise.pk, "amount": amount,
                                    "promised_for": promised_for, "business_date": today})
        # In the customer's language, not the collector's.
        with translation.override(customer_languages([case.customer_id])[case.customer_id]):
            subject = _("Your promise to pay")
            body = _("You told us you will pay %(amount)s by %(day)s. Any payment on your loans "
                     "from today until then counts towards it. Thank you: paying what is "
                     "overdue stops penalty interest and opens your credit again.") % {
                "amount": money_text(amount),
                "day": formats.date_format(promised_for, "DATE_FORMAT")}
        notices_create_many([NoticeDraft(
            customer_id=case.customer_id, kind=NoticeKind.ACCOUNT, key=f"promise:{promise.pk}",
            subject=subject, body=body, business_date=today)])
    return promise


def promises_due(day) -> list[int]:
    """Ids of the pending promises whose date is `day` or earlier, from their partial index."""
    return list(PromiseToPay.objects.filter(status=PromiseStatus.PENDING, promised_for__lte=day)
                .order_by("pk").values_list("pk", flat=True))


def promises_check(*, day, first_id=None, last_id=None) -> int:
    """Resolve the pending promises with ids from `first_id` to `last_id` whose date is `day`
    or earlier; returns how many were resolved. Joins the caller's transaction."""
    due = PromiseToPay.objects.filter(status=PromiseStatus.PENDING, promised_for__lte=day)
    if first_id is not None:
        due = due.filter(pk__gte=first_id)
    if last_id is not None:
        due = due.filter(pk__lte=last_id)
    # The cases first, then the promises: the order a collector's promise takes them in.
    case_ids = sorted(set(due.values_list("case_id", flat=True)))
    if not case_ids:
        return 0
    list(CollectionCase.objects.select_for_update().filter(field_in("pk", case_ids))
         .order_by("pk").values_list("pk", flat=True))
    promises = list(due.select_for_update(of=("self",)).order_by("pk")
                    .values_list("pk", "case_id", "case__customer_id", "amount", "made_on",
                                 "promised_for"))
    paid = _paid_in_windows(promises)
    resolved, broken_cases, events = [], [], []
    actor = actor_system(ACTOR_NAME)
    for (pk, case_id, _customer, amount, _made, _due), total in zip(promises, paid,
                                                                     strict=True):
        status = PromiseStatus.KEPT if total >= amount else PromiseStatus.BROKEN
        resolved.append((status, day, total, pk))
        if status == PromiseStatus.BROKEN:
            broken_cases.append((day, case_id))
        events.append(AuditDraft(
            actor=actor, action=f"collection_case.promise_{status}",
            subject_kind="collection_case", subject_id=case_id,
            payload={"promise": pk, "amount": amount, "paid": total, "business_date": day}))
    rows_update(PromiseToPay, ["status", "resolved_on", "amount_paid"], resolved)
    rows_update(CollectionCase, ["promise_broken_on"], sorted(set(broken_cases)))
    audit_events_append_many(events)
    return len(resolved)


def _paid_in_windows(promises) -> list[Decimal]:
    """What each promise's customer paid on their loans from the day it was made to its date:
    repayments and recoveries, read in one query each for the whole chunk."""
    customers = {customer for _pk, _case, customer, *_rest in promises}
    first = min(made for *_head, made, _due in promises)
    last = max(due for *_head, due in promises)
    payments = defaultdict(list)
    for model, day_field in ((Repayment, "paid_on"), (Recovery, "received_on")):
        for customer, day, amount in (
                model.objects.filter(field_in("loan__line__customer_id", customers),
                                     **{f"{day_field}__gte": first, f"{day_field}__lte": last})
                .values_list("loan__line__customer_id", day_field, "amount")):
            payments[customer].append((day, amount))
    return [sum((amount for day, amount in payments[customer] if made <= day <= due), ZERO)
            for _pk, _case, customer, _amount, made, due in promises]
