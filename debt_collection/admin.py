"""The collections workspace in the back office ("Collections"): a collector's queue of cases,
each case with the customer's overdue loans, its contact log and its promises to pay, and the
actions "Log contact…", "Promise to pay…" and, for collections managers, "Reassign…".

Collectors (`debt_collection.work_collectioncase` without `debt_collection.assign_collectioncase`)
see only the cases assigned to them; managers, and readers such as an auditor who work no
cases, see them all.
Identity and phone numbers are masked but for their last four characters for staff without
`accounts.view_unmasked_identity` (accounts.masking), and cannot be searched by."""

from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import admin
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from accounts.masking import identity_visible, mask_tail
from accounts.models import User
from accounts.roles import COLLECTOR
from core.admin import ActionWithFormMixin, ViewOnlyAdmin, ViewOnlyInline, reason_field
from core.calendar import business_date_today
from lending.models import Loan, LoanStatus
from lending.selectors import amount_due_on

from .models import (
    CaseStatus,
    CollectionCase,
    CollectionContact,
    ContactChannel,
    ContactOutcome,
    PromiseStatus,
    PromiseToPay,
)
from .selectors import bucket_priority
from .services import collection_case_reassign, collection_contact_log, promise_to_pay_make
from .services.access import ASSIGN, WORK
from .services.promises import PROMISE_MAX_DAYS


def _sees_only_own(user) -> bool:
    """A collector: works cases, but only their own."""
    return user.has_perm(WORK) and not user.has_perm(ASSIGN)


class LogContactForm(forms.Form):
    channel = forms.ChoiceField(choices=ContactChannel.choices)
    outcome = forms.ChoiceField(choices=ContactOutcome.choices)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 4, "cols": 60}), required=False,
                           help_text="What was said; required when the outcome is Other.")


class PromiseForm(forms.Form):
    amount = forms.DecimalField(label="Amount promised", max_digits=18, decimal_places=2,
                                min_value=0.01)
    promised_for = forms.DateField(label="Pay by",
                                   widget=forms.DateInput(attrs={"type": "date"}))


class ReassignForm(forms.Form):
    to_user = forms.ModelChoiceField(
        label="Collector",
        queryset=User.objects.filter(groups__name=COLLECTOR, is_active=True).order_by("username"))
    reason = reason_field(kept_with="the case")


class QueueFilter(admin.SimpleListFilter):
    """Which cases: a collector's own open cases by default; everyone else's default is every
    open case."""

    title = "queue"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        choices = [("mine", "My queue")]
        if not _sees_only_own(request.user):
            choices += [("open", "All open"), ("unassigned", "Unassigned")]
        return [*choices, ("closed", "Closed")]

    def value(self):
        chosen = super().value()
        if chosen is None:
            return "mine" if _sees_only_own(self.request.user) else "open"
        return chosen

    def __init__(self, request, params, model, model_admin):
        self.request = request
        super().__init__(request, params, model, model_admin)

    def choices(self, changelist):
        # No "All": a queue is open cases or closed ones, never both in one list.
        for lookup, title in self.lookup_choices:
            yield {"selected": self.value() == lookup,
                   "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                   "display": title}

    def queryset(self, request, queryset):
        chosen = self.value()
        if chosen == "closed":
            return queryset.filter(status=CaseStatus.CLOSED)
        queryset = queryset.filter(status=CaseStatus.OPEN)
        if chosen == "mine":
            return queryset.filter(assigned_to=request.user)
        if chosen == "unassigned":
            return queryset.filter(assigned_to__isnull=True)
        return queryset


class ContactInline(ViewOnlyInline):
    model = CollectionContact
    fields = ("created_at", "business_date", "collector", "channel", "outcome", "note")
    readonly_fields = fields
    ordering = ("-created_at",)
    show_change_link = False


class PromiseInline(ViewOnlyInline):
    model = PromiseToPay
    fields = ("made_on", "made_by", "amount", "promised_for", "status", "amount_paid",
              "resolved_on")
    readonly_fields = fields
    ordering = ("-made_on", "-pk")
    show_change_link = False


class CustomerIdentityMixin:
    """The customer's name, phone and identity number, masked unless the viewer may see them
    whole. Columns and fields name `phone`, `id_number` and `customer_and_phone`; each request
    gets the masked or the whole method in their place."""

    @admin.display(description="Customer name")
    def customer_name(self, obj):
        profile = getattr(obj.customer, "profile", None)
        return profile.full_name if profile else ""

    @admin.display(description="Phone")
    def phone(self, obj):
        return obj.customer.phone

    @admin.display(description="Phone")
    def phone_masked(self, obj):
        return mask_tail(obj.customer.phone)

    @admin.display(description="Identity number")
    def id_number(self, obj):
        profile = getattr(obj.customer, "profile", None)
        return profile.id_number if profile else ""

    @admin.display(description="Identity number")
    def id_number_masked(self, obj):
        return mask_tail(self.id_number(obj))

    @admin.display(description="Customer")
    def customer_and_phone(self, obj):
        return self._name_over(obj, self.phone(obj))

    @admin.display(description="Customer")
    def customer_and_phone_masked(self, obj):
        return self._name_over(obj, self.phone_masked(obj))

    def _name_over(self, obj, phone):
        """The customer's name (their username before they applied), the phone under it."""
        name = self.customer_name(obj) or obj.customer.get_username()
        return format_html("{}<br><small>{}</small>", name, phone) if phone else name

    @staticmethod
    def _for(request, names):
        if identity_visible(request.user):
            return tuple(names)
        swap = {"phone": "phone_masked", "id_number": "id_number_masked",
                "customer_and_phone": "customer_and_phone_masked"}
        return tuple(swap.get(name, name) for name in names)


@admin.register(CollectionCase)
class CollectionCaseAdmin(CustomerIdentityMixin, ActionWithFormMixin, ViewOnlyAdmin):
    """Cases are opened, updated and closed by the nightly close; people only log contacts,
    take promises and reassign, through the actions."""

    # What a collector works the queue by, in narrow columns beside the sidebar and filter.
    # (The first column links to the case.)
    list_display = ("customer_and_phone", "bucket_code", "days_late", "overdue", "promise",
                    "collector")
    list_select_related = ("customer__profile", "assigned_to")
    search_fields = ("customer__username", "customer__profile__full_name")
    search_help_text = "Customer's username or name"
    show_full_result_count = False
    fields = ("customer", "customer_name", "phone", "id_number", "status", "bucket",
              "days_past_due", "amount_overdue", "promise_broken_on", "assigned_to",
              "assigned_on", "opened_on", "updated_on", "closed_on", "overdue_loans")
    inlines = [PromiseInline, ContactInline]
    actions = ["log_contact", "promise_to_pay", "reassign"]

    def get_queryset(self, request):
        # Annotated before ordering: the order is by the annotation.
        pending = PromiseToPay.objects.filter(case=OuterRef("pk"), status=PromiseStatus.PENDING)
        cases = (self.model._default_manager
                 .annotate(priority=bucket_priority(), promise_pending=Exists(pending))
                 .order_by(*self.get_ordering(request)))
        if _sees_only_own(request.user):
            cases = cases.filter(assigned_to=request.user)
        return cases

    def get_ordering(self, request):
        # The queue's priority (debt_collection.selectors.cases_in_priority).
        return ("-priority", "-amount_overdue", "-days_past_due", "pk")

    def get_list_filter(self, request):
        if _sees_only_own(request.user):
            return (QueueFilter, "bucket")
        return (QueueFilter, "bucket", ("assigned_to", admin.RelatedOnlyFieldListFilter))

    def get_list_display(self, request):
        return self._for(request, super().get_list_display(request))

    def get_fields(self, request, obj=None):
        return self._for(request, super().get_fields(request, obj))

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    @admin.display(description="Bucket", ordering="priority")
    def bucket_code(self, obj):
        return obj.bucket

    @admin.display(description="Days late", ordering="days_past_due")
    def days_late(self, obj):
        return obj.days_past_due

    @admin.display(description="Overdue", ordering="amount_overdue")
    def overdue(self, obj):
        return obj.amount_overdue

    @admin.display(description="Promise")
    def promise(self, obj):
        """A promise broken (until a new one is taken), or one waiting for its date."""
        if obj.promise_broken_on:
            return "Broken"
        return "Pending" if obj.promise_pending else ""

    @admin.display(description="Collector", ordering="assigned_to__username")
    def collector(self, obj):
        return obj.assigned_to or ""

    @admin.display(description="The customer's late loans")
    def overdue_loans(self, obj):
        today = business_date_today()
        loans = Loan.objects.filter(
            Q(overdue_since__isnull=False, status=LoanStatus.ACTIVE)
            | Q(status=LoanStatus.WRITTEN_OFF), line__customer_id=obj.customer_id)
        rows = [(reverse("admin:lending_loan_change", args=[loan.pk]), loan.pk,
                 loan.disbursed_on, loan.principal, loan.outstanding_principal,
                 loan.days_past_due, loan.get_status_display(),
                 amount_due_on(loan, today) if loan.status == LoanStatus.ACTIVE else "-")
                for loan in loans.order_by("pk")]
        if not rows:
            return "None"
        return format_html(
            "<table><thead><tr><th>Loan</th><th>Drawn</th><th>Principal</th>"
            "<th>Outstanding</th><th>Days past due</th><th>Status</th><th>Due today</th>"
            "</tr></thead><tbody>{}</tbody></table>",
            format_html_join("", "<tr><td><a href=\"{}\">{}</a></td><td>{}</td><td>{}</td>"
                                 "<td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows))

    def has_work_permission(self, request):
        return request.user.has_perm(WORK) or request.user.has_perm(ASSIGN)

    def has_assign_permission(self, request):
        return request.user.has_perm(ASSIGN)

    def _page(self, case):
        return {"currency": settings.CURRENCY, "today": business_date_today(),
                "max_days": PROMISE_MAX_DAYS}

    @admin.action(description="Log contact…", permissions=["work"])
    def log_contact(self, request, queryset):
        def log(case, data):
            contact = collection_contact_log(case_id=case.pk, collector=request.user,
                                             channel=data["channel"], outcome=data["outcome"],
                                             note=data["note"])
            return (f"Logged on {case}: {contact.get_channel_display()}, "
                    f"{contact.get_outcome_display()}.")

        return self.action_with_form(
            request, queryset.select_related("customer"), action_name="log_contact",
            form_class=LogContactForm,
            template="admin/debt_collection/collectioncase/log_contact.html",
            title="Log contact", perform=log, what="case", context=self._page)

    @admin.action(description="Promise to pay…", permissions=["work"])
    def promise_to_pay(self, request, queryset):
        def promise(case, data):
            made = promise_to_pay_make(case_id=case.pk, collector=request.user,
                                       amount=data["amount"], promised_for=data["promised_for"])
            return (f"Promise on {case}: {made.amount} {settings.CURRENCY} by "
                    f"{made.promised_for}.")

        def page(case):
            today = business_date_today()
            return {**self._page(case), "latest": today + timedelta(days=PROMISE_MAX_DAYS)}

        return self.action_with_form(
            request, queryset.select_related("customer"), action_name="promise_to_pay",
            form_class=PromiseForm,
            template="admin/debt_collection/collectioncase/promise_to_pay.html",
            title="Promise to pay", perform=promise, what="case", context=page)

    @admin.action(description="Reassign…", permissions=["assign"])
    def reassign(self, request, queryset):
        def move(case, data):
            collection_case_reassign(case_id=case.pk, to_user=data["to_user"],
                                     manager=request.user, reason=data["reason"])
            return f"{case} is now assigned to {data['to_user']}."

        return self.action_with_form(
            request, queryset.select_related("customer", "assigned_to"), action_name="reassign",
            form_class=ReassignForm,
            template="admin/debt_collection/collectioncase/reassign.html",
            title="Reassign", perform=move, what="case", context=self._page)


class _OwnCasesOnly:
    """Collectors see only the rows of their own cases."""

    def get_queryset(self, request):
        rows = super().get_queryset(request)
        return rows.filter(case__assigned_to=request.user) if _sees_only_own(request.user) \
            else rows


@admin.register(CollectionContact)
class CollectionContactAdmin(_OwnCasesOnly, ViewOnlyAdmin):
    list_display = ("created_at", "business_date", "case", "collector", "channel", "outcome")
    list_filter = ("channel", "outcome", ("business_date", admin.DateFieldListFilter))
    list_select_related = ("case__customer", "collector")
    show_full_result_count = False
    fields = ("case", "collector", "channel", "outcome", "note", "business_date", "created_at")
    readonly_fields = fields


@admin.register(PromiseToPay)
class PromiseToPayAdmin(_OwnCasesOnly, ViewOnlyAdmin):
    list_display = ("made_on", "case", "made_by", "amount", "promised_for", "status",
                    "amount_paid", "resolved_on")
    list_filter = ("status", ("promised_for", admin.DateFieldListFilter))
    list_select_related = ("case__customer", "made_by")
    show_full_result_count = False
    fields = ("case", "made_by", "made_on", "amount", "promised_for", "status", "amount_paid",
              "resolved_on", "created_at")
    readonly_fields = fields


# The officers' queue of hardship requests registers itself (its own module: another part of
# the back office).
from . import admin_hardship  # noqa: E402, F401
