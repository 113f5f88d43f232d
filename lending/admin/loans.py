"""Loans and what hangs on them: schedules (with the versions term extensions superseded),
fundings, repayments, penalty waivers; and the officer's actions on a loan: extend its term
(展期, lending/admin/extension.py), waive penalty (减免罚息), write it off (核销)."""

from django import forms
from django.conf import settings
from django.contrib import admin

from core.admin import ActionWithFormMixin, ViewOnlyAdmin, ViewOnlyInline, reason_field
from core.audit import actor_user

from ..approvals import loan_penalty_waive_approval, loan_write_off_approval, unpaid_penalty
from ..models import Instalment, Loan, LoanExtension, LoanFunding, PenaltyWaiver, Repayment
from ..services import loan_penalty_waive, loan_write_off
from .extension import ExtendTermActionMixin
from .search import ByLoanNumberSearch, id_from


class InstalmentInline(ViewOnlyInline):
    """The whole schedule: the live rows, and those a term extension superseded (kept, owing
    nothing; as they stood on the extension's page)."""

    model = Instalment
    fields = ("seq", "due_date", "principal_due", "interest_due", "fee_due", "penalty_due",
              "total_paid", "status", "carried", "paid_on")
    readonly_fields = fields


class LoanExtensionInline(ViewOnlyInline):
    """The term extensions, each linking to the schedule it superseded."""

    model = LoanExtension
    fk_name = "loan"
    verbose_name = "term extension (superseded schedule version)"
    verbose_name_plural = "term extensions (superseded schedule versions)"
    fields = ("business_date", "extra_months", "old_term_months", "new_term_months",
              "old_daily_rate", "new_daily_rate", "old_apr", "new_apr", "reason", "officer")
    readonly_fields = fields
    ordering = ("pk",)


class PenaltyWaiverInline(ViewOnlyInline):
    model = PenaltyWaiver
    fields = ("business_date", "amount", "by_instalment", "reason", "officer")
    readonly_fields = fields
    ordering = ("pk",)


class WaivePenaltyForm(forms.Form):
    amount = forms.DecimalField(
        label="Amount to waive", max_digits=18, decimal_places=2, min_value=0, required=False,
        help_text="Leave empty to waive all the unpaid penalty interest.")
    reason = reason_field(kept_with="the waiver")


class WriteOffForm(forms.Form):
    reason = reason_field(kept_with="the write-off")


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
class LoanAdmin(ExtendTermActionMixin, ActionWithFormMixin, ViewOnlyAdmin):
    """Loans are read here; their schedule and balances move only through the services (the
    actions here, repayments, the close)."""

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
    inlines = [InstalmentInline, LoanExtensionInline, LoanFundingInline, RepaymentInline,
               PenaltyWaiverInline]
    actions = ["extend_term", "waive_penalty", "write_off"]

    def has_waive_penalty_permission(self, request):
        return request.user.has_perm("lending.waive_penalty_loan")

    def has_write_off_permission(self, request):
        return request.user.has_perm("lending.write_off_loan")

    def _loan_action(self, request, queryset, *, action_name, title, form_class, perform,
                     approval, note):
        return self.action_with_form(
            request, queryset.select_related("line__customer", "line__product"),
            action_name=action_name, form_class=form_class,
            template="admin/lending/loan/loan_action.html", title=title, perform=perform,
            what=f"loan to {title.lower()}", approval=approval,
            context=lambda loan: {"currency": settings.CURRENCY, "note": note,
                                  "submit_label": title,
                                  "unpaid_penalty": unpaid_penalty(loan)})

    @admin.action(description="Waive penalty…", permissions=["waive_penalty"])
    def waive_penalty(self, request, queryset):
        """减免罚息: all or part of the unpaid penalty interest, oldest first; above the
        maker-checker threshold, sent for a second officer's approval."""

        def waive(loan, data):
            waiver = loan_penalty_waive(loan_id=loan.pk, amount=data["amount"],
                                        reason=data["reason"], actor=actor_user(request.user))
            return f"Waived {waiver.amount} of penalty interest on {loan}: {waiver.reason}"

        return self._loan_action(
            request, queryset, action_name="waive_penalty", title="Waive penalty",
            form_class=WaivePenaltyForm, perform=waive, approval=loan_penalty_waive_approval,
            note="The penalty is lowered oldest instalment first and reversed from the books; "
                 "the customer is told. A large waiver is sent to a second officer.")

    @admin.action(description="Write off…", permissions=["write_off"])
    def write_off(self, request, queryset):
        """核销 by hand, before the product's write-off days; above the maker-checker
        threshold, sent for a second officer's approval."""

        def write_off(loan, data):
            done = loan_write_off(loan_id=loan.pk, reason=data["reason"],
                                  actor=actor_user(request.user))
            return (f"{loan} is written off: {done.principal} of principal off the books "
                    f"({done.reason})")

        return self._loan_action(
            request, queryset, action_name="write_off", title="Write off",
            form_class=WriteOffForm, perform=write_off, approval=loan_write_off_approval,
            note="The principal leaves the books (each funder bears its share) and the "
                 "interest and penalty receivable are reversed; the customer still owes it "
                 "all, and money received later is a recovery. A large write-off is sent to a "
                 "second officer.")

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
