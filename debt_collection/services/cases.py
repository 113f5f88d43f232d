"""A collections manager's reassignment of a case to another collector."""

from django.db import transaction

from accounts.roles import COLLECTOR
from core.audit import actor_user, audit_event_append
from core.calendar import business_date_today

from ..errors import CollectionError
from ..models import CaseStatus, CollectionCase
from .access import ASSIGN


def collection_case_reassign(*, case_id, to_user, manager, reason) -> CollectionCase:
    """Give the open case `case_id` to the collector `to_user`, for `reason`. Only someone who
    may assign cases does it, and only to an active member of the Collector group. No notice
    to the customer: who works their case is the lender's business, not a change to their
    account."""
    if not manager.has_perm(ASSIGN):
        raise CollectionError("You are not allowed to reassign collection cases.")
    reason = (reason or "").strip()
    if not reason:
        raise CollectionError("Give a reason for the reassignment.")
    if not (to_user.is_active and to_user.groups.filter(name=COLLECTOR).exists()):
        raise CollectionError(f"{to_user} is not an active collector.")
    with transaction.atomic(durable=True):
        case = (CollectionCase.objects.select_for_update().filter(pk=case_id).first())
        if case is None:
            raise CollectionError("There is no such collection case.")
        if case.status != CaseStatus.OPEN:
            raise CollectionError("This case is closed: there is nothing to reassign.")
        if case.assigned_to_id == to_user.pk:
            raise CollectionError(f"The case is already assigned to {to_user}.")
        was = case.assigned_to_id
        case.assigned_to = to_user
        case.assigned_on = business_date_today()
        case.save(update_fields=["assigned_to", "assigned_on"])
        audit_event_append(actor=actor_user(manager), action="collection_case.assign",
                           subject_kind="collection_case", subject_id=case.pk,
                           payload={"from": was, "to": to_user.pk, "reason": reason,
                                    "business_date": case.assigned_on})
    return case
