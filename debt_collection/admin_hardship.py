"""The officers' queue of hardship requests (困难申请) and their answers.

The changelist shows the requests waiting for an answer first, oldest first. A request's page
shows the customer's situation and the loan's schedule. "Approve…" asks for the extension's
terms (the extra months default to what the customer asked), shows the old and the new
schedule side by side with the new APR (`loan_extension_quote`, the quote the booking repeats),
and only "Approve and book" books it, refused if the quote changed since the preview; an
extension above the maker-checker threshold is instead sent to a second officer
(`debt_collection.approvals`). "Reject…" asks for the reason the customer will read. Both
need `debt_collection.decide_hardshiprequest`."""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Case, IntegerField, Value, When
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from core.admin import ActionWithFormMixin, ViewOnlyAdmin, reason_field
from core.approvals import approval_request
from core.errors import DomainError
from lending.admin.search import id_from
from lending.approvals import extension_needs_approval, thresholds
from lending.models import Instalment
from lending.services.extension import loan_extension_quote

from .approvals import hardship_approve_approval
from .models import HARDSHIP_MONTHS_MAX, HardshipRequest, HardshipStatus
from .services.hardship import hardship_request_approve, hardship_request_reject

DECIDE_PERMISSION = "debt_collection.decide_hardshiprequest"


class ApproveHardshipForm(forms.Form):
    extra_months = forms.IntegerField(label="Extra months", min_value=1,
                                      max_value=HARDSHIP_MONTHS_MAX)
    daily_rate = forms.DecimalField(
        label="Lower daily rate", required=False, max_digits=10, decimal_places=8,
        min_value=Decimal("0.00000001"),
        help_text="Optional, e.g. 0.0004 for 0.04 % a day. Empty keeps the loan's rate; it "
                  "may be lowered, never raised.")
    reason = reason_field(kept_with="the decision, which the customer reads,")
    # The fingerprint of the quote on the preview page: what "Approve and book" books.
    shown = forms.CharField(required=False, widget=forms.HiddenInput)


class RejectHardshipForm(forms.Form):
    reason = reason_field(kept_with="the decision, which the customer reads,")


@admin.register(HardshipRequest)
class HardshipRequestAdmin(ActionWithFormMixin, ViewOnlyAdmin):
    list_display = ("id", "submitted_on", "customer", "loan", "kind", "months_asked", "reason",
                    "status", "decided_by")
    list_filter = ("status", "kind", "reason")
    list_select_related = ("customer", "loan", "decided_by")
    search_fields = ("=customer__username",)
    search_help_text = "The customer's exact username, or the loan number"
    show_full_result_count = False
    fields = ("customer", "loan_link", "kind", "months_asked", "reason", "situation", "status",
              "submitted_on", "created_at", "loan_facts", "schedule", "decided_by",
              "decided_at", "decision_reason", "extension")
    readonly_fields = fields
    actions = ["approve", "reject"]

    def get_ordering(self, request):
        # Waiting requests first, oldest first: the order an officer works them in.
        waiting_first = Case(When(status=HardshipStatus.SUBMITTED, then=Value(0)),
                             default=Value(1), output_field=IntegerField())
        return (waiting_first.asc(), "created_at", "pk")

    def get_search_results(self, request, queryset, search_term):
        # A loan number through the loan's index; Django's own `=loan__id` fails on a word.
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        loan_id = id_from(search_term)
        if loan_id is not None:
            found |= queryset.filter(loan_id=loan_id)
        return found, may_have_duplicates

    def has_decide_permission(self, request):
        return request.user.has_perm(DECIDE_PERMISSION)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # The answers, offered on the request's own page as well as on the list.
        return super().change_view(request, object_id, form_url, {
            **(extra_context or {}), "can_decide": self.has_decide_permission(request),
            "decide_actions": [("approve", "Approve…"), ("reject", "Reject…")]})

    @admin.display(description="Loan")
    def loan_link(self, obj):
        url = reverse("admin:lending_loan_change", args=[obj.loan_id])
        return format_html('<a href="{}">Loan {}</a>', url, obj.loan_id)

    @admin.display(description="The loan now")
    def loan_facts(self, obj):
        loan = obj.loan
        return format_html(
            "{} · outstanding principal {} {} · {} months · APR {}% · {} days past due",
            loan.get_status_display(), loan.outstanding_principal, settings.CURRENCY,
            loan.term_months, loan.apr, loan.days_past_due)

    @admin.display(description="Schedule")
    def schedule(self, obj):
        rows = Instalment.objects.filter(loan_id=obj.loan_id).order_by("seq")
        body = format_html_join(
            "", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
                "<td>{}</td></tr>",
            ((i.seq, i.due_date, i.principal_due, i.interest_due, i.penalty_due,
              i.total_paid, i.get_status_display()) for i in rows))
        return format_html(
            '<table data-testid="hardship-loan-schedule"><thead><tr><th>#</th><th>Due</th>'
            "<th>Principal</th><th>Interest</th><th>Penalty</th><th>Paid</th><th>Status</th>"
            "</tr></thead><tbody>{}</tbody></table>", body)

    @admin.action(description="Reject…", permissions=["decide"])
    def reject(self, request, queryset):
        def reject(hardship, data):
            hardship_request_reject(request_id=hardship.pk, officer=request.user,
                                    decision_reason=data["reason"])
            return f"{hardship} is rejected; the customer is told why."

        return self.action_with_form(
            request, queryset.select_related("loan", "customer"), action_name="reject",
            form_class=RejectHardshipForm,
            template="admin/debt_collection/hardshiprequest/reject.html",
            title="Reject a hardship request", perform=reject, what="request to reject")

    @admin.action(description="Approve…", permissions=["decide"])
    def approve(self, request, queryset):
        """Three steps on one page: the terms, then their preview, then the booking. Each
        submit carries the selected request and the action, as the changelist's own did."""
        selected = list(queryset.select_related("loan", "customer")[:2])
        if len(selected) != 1:
            self.message_user(request, "Select exactly one request to approve.",
                              messages.WARNING)
            return None
        hardship = selected[0]
        quote = None
        if "apply" in request.POST or "preview" in request.POST:
            form = ApproveHardshipForm(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    if "apply" in request.POST:
                        done = self._approve_or_request(request, hardship, data)
                    else:
                        quote = loan_extension_quote(loan=hardship.loan,
                                                     extra_months=data["extra_months"],
                                                     daily_rate=data["daily_rate"])
                except DomainError as error:
                    form.add_error(None, str(error))
                else:
                    if quote is None:
                        self.log_change(request, hardship, done)
                        self.message_user(request, done, messages.SUCCESS)
                        return None
                    form = ApproveHardshipForm(initial={**data, "shown": quote.fingerprint})
        else:
            form = ApproveHardshipForm(initial={"extra_months": hardship.months_asked})
        return TemplateResponse(request, "admin/debt_collection/hardshiprequest/approve.html", {
            **self.admin_site.each_context(request),
            "title": "Approve a hardship request", "subtitle": str(hardship),
            "opts": self.opts, "object": hardship, "form": form, "quote": quote,
            "needs_second_officer": (quote is not None and extension_needs_approval(
                quote.extra_months, thresholds())),
            "current": Instalment.objects.filter(loan_id=hardship.loan_id).order_by("seq"),
            "action_name": "approve", "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media + form.media, "currency": settings.CURRENCY,
        })

    def _approve_or_request(self, request, hardship, data) -> str:
        """Book the approval, or, above the maker-checker threshold, ask a second officer to;
        the success message either way."""
        needed = hardship_approve_approval(hardship, data)
        if needed is not None:
            approval = approval_request(
                kind=needed.kind, subject_kind=needed.subject_kind,
                subject_id=needed.subject_id, payload=needed.payload, summary=needed.summary,
                reason=data["reason"], maker=request.user)
            return (f"{hardship} needs a second officer: approval request #{approval.pk} is "
                    "waiting. Nothing is booked until it is approved.")
        hardship_request_approve(
            request_id=hardship.pk, officer=request.user, extra_months=data["extra_months"],
            daily_rate=data["daily_rate"], decision_reason=data["reason"], shown=data["shown"])
        return (f"{hardship} is approved: loan {hardship.loan_id} is extended by "
                f"{data['extra_months']} months.")

