"""The pay-later line (花呗) in the back office: statements with their purchases, plan parts and
payments, purchases with their refunds, instalment plans with their parts. All of it is booked
by `lending.services.revolving` and only shown here."""

from django.contrib import admin

from core.admin import ViewOnlyAdmin, ViewOnlyInline

from ..models import (
    InstalmentPlan,
    PayLaterPayment,
    PlanPart,
    Purchase,
    Refund,
    Statement,
)


class StatementPurchaseInline(ViewOnlyInline):
    model = Purchase
    fk_name = "statement"
    fields = ("posted_on", "merchant", "order_reference", "amount", "refunded",
              "paid_before_billing", "plan")
    readonly_fields = fields


class StatementPartInline(ViewOnlyInline):
    model = PlanPart
    fk_name = "statement"
    fields = ("plan", "seq", "principal", "fee", "status")
    readonly_fields = fields


class StatementPaymentInline(ViewOnlyInline):
    model = PayLaterPayment
    fk_name = "statement"
    fields = ("business_date", "kind", "amount", "penalty", "interest", "fees", "parts",
              "purchases")
    readonly_fields = fields


@admin.register(Statement)
class StatementAdmin(ViewOnlyAdmin):
    list_display = ("id", "line", "seq", "statement_date", "due_date", "status",
                    "minimum_due", "days_past_due")
    list_filter = ("status", "statement_date")
    list_select_related = ("line__customer", "line__product")
    raw_id_fields = ("line",)
    search_fields = ("=line__id", "=line__customer__username")
    show_full_result_count = False
    inlines = (StatementPurchaseInline, StatementPartInline, StatementPaymentInline)


class RefundInline(ViewOnlyInline):
    model = Refund
    fields = ("business_date", "reference", "amount", "unbilled", "to_statement", "to_plan",
              "to_credit", "fees_waived")
    readonly_fields = fields


@admin.register(Purchase)
class PurchaseAdmin(ViewOnlyAdmin):
    list_display = ("id", "line", "merchant", "order_reference", "amount", "refunded",
                    "posted_on", "statement", "plan")
    list_filter = ("posted_on", "merchant")
    list_select_related = ("line__customer", "line__product", "merchant")
    raw_id_fields = ("line", "statement", "plan")
    search_fields = ("=order_reference", "=line__customer__username")
    show_full_result_count = False
    inlines = (RefundInline,)


class PlanPartInline(ViewOnlyInline):
    model = PlanPart
    fk_name = "plan"
    fields = ("seq", "principal", "fee", "status", "statement")
    readonly_fields = fields


@admin.register(InstalmentPlan)
class InstalmentPlanAdmin(ViewOnlyAdmin):
    list_display = ("id", "line", "source", "principal", "term_months", "fee_total", "apr",
                    "status", "created_on")
    list_filter = ("status", "source", "term_months")
    list_select_related = ("line__customer", "line__product")
    raw_id_fields = ("line", "statement")
    show_full_result_count = False
    inlines = (PlanPartInline,)


@admin.register(PayLaterPayment)
class PayLaterPaymentAdmin(ViewOnlyAdmin):
    list_display = ("id", "line", "kind", "amount", "business_date", "statement")
    list_filter = ("kind", "business_date")
    list_select_related = ("line__customer", "line__product")
    raw_id_fields = ("line", "statement", "plan")
    show_full_result_count = False
