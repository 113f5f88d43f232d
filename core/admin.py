"""Admin building blocks every app's back office uses, the platform's own tables, and the
approvals queue of the maker-checker (`core.approvals`).

Money and status fields are never edited in a form: changes happen through actions with an
intermediate page (a new value, a reason) that call a service (docs/architecture.md, "Admin"),
or, above an app's thresholds, request a second officer's approval."""

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Case, Value, When
from django.template.response import TemplateResponse

from .approvals import (
    DECIDE_PERMISSION,
    approval_approve,
    approval_kind_labels,
    approval_reject,
    approval_request,
)
from .errors import DomainError
from .models import (
    ApprovalRequest,
    ApprovalStatus,
    AuditEvent,
    BusinessDate,
    IdempotencyRecord,
)


def reason_field(label="Reason", kept_with="the change"):
    """The reason an officer gives for a change: required, and kept on the audit trail."""
    return forms.CharField(label=label, widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
                           help_text=f"Kept with {kept_with} for audit.")


class ViewOnlyAdmin(admin.ModelAdmin):
    """Shown to whoever may view it; added, changed and deleted only by the services."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ViewOnlyInline(admin.TabularInline):
    """Rows shown beside their parent, each linking to its own page; never edited here."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ActionWithFormMixin:
    """An admin action on exactly one selected object that asks for more on an intermediate
    page (the template includes "admin/action_form.html"), then calls a service.

    `perform(obj, cleaned_data)` calls the service and returns the success message; a
    `DomainError` it raises is shown on the form, which the officer can correct.

    Maker-checker (`core.approvals`): `approval(obj, cleaned_data)`, when given, says whether
    this change needs a second officer: an `ApprovalNeeded` (what to request) or None. When
    it does, the form's reason goes with an approval request instead of calling `perform`, and
    the maker is told "Sent for approval: <summary>"; nothing changes until a checker approves
    it in the approvals queue."""

    def action_with_form(self, request, queryset, *, action_name, form_class, template, title,
                         perform, context=None, what="object", approval=None):
        selected = list(queryset[:2])
        if len(selected) != 1:
            self.message_user(request, f"Select exactly one {what}.", messages.WARNING)
            return None
        obj = selected[0]
        if "apply" in request.POST:
            form = form_class(request.POST)
            if form.is_valid():
                try:
                    needed = approval(obj, form.cleaned_data) if approval else None
                    if needed is None:
                        done = perform(obj, form.cleaned_data)
                    else:
                        done = self.approval_send(request, needed,
                                                  reason=form.cleaned_data["reason"])
                except DomainError as error:
                    form.add_error(None, str(error))
                else:
                    self.log_change(request, obj, done)
                    self.message_user(request, done, messages.SUCCESS)
                    return None
        else:
            form = form_class()
        page = {
            **self.admin_site.each_context(request),
            "title": title,
            "subtitle": str(obj),
            "opts": self.opts,
            "object": obj,
            "form": form,
            "action_name": action_name,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media + form.media,
            **(context(obj) if context else {}),
        }
        return TemplateResponse(request, template, page)

    def approval_send(self, request, needed, *, reason) -> str:
        """Request the approval `needed` (an `ApprovalNeeded`) with the maker's reason; returns
        what to tell the maker. For an action with its own pages (a preview before booking),
        which calls this where it would call its service."""
        approval_request(kind=needed.kind, subject_kind=needed.subject_kind,
                         subject_id=needed.subject_id, payload=needed.payload,
                         summary=needed.summary, reason=reason, maker=request.user)
        return f"Sent for approval: {needed.summary}"


@admin.register(BusinessDate)
class BusinessDateAdmin(ViewOnlyAdmin):
    list_display = ("current",)
    fields = ("current",)
    readonly_fields = fields


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ViewOnlyAdmin):
    list_display = ("scope", "key", "created_at")
    search_fields = ("=scope", "=key")
    search_help_text = "Exact caller or key"
    show_full_result_count = False
    fields = ("scope", "key", "request_hash", "result", "created_at")
    readonly_fields = fields


@admin.register(AuditEvent)
class AuditEventAdmin(ViewOnlyAdmin):
    list_display = ("created_at", "actor_kind", "actor_label", "action", "subject_kind",
                    "subject_id", "seq")
    list_filter = ("actor_kind", "subject_kind", "action")
    search_fields = ("=subject_id",)
    search_help_text = "Exact subject id"
    # Counting millions of rows on every page would cost more than the page itself.
    show_full_result_count = False
    fields = ("created_at", "actor_kind", "actor_id", "actor_label", "action", "subject_kind",
              "subject_id", "seq", "payload", "prev_hash", "hash")
    readonly_fields = fields


class ApproveForm(forms.Form):
    """Approving asks nothing more: the checker reads the request on the page and confirms."""


class RejectForm(forms.Form):
    reason = reason_field(kept_with="the rejection, and shown to the maker")


class KindFilter(admin.SimpleListFilter):
    """The kinds of action, by the labels their apps registered them with."""

    title = "kind"
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return list(approval_kind_labels().items())

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(kind=self.value())
        return queryset


class RequestedByFilter(admin.SimpleListFilter):
    title = "requested by"
    parameter_name = "maker"

    def lookups(self, request, model_admin):
        return [("me", "Me"), ("others", "Other officers")]

    def queryset(self, request, queryset):
        if self.value() == "me":
            return queryset.filter(maker=request.user)
        if self.value() == "others":
            return queryset.exclude(maker=request.user)
        return queryset


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(ActionWithFormMixin, ViewOnlyAdmin):
    """The approvals queue (maker-checker, `core.approvals`): requests awaiting a second officer
    first, then the decided ones, newest first. Whoever may view it sees every request, their
    own among them; "Approve…" and "Reject…" need `core.decide_approvalrequest`, and the
    service refuses a checker who is the maker or who may not take the action themselves."""

    # Few and narrow columns: the summary says what and on which subject, the page the rest.
    list_display = ("id", "requested_on", "status", "summary", "maker", "checker")
    list_display_links = ("id", "requested_on")
    list_filter = ("status", KindFilter, RequestedByFilter)
    list_select_related = ("maker", "checker")
    search_fields = ("=subject_id", "maker__username")
    search_help_text = "Exact subject id, or the maker's username"
    ordering = (Case(When(status=ApprovalStatus.REQUESTED, then=Value(0)),
                     default=Value(1)).asc(), "-created_at")
    fields = ("kind_label", "subject_kind", "subject_id", "summary", "payload", "reason",
              "maker", "business_date", "created_at", "status", "checker", "decided_at",
              "decision_reason")
    readonly_fields = fields
    actions = ["approve", "reject"]

    @admin.display(description="Requested", ordering="created_at")
    def requested_on(self, obj):
        return obj.business_date.isoformat()

    @admin.display(description="Kind")
    def kind_label(self, obj):
        return approval_kind_labels().get(obj.kind, obj.kind)

    def has_decide_permission(self, request):
        return request.user.has_perm(DECIDE_PERMISSION)

    def _decision_page(self, request, queryset, *, action_name, form_class, title, perform):
        return self.action_with_form(
            request, queryset.select_related("maker", "checker"), action_name=action_name,
            form_class=form_class, template="admin/core/approvalrequest/decide.html",
            title=title, perform=perform, what="request",
            context=lambda approval: {
                "payload": json.dumps(approval.payload, indent=2, sort_keys=True,
                                      ensure_ascii=False),
                "submit_label": title,
                "open": ApprovalRequest.objects.filter(
                    pk=approval.pk, status=ApprovalStatus.REQUESTED).exists(),
                "own": approval.maker_id == request.user.pk})

    @admin.action(description="Approve…", permissions=["decide"])
    def approve(self, request, queryset):
        """The checker confirms on a page showing what the request will do; the action runs
        then. A state that changed since the request fails it, with the service's reason."""

        def approve(approval, _data):
            decided = approval_approve(request_id=approval.pk, checker=request.user)
            if decided.status == ApprovalStatus.FAILED:
                raise DomainError(f"Not done, and request #{decided.pk} is now marked failed: "
                                  f"{decided.decision_reason}")
            return f"Approved and done: {decided.summary}"

        return self._decision_page(request, queryset, action_name="approve",
                                   form_class=ApproveForm, title="Approve", perform=approve)

    @admin.action(description="Reject…", permissions=["decide"])
    def reject(self, request, queryset):
        def reject(approval, data):
            decided = approval_reject(request_id=approval.pk, checker=request.user,
                                      reason=data["reason"])
            return f"Rejected: {decided.summary} ({decided.decision_reason})"

        return self._decision_page(request, queryset, action_name="reject",
                                   form_class=RejectForm, title="Reject", perform=reject)
