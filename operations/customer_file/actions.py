"""The officer actions the customer page offers: the admin's own actions on lines, loans and
collection cases (`ActionWithFormMixin`), each started by a small POST form to its model's
change list (`action=<name>`, `_selected_action=<id>`), which opens the action's intermediate
page with its reason and preview. Nothing is done from the customer page itself.

An action is offered only to a reader its model admin lets run it (the admin's own
`get_actions`, which asks each action's permission), and only where it can apply to the
object as it stands (no "Unfreeze" on a line that is not frozen)."""

from dataclasses import dataclass

from django.contrib import admin
from django.contrib.admin.utils import model_format_dict
from django.urls import reverse

from core.models import ApprovalStatus
from debt_collection.models import CaseStatus, HardshipStatus
from lending.models import CreditLineStatus, LoanStatus

# When a named action can apply to an object; an action not named here is always offered and
# its own page says if it cannot be done.
APPLIES = {
    "creditline": {
        "lower_limit": lambda line: line.status != CreditLineStatus.CLOSED,
        "raise_limit": lambda line: line.status != CreditLineStatus.CLOSED,
        "freeze": lambda line: line.status == CreditLineStatus.ACTIVE,
        "unfreeze": lambda line: line.status == CreditLineStatus.FROZEN,
        "lift_cap": lambda line: line.officer_cap is not None,
    },
    "loan": {
        "extend_term": lambda loan: loan.status == LoanStatus.ACTIVE,
        "waive_penalty": lambda loan: loan.status == LoanStatus.ACTIVE,
        "write_off": lambda loan: loan.status == LoanStatus.ACTIVE,
    },
    "collectioncase": {
        "log_contact": lambda case: case.status == CaseStatus.OPEN,
        "promise_to_pay": lambda case: case.status == CaseStatus.OPEN,
        "reassign": lambda case: case.status == CaseStatus.OPEN,
    },
    "hardshiprequest": {
        "approve": lambda request: request.status == HardshipStatus.SUBMITTED,
        "reject": lambda request: request.status == HardshipStatus.SUBMITTED,
    },
    "approvalrequest": {
        "approve": lambda request: request.status == ApprovalStatus.REQUESTED,
        "reject": lambda request: request.status == ApprovalStatus.REQUESTED,
    },
}


@dataclass(frozen=True)
class OfferedAction:
    name: str
    label: str


@dataclass(frozen=True)
class ActionsOf:
    """What a reader may do with one model's objects from the page: the change list the forms
    post to, the change page of each object, and the actions offered."""

    changelist_url: str
    change_url_name: str
    actions: tuple[OfferedAction, ...]

    def for_object(self, obj) -> list[OfferedAction]:
        applies = APPLIES.get(obj._meta.model_name, {})
        return [action for action in self.actions
                if action.name not in applies or applies[action.name](obj)]

    def change_url(self, obj) -> str:
        return reverse(self.change_url_name, args=[obj.pk])


def actions_of(request, model) -> ActionsOf | None:
    """The admin actions `request.user` may run on `model`, or None if the model has no admin
    (its section then has no buttons)."""
    try:
        model_admin = admin.site.get_model_admin(model)
    except admin.sites.NotRegistered:
        return None
    opts = model._meta
    offered = tuple(
        OfferedAction(name, str(description) % model_format_dict(opts))
        for name, (_func, _name, description) in model_admin.get_actions(request).items()
        if name != "delete_selected")
    return ActionsOf(changelist_url=reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
                     change_url_name=f"admin:{opts.app_label}_{opts.model_name}_change",
                     actions=offered)
