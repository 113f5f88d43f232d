"""Who may act on a collection case: the collector it is assigned to, or anyone who may
reassign cases (a collections manager). Every service that changes a case asks here, under
the case's lock."""

from ..errors import CollectionError, NotYourCase
from ..models import CaseStatus, CollectionCase

WORK = "debt_collection.work_collectioncase"
ASSIGN = "debt_collection.assign_collectioncase"


def may_work_case(user, case) -> bool:
    """Whether `user` may log contacts and take promises on `case`."""
    if user.has_perm(ASSIGN):
        return True
    return user.has_perm(WORK) and case.assigned_to_id == user.pk


def case_lock_for_work(*, case_id, user) -> CollectionCase:
    """The open case `case_id`, locked for the caller's transaction, if `user` may work it."""
    case = (CollectionCase.objects.select_for_update(of=("self",)).select_related("customer")
            .filter(pk=case_id).first())
    if case is None:
        raise CollectionError("There is no such collection case.")
    if not may_work_case(user, case):
        if not user.has_perm(WORK):
            raise NotYourCase("You are not allowed to work collection cases.")
        raise NotYourCase("This case is assigned to another collector: ask a collections "
                          "manager to reassign it to you.")
    if case.status != CaseStatus.OPEN:
        raise CollectionError("This case is closed: nothing is overdue any more.")
    return case
