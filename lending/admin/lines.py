"""Credit lines, their limit changes, and the officer's actions on a line: lower (降额) or
raise (提额) its limit, freeze (冻结) or unfreeze it, lift an officer's cap. A limit change above
the maker-checker thresholds is sent for a second officer's approval (lending/approvals.py)."""

from django import forms
from django.conf import settings
from django.contrib import admin

from core.admin import ActionWithFormMixin, ViewOnlyAdmin, ViewOnlyInline, reason_field
from core.audit import actor_user

from ..approvals import line_limit_lower_approval, line_limit_raise_approval
from ..errors import LendingError
from ..models import CreditLine, CreditLineStatus, LimitChange, Loan, RateChange
from ..models.lines import FreezeSource
from ..services import (
    credit_line_cap_lift,
    credit_line_freeze,
    credit_line_unfreeze,
    line_limit_lower,
    line_limit_raise,
)
from .search import id_from


class LowerLimitForm(forms.Form):
    new_limit = forms.DecimalField(label="New limit", max_digits=18, decimal_places=2,
                                   min_value=0)
    reason = reason_field(kept_with="the limit change")


class RaiseLimitForm(forms.Form):
    new_limit = forms.DecimalField(label="New limit", max_digits=18, decimal_places=2,
                                   min_value=0)
    reason = reason_field(kept_with="the limit change")


class ReasonForm(forms.Form):
    """An action that needs nothing but the officer's reason."""

    reason = reason_field()


class LimitChangeInline(ViewOnlyInline):
    model = LimitChange
    fields = ("created_at", "business_date", "old_limit", "new_limit", "officer", "reason")
    readonly_fields = fields
    ordering = ("-created_at",)
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("officer")


class RateChangeInline(ViewOnlyInline):
    model = RateChange
    fields = ("created_at", "business_date", "old_rate", "new_rate", "reason")
    readonly_fields = fields
    ordering = ("-created_at",)
    show_change_link = False


class LoanInline(ViewOnlyInline):
    model = Loan
    fields = ("disbursed_on", "principal", "outstanding_principal", "term_months", "apr",
              "status", "days_past_due")
    readonly_fields = fields
    ordering = ("-disbursed_on", "-pk")


@admin.register(CreditLine)
class CreditLineAdmin(ActionWithFormMixin, ViewOnlyAdmin):
    """Nothing on a line is edited in a form: who and what it is for is fixed when it opens, and
    its limit, balance, rate and status move only through services (the actions here)."""

    list_display = ("id", "customer", "product", "credit_limit", "outstanding_principal",
                    "available", "daily_rate", "status", "opened_on")
    list_filter = ("status", "product")
    list_select_related = ("customer", "product")
    search_fields = ("customer__username", "customer__email", "customer__phone")
    search_help_text = "Line number, or the customer's username, email or phone"
    show_full_result_count = False
    fields = ("customer", "product", "credit_limit", "outstanding_principal", "available",
              "daily_rate", "status", "frozen_by", "freeze_reason", "officer_cap", "opened_on",
              "updated_at")
    readonly_fields = fields
    inlines = [LimitChangeInline, RateChangeInline, LoanInline]
    actions = ["lower_limit", "raise_limit", "freeze", "unfreeze", "lift_cap"]

    @admin.display(description="Available")
    def available(self, obj):
        return obj.available

    def get_search_results(self, request, queryset, search_term):
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        line_id = id_from(search_term)
        if line_id is not None:
            found |= queryset.filter(pk=line_id)
        return found, may_have_duplicates

    def has_lower_limit_permission(self, request):
        return request.user.has_perm("lending.lower_limit_creditline")

    def has_raise_limit_permission(self, request):
        return request.user.has_perm("lending.raise_limit_creditline")

    def has_freeze_permission(self, request):
        return request.user.has_perm("lending.freeze_creditline")

    def has_lift_cap_permission(self, request):
        return request.user.has_perm("lending.lift_cap_creditline")

    def _line_action(self, request, queryset, *, action_name, title, perform, form_class=ReasonForm,
                     template="admin/lending/creditline/line_action.html", note="",
                     approval=None):
        return self.action_with_form(
            request, queryset.select_related("customer", "product"), action_name=action_name,
            form_class=form_class, template=template, title=title, perform=perform,
            what=f"line to {title.lower()}", approval=approval,
            context=lambda line: {"currency": settings.CURRENCY, "note": note,
                                  "submit_label": title})

    @admin.action(description="Lower limit…", permissions=["lower_limit"])
    def lower_limit(self, request, queryset):
        """降额: an intermediate form for one line, then `line_limit_lower` (or, above the
        thresholds, a request for a second officer's approval)."""

        def lower(line, data):
            change = line_limit_lower(line_id=line.pk, new_limit=data["new_limit"],
                                      reason=data["reason"], officer=request.user)
            return (f"The limit of {line} is now {change.new_limit} (was {change.old_limit}): "
                    f"{change.reason}")

        return self.action_with_form(
            request, queryset.select_related("customer", "product"), action_name="lower_limit",
            form_class=LowerLimitForm, template="admin/lending/creditline/lower_limit.html",
            title="Lower limit", perform=lower, what="line to lower its limit",
            approval=line_limit_lower_approval,
            context=lambda line: {"currency": settings.CURRENCY})

    @admin.action(description="Raise limit…", permissions=["raise_limit"])
    def raise_limit(self, request, queryset):
        """提额: up to the product's largest amount and never above an officer's cap (lifted
        first with "Lift cap…"); above the thresholds, sent for approval."""

        def raise_(line, data):
            raised = line_limit_raise(line_id=line.pk, new_limit=data["new_limit"],
                                      reason=data["reason"], actor=actor_user(request.user),
                                      officer=request.user)
            return (f"The limit of {line} is now {raised.credit_limit} "
                    f"(was {line.credit_limit}): {data['reason']}")

        return self._line_action(
            request, queryset, action_name="raise_limit", title="Raise limit", perform=raise_,
            form_class=RaiseLimitForm, approval=line_limit_raise_approval,
            note="The new limit must be above the current one, at most the product's largest "
                 "amount, and at most an officer's cap while one holds: lift the cap first. "
                 "A large raise is sent to a second officer for approval.")

    @admin.action(description="Freeze…", permissions=["freeze"])
    def freeze(self, request, queryset):
        """冻结: no draws or purchases until an officer unfreezes the line, whatever the
        customer pays."""

        def freeze(line, data):
            if line.frozen_by == FreezeSource.OFFICER:
                raise LendingError("An officer has frozen this line already.")
            credit_line_freeze(line_id=line.pk, reason=data["reason"],
                               actor=actor_user(request.user))
            return f"{line} is frozen until an officer unfreezes it: {data['reason']}"

        return self._line_action(
            request, queryset, action_name="freeze", title="Freeze", perform=freeze,
            note="The customer cannot borrow or make purchases on the line until an officer "
                 "unfreezes it, whatever they pay. Loans already drawn run on.")

    @admin.action(description="Unfreeze…", permissions=["freeze"])
    def unfreeze(self, request, queryset):
        def unfreeze(line, data):
            if line.status != CreditLineStatus.FROZEN:
                raise LendingError("This line is not frozen.")
            credit_line_unfreeze(line_id=line.pk, reason=data["reason"],
                                 actor=actor_user(request.user))
            return f"{line} is open again: {data['reason']}"

        return self._line_action(
            request, queryset, action_name="unfreeze", title="Unfreeze", perform=unfreeze,
            note="The line opens again at once. If the customer is still overdue, the nightly "
                 "close freezes it again.")

    @admin.action(description="Lift cap…", permissions=["lift_cap"])
    def lift_cap(self, request, queryset):
        def lift(line, data):
            if line.officer_cap is None:
                raise LendingError("No officer's cap holds this line.")
            credit_line_cap_lift(line_id=line.pk, reason=data["reason"],
                                 actor=actor_user(request.user))
            return f"The officer's cap on {line} is lifted: {data['reason']}"

        return self._line_action(
            request, queryset, action_name="lift_cap", title="Lift cap", perform=lift,
            note="The limit stays as it is; later raises (an officer's, an accepted offer's or "
                 "the nightly review's) may take it above the cap again.")


@admin.register(LimitChange)
class LimitChangeAdmin(ViewOnlyAdmin):
    list_display = ("created_at", "business_date", "line", "old_limit", "new_limit", "officer",
                    "reason")
    list_filter = (("business_date", admin.DateFieldListFilter),)
    list_select_related = ("line__customer", "line__product", "officer")
    search_fields = ("line__customer__username", "officer__username")
    search_help_text = "Customer's or officer's username"
    show_full_result_count = False
    fields = ("line", "old_limit", "new_limit", "reason", "officer", "business_date",
              "created_at")
    readonly_fields = fields


@admin.register(RateChange)
class RateChangeAdmin(ViewOnlyAdmin):
    """The daily rate for new draws as the nightly rescoring moved it (risk's line reviews say
    which model and probability decided each)."""

    list_display = ("created_at", "business_date", "line", "old_rate", "new_rate", "reason")
    list_filter = (("business_date", admin.DateFieldListFilter),)
    list_select_related = ("line__customer", "line__product")
    search_fields = ("line__customer__username",)
    search_help_text = "Customer's username"
    show_full_result_count = False
    fields = ("line", "old_rate", "new_rate", "reason", "business_date", "created_at")
    readonly_fields = fields
