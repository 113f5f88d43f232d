"""The officer's "Extend term…" (展期) on a loan, and the record of each extension.

Two steps on one page, as the quote before borrowing: the officer gives the extra months, an
optional lower rate and a reason; "Preview" shows the rows replaced and the new schedule side by
side with both APRs and totals (`loan_extension_quote`), and carries the quote's fingerprint in
a hidden field; "Book this extension" calls `loan_term_extend(shown=fingerprint)`, which
recomputes the quote under the loan's lock and refuses it if it differs, so what is booked is
exactly what was shown. An extension longer than the maker-checker threshold is sent for a
second officer's approval instead, with the same fingerprint (lending/approvals.py)."""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join

from core.admin import ViewOnlyAdmin, reason_field
from core.audit import actor_user
from core.errors import DomainError

from ..approvals import loan_extend_approval
from ..models import LoanExtension
from ..services import loan_extension_quote, loan_term_extend
from .search import ByLoanNumberSearch


class ExtendTermForm(forms.Form):
    extra_months = forms.IntegerField(label="Extra months", min_value=1)
    daily_rate = forms.DecimalField(
        label="New daily rate", max_digits=10, decimal_places=8, min_value=0, required=False,
        help_text="Leave empty to keep the loan's rate; it may be lowered, never raised.")
    reason = reason_field(kept_with="the extension")
    # The fingerprint of the quote previewed: the booking books that quote or nothing.
    shown = forms.CharField(widget=forms.HiddenInput, required=False)


class ExtendTermActionMixin:
    """"Extend term…" for LoanAdmin (with core.admin.ActionWithFormMixin's `approval_send`)."""

    def has_extend_term_permission(self, request):
        return request.user.has_perm("lending.extend_term_loan")

    @admin.action(description="Extend term…", permissions=["extend_term"])
    def extend_term(self, request, queryset):
        selected = list(queryset.select_related("line__customer", "line__product")[:2])
        if len(selected) != 1:
            self.message_user(request, "Select exactly one loan to extend.", messages.WARNING)
            return None
        loan = selected[0]
        quote = None
        form = ExtendTermForm()
        if "book" in request.POST or "preview" in request.POST:
            form = ExtendTermForm(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    if "book" in request.POST:
                        return self._extension_book(request, loan, data)
                    quote = loan_extension_quote(loan=loan, extra_months=data["extra_months"],
                                                 daily_rate=data["daily_rate"])
                except DomainError as error:
                    form.add_error(None, str(error))
                else:
                    form = ExtendTermForm(initial={**data, "shown": quote.fingerprint})
        return TemplateResponse(request, "admin/lending/loan/extend_term.html", {
            **self.admin_site.each_context(request),
            "title": "Extend term", "subtitle": str(loan), "opts": self.opts,
            "object": loan, "form": form, "quote": quote,
            "current": loan.instalments.exclude(status="superseded").order_by("seq"),
            "action_name": "extend_term", "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media + form.media, "currency": settings.CURRENCY,
        })

    def _extension_book(self, request, loan, data):
        """Book the previewed quote (or request its approval); a refusal raises DomainError
        for the form. Returns None: the admin goes back to the list with the message."""
        if not data["shown"]:
            raise DomainError("Preview the new schedule before booking it.")
        needed = loan_extend_approval(loan, data)
        if needed is not None:
            done = self.approval_send(request, needed, reason=data["reason"])
        else:
            extension = loan_term_extend(
                loan_id=loan.pk, extra_months=data["extra_months"],
                daily_rate=data["daily_rate"], reason=data["reason"],
                actor=actor_user(request.user), shown=data["shown"])
            done = (f"{loan} is extended by {extension.extra_months} months: "
                    f"{extension.new_term_months} months in all, APR {extension.new_apr}% "
                    f"(was {extension.old_apr}%).")
        self.log_change(request, loan, done)
        self.message_user(request, done, messages.SUCCESS)
        return None


@admin.register(LoanExtension)
class LoanExtensionAdmin(ByLoanNumberSearch, ViewOnlyAdmin):
    """Each extension with the schedule version it superseded, as it stood."""

    list_display = ("id", "loan", "business_date", "extra_months", "old_term_months",
                    "new_term_months", "old_apr", "new_apr", "officer")
    list_select_related = ("loan", "officer")
    list_filter = (("business_date", admin.DateFieldListFilter),)
    show_full_result_count = False
    fields = ("loan", "business_date", "extra_months", "old_term_months", "new_term_months",
              "old_daily_rate", "new_daily_rate", "old_apr", "new_apr", "principal",
              "carried_interest", "carried_penalty", "superseded_schedule", "reason", "officer",
              "fingerprint", "created_at")
    readonly_fields = fields

    @admin.display(description="Superseded schedule (as it stood)")
    def superseded_schedule(self, obj):
        header = format_html("<tr><th>#</th><th>Due</th><th>Status</th><th>Principal</th>"
                             "<th>Interest</th><th>Fee</th><th>Penalty</th><th>Paid</th></tr>")
        rows = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
                                "<td>{}</td><td>{}</td><td>{}</td></tr>", (
            (row["seq"], row["due_date"], row["status"], row["principal_due"],
             row["interest_due"], row["fee_due"], row["penalty_due"],
             sum((Decimal(row[f"{part}_paid"]) for part in ("principal", "interest", "fee",
                                                            "penalty")), Decimal("0.00")))
            for row in obj.old_schedule))
        return format_html('<table data-testid="superseded-schedule">{}{}</table>', header, rows)
