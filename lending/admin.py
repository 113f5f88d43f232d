"""The back office for risk officers and collectors (DESIGN.md §4 "Admin").

What is booked — schedules, repayments, fundings, the ledger, limit changes, close steps — is
shown and never edited or deleted here: it changes only through `lending.services`, and the
database refuses updates to several of those tables anyway. A line's limit, balance, rate and
status are read-only too; an officer changes them through an action with an intermediate form
that calls the service, so the change is checked, locked and recorded like any other."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse

from accounts.admin_base import ViewOnlyAdmin, ViewOnlyInline

from .errors import LendingError
from .models import (
    BusinessDate,
    CloseStep,
    CreditLine,
    CreditProduct,
    IdempotencyRecord,
    Instalment,
    JournalEntry,
    LedgerAccount,
    LimitChange,
    Loan,
    LoanFunding,
    Posting,
    Repayment,
)
from .services import credit_product_create, line_limit_lower

# Postgres bigint: a longer number typed into a search box must not reach the database.
_LARGEST_ID = 2**63 - 1


def _id_from(term):
    term = term.strip()
    # isascii: "²" is a digit to str.isdigit but not a number to int().
    if term.isascii() and term.isdigit() and int(term) <= _LARGEST_ID:
        return int(term)
    return None


class ByLoanNumberSearch:
    """Search a big table by loan number through the loan_id index.

    Django's own `=loan__id` search would fail on a term that is not a number, and
    `loan__id__exact` casts every row's id to text, which no index can serve."""

    search_fields = ("loan__id",)
    search_help_text = "Loan number"

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        loan_id = _id_from(search_term)
        if loan_id is None:
            return queryset.none(), False
        return queryset.filter(loan_id=loan_id), False


# Products --------------------------------------------------------------------------------------

_PRODUCT_FIELDS = [
    "code", "name", "kind", "min_daily_rate", "max_daily_rate", "penalty_daily_rate",
    "allowed_terms", "repayment_methods", "grace_days", "min_amount", "max_amount", "apr_cap",
    "max_partner_share",
]


@admin.register(CreditProduct)
class CreditProductAdmin(admin.ModelAdmin):
    """Staff read products; only superusers set their terms, which apply to future loans."""

    list_display = ("code", "name", "kind", "min_daily_rate", "max_daily_rate",
                    "penalty_daily_rate", "apr_cap", "min_amount", "max_amount", "grace_days",
                    "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("code", "name")

    def get_fields(self, request, obj=None):
        # A new product starts active (the create service knows no other way); editing it
        # later can withdraw it.
        return _PRODUCT_FIELDS if obj is None else [*_PRODUCT_FIELDS, "is_active"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        # Lines hang on the code and kind, and amounts are never edited in the admin.
        return ("code", "kind", "min_amount", "max_amount")

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        # Lines and their history refer to the product; `is_active` withdraws it instead.
        return False

    def save_model(self, request, obj, form, change):
        if change:
            # There is no product-update service: the form has run the model's full_clean,
            # constraints included, which is what the create service checks too.
            super().save_model(request, obj, form, change)
            return
        created = credit_product_create(
            **{name: form.cleaned_data[name] for name in _PRODUCT_FIELDS})
        # The admin goes on with `obj` (its history entry, its redirect): make it the saved row.
        obj.pk = created.pk
        obj.refresh_from_db()


# Credit lines and the officer's limit reduction -----------------------------------------------

class LowerLimitForm(forms.Form):
    new_limit = forms.DecimalField(label="New limit", max_digits=18, decimal_places=2,
                                   min_value=0)
    reason = forms.CharField(label="Reason", widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
                             help_text="Kept with the limit change for audit.")


class LimitChangeInline(ViewOnlyInline):
    model = LimitChange
    fields = ("created_at", "business_date", "old_limit", "new_limit", "officer", "reason")
    readonly_fields = fields
    ordering = ("-created_at",)
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("officer")


class LoanInline(ViewOnlyInline):
    model = Loan
    fields = ("disbursed_on", "principal", "outstanding_principal", "term_months", "apr",
              "status", "days_past_due")
    readonly_fields = fields
    ordering = ("-disbursed_on", "-pk")


@admin.register(CreditLine)
class CreditLineAdmin(ViewOnlyAdmin):
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
    inlines = [LimitChangeInline, LoanInline]
    actions = ["lower_limit"]

    @admin.display(description="Available")
    def available(self, obj):
        return obj.available

    def get_search_results(self, request, queryset, search_term):
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        line_id = _id_from(search_term)
        if line_id is not None:
            found |= queryset.filter(pk=line_id)
        return found, may_have_duplicates

    def has_lower_limit_permission(self, request):
        return request.user.has_perm("lending.lower_limit_creditline")

    @admin.action(description="Lower limit…", permissions=["lower_limit"])
    def lower_limit(self, request, queryset):
        """降额: an intermediate form for one line, then `line_limit_lower`."""
        selected = list(queryset.select_related("customer", "product")[:2])
        if len(selected) != 1:
            self.message_user(request, "Select exactly one line to lower its limit.",
                              messages.WARNING)
            return None
        line = selected[0]
        if "apply" in request.POST:
            form = LowerLimitForm(request.POST)
            if form.is_valid():
                try:
                    change = line_limit_lower(line_id=line.pk,
                                              new_limit=form.cleaned_data["new_limit"],
                                              reason=form.cleaned_data["reason"],
                                              officer=request.user)
                except LendingError as error:
                    form.add_error(None, str(error))
                else:
                    self.log_change(request, line, f"Lowered the limit from {change.old_limit} "
                                                   f"to {change.new_limit}: {change.reason}")
                    self.message_user(request, f"The limit of {line} is now {change.new_limit} "
                                               f"(was {change.old_limit}).", messages.SUCCESS)
                    return None
        else:
            form = LowerLimitForm()
        context = {
            **self.admin_site.each_context(request),
            "title": "Lower limit",
            "subtitle": str(line),
            "opts": self.opts,
            "line": line,
            "form": form,
            "currency": settings.CURRENCY,
            "action_name": "lower_limit",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/lending/creditline/lower_limit.html", context)


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


# Loans and what hangs on them -------------------------------------------------------------------

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
        loan_id = _id_from(search_term)
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


# The calendar and the nightly close ------------------------------------------------------------

@admin.register(BusinessDate)
class BusinessDateAdmin(ViewOnlyAdmin):
    list_display = ("current",)
    fields = ("current",)
    readonly_fields = fields


@admin.register(CloseStep)
class CloseStepAdmin(ViewOnlyAdmin):
    list_display = ("business_date", "step", "rows", "seconds", "finished_at")
    list_filter = ("step", ("business_date", admin.DateFieldListFilter))
    ordering = ("-business_date", "-finished_at")
    fields = ("business_date", "step", "rows", "seconds", "finished_at")
    readonly_fields = fields


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ViewOnlyAdmin):
    list_display = ("scope", "key", "created_at")
    search_fields = ("=scope", "=key")
    search_help_text = "Exact caller or key"
    show_full_result_count = False
    fields = ("scope", "key", "request_hash", "result", "created_at")
    readonly_fields = fields


# The ledger -------------------------------------------------------------------------------------

@admin.register(LedgerAccount)
class LedgerAccountAdmin(ViewOnlyAdmin):
    """The chart is made by `chart_of_accounts_ensure`; services find accounts by code."""

    list_display = ("code", "name", "kind", "partner_bank")
    list_filter = ("kind", "partner_bank")
    list_select_related = ("partner_bank",)
    search_fields = ("code", "name")
    ordering = ("code",)
    fields = ("code", "name", "kind", "partner_bank")
    readonly_fields = fields


class PostingInline(ViewOnlyInline):
    model = Posting
    fields = ("account", "loan", "amount")
    readonly_fields = fields
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("account", "loan")


@admin.register(JournalEntry)
class JournalEntryAdmin(ByLoanNumberSearch, ViewOnlyAdmin):
    list_display = ("id", "kind", "business_date", "loan", "memo", "created_at")
    list_filter = (("business_date", admin.DateFieldListFilter),)
    list_select_related = ("loan",)
    show_full_result_count = False
    fields = ("kind", "business_date", "loan", "memo", "created_at")
    readonly_fields = fields
    inlines = [PostingInline]


@admin.register(Posting)
class PostingAdmin(ByLoanNumberSearch, ViewOnlyAdmin):
    list_display = ("id", "entry", "account", "loan", "amount")
    list_filter = ("account__kind", "account")
    list_select_related = ("entry", "account", "loan")
    show_full_result_count = False
    fields = ("entry", "account", "loan", "amount")
    readonly_fields = fields
