"""Credit lines, their limit changes, and the officer's limit reduction (降额)."""

from django import forms
from django.conf import settings
from django.contrib import admin

from core.admin import ActionWithFormMixin, ViewOnlyAdmin, ViewOnlyInline, reason_field

from ..models import CreditLine, LimitChange, Loan, RateChange
from ..services import line_limit_lower
from .search import id_from


class LowerLimitForm(forms.Form):
    new_limit = forms.DecimalField(label="New limit", max_digits=18, decimal_places=2,
                                   min_value=0)
    reason = reason_field(kept_with="the limit change")


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
              "daily_rate", "status", "opened_on", "updated_at")
    readonly_fields = fields
    inlines = [LimitChangeInline, RateChangeInline, LoanInline]
    actions = ["lower_limit"]

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

    @admin.action(description="Lower limit…", permissions=["lower_limit"])
    def lower_limit(self, request, queryset):
        """降额: an intermediate form for one line, then `line_limit_lower`."""

        def lower(line, data):
            change = line_limit_lower(line_id=line.pk, new_limit=data["new_limit"],
                                      reason=data["reason"], officer=request.user)
            return (f"The limit of {line} is now {change.new_limit} (was {change.old_limit}): "
                    f"{change.reason}")

        return self.action_with_form(
            request, queryset.select_related("customer", "product"), action_name="lower_limit",
            form_class=LowerLimitForm, template="admin/lending/creditline/lower_limit.html",
            title="Lower limit", perform=lower, what="line to lower its limit",
            context=lambda line: {"currency": settings.CURRENCY})


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
