"""The ledger: the chart, journal entries and postings, all read-only."""

from django.contrib import admin

from core.admin import ViewOnlyAdmin, ViewOnlyInline

from ..models import JournalEntry, LedgerAccount, Posting
from .search import ByLoanNumberSearch


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
