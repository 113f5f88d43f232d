"""Admin building blocks every app's back office uses, and the platform's own tables.

Money and status fields are never edited in a form: changes happen through actions with an
intermediate page (a new value, a reason) that call a service (docs/architecture.md, "Admin")."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse

from .errors import DomainError
from .models import AuditEvent, BusinessDate, IdempotencyRecord


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
    `DomainError` it raises is shown on the form, which the officer can correct."""

    def action_with_form(self, request, queryset, *, action_name, form_class, template, title,
                         perform, context=None, what="object"):
        selected = list(queryset[:2])
        if len(selected) != 1:
            self.message_user(request, f"Select exactly one {what}.", messages.WARNING)
            return None
        obj = selected[0]
        if "apply" in request.POST:
            form = form_class(request.POST)
            if form.is_valid():
                try:
                    done = perform(obj, form.cleaned_data)
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
