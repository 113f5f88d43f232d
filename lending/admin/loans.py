"""Loans and what hangs on them: schedules, fundings, repayments."""

from django.contrib import admin

from core.admin import ViewOnlyAdmin, ViewOnlyInline

from ..models import Instalment, Loan, LoanFunding, Repayment
from .search import ByLoanNumberSearch, id_from


class InstalmentInline(ViewOnlyInline):
    model = Instalment
    fields = ("seq", "due_date", "principal_due", "interest_due", "fee_due", "penalty_due",
              "total_paid", "status", "paid_on")
    readonly_fields = fields


class LoanFundingInline(ViewOnlyInline):
    model = LoanFunding
    fields = ("partner_bank", "share", "principal", "outstanding_principal")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("partner_bank")


class RepaymentInline(ViewOnlyInline):
    model = Repayment
    fields = ("paid_on", "amount", "principal", "interest", "fee", "penalty", "created_at")
    readonly_fields = fields
    ordering = ("paid_on", "pk")


class DaysPastDueFilter(admin.SimpleListFilter):
    """The collectors' buckets: current, M1 (1-30 days), M2, M3 and beyond 90 days."""

    title = "days past due"
    parameter_name = "dpd"
    BUCKETS = {
        "0": ("Current", {"days_past_due": 0}),
        "m1": ("1-30 (M1)", {"days_past_due__range": (1, 30)}),
        "m2": ("31-60 (M2)", {"days_past_due__range": (31, 60)}),
        "m3": ("61-90 (M3)", {"days_past_due__range": (61, 90)}),
        "m3+": ("Over 90", {"days_past_due__gt": 90}),
    }

    def lookups(self, request, model_admin):
        return [(key, label) for key, (label, _lookup) in self.BUCKETS.items()]

    def queryset(self, request, queryset):
        if self.value() in self.BUCKETS:
            return queryset.filter(**self.BUCKETS[self.value()][1])
        return queryset


@admin.register(Loan)
class LoanAdmin(ViewOnlyAdmin):
    list_display = ("id", "customer", "product", "principal", "outstanding_principal",
                    "term_months", "apr", "status", "days_past_due", "disbursed_on")
    list_filter = ("status", DaysPastDueFilter, "method",
                   ("disbursed_on", admin.DateFieldListFilter))
    list_select_related = ("line__customer", "line__product")
    search_fields = ("=line__customer__username", "=line__customer__email",
                     "=line__customer__phone")
    search_help_text = "Loan number, or the customer's exact username, email or phone"
    show_full_result_count = False
    fields = ("line", "principal", "outstanding_principal", "term_months", "method",
              "daily_rate", "apr", "disbursed_on", "status", "days_past_due", "paid_off_on",
              "created_at")
    readonly_fields = fields
    inlines = [InstalmentInline, LoanFundingInline, RepaymentInline]

    @admin.display(description="Customer", ordering="line__customer__username")
    def customer(self, obj):
        return obj.line.customer

    @admin.display(description="Product", ordering="line__product__code")
    def product(self, obj):
        return obj.line.product.code

    def get_search_results(self, request, queryset, search_term):
        # A phone number is digits too: a number matches a loan or a customer, whichever it is.
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        loan_id = id_from(search_term)
        if loan_id is not None:
            found |= queryset.filter(pk=loan_id)
        return found, may_have_duplicates


@admin.register(LoanFunding)
class LoanFundingAdmin(ByLoanNumberSearch, ViewOnlyAdmin):
    list_display = ("loan", "partner_bank", "share", "principal", "outstanding_principal")
    list_filter = ("partner_bank",)
    list_select_related = ("loan", "partner_bank")
    show_full_result_count = False
    fields = ("loan", "partner_bank", "share", "principal", "outstanding_principal")
    readonly_fields = fields


@admin.register(Instalment)
class InstalmentAdmin(ByLoanNumberSearch, ViewOnlyAdmin):
    list_display = ("loan", "seq", "due_date", "principal_due", "interest_due", "fee_due",
                    "penalty_due", "total_paid", "status", "paid_on")
    list_filter = ("status", ("due_date", admin.DateFieldListFilter))
    list_select_related = ("loan",)
    show_full_result_count = False
    fields = ("loan", "seq", "period_start", "due_date", "principal_due", "interest_due",
              "fee_due", "penalty_due", "principal_paid", "interest_paid", "fee_paid",
              "penalty_paid", "total_due", "total_paid", "remaining", "interest_settled_to",
              "interest_accrued", "status", "paid_on")
    readonly_fields = fields


@admin.register(Repayment)
class RepaymentAdmin(ByLoanNumberSearch, ViewOnlyAdmin):
    list_display = ("id", "loan", "paid_on", "amount", "principal", "interest", "fee",
                    "penalty", "created_at")
    list_filter = (("paid_on", admin.DateFieldListFilter),)
    list_select_related = ("loan",)
    show_full_result_count = False
    fields = ("loan", "paid_on", "amount", "principal", "interest", "fee", "penalty",
              "created_at")
    readonly_fields = fields
