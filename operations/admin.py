"""The close's record in the back office: each run with its steps' progress while it runs, and
a resume action for a run that stopped on a failed chunk."""

from django.contrib import admin, messages
from django.db.models import Count, Q

from core.admin import ViewOnlyAdmin, ViewOnlyInline

from .customer_file.views import customer_file_register
from .models import CloseChunk, CloseRun, CloseStatus, CloseStep
from .nightly_close import CloseFailed, business_day_close


class CloseStepInline(ViewOnlyInline):
    model = CloseStep
    fields = ("order", "step", "status", "progress", "rows", "seconds", "finished_at")
    readonly_fields = fields
    ordering = ("order",)
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            done=Count("chunks", filter=Q(chunks__status=CloseStatus.DONE)))

    @admin.display(description="chunks done")
    def progress(self, step):
        return f"{step.done} of {step.chunks_total}"


@admin.register(CloseRun)
class CloseRunAdmin(ViewOnlyAdmin):
    list_display = ("business_date", "status", "current_step", "progress", "seconds",
                    "started_at", "finished_at")
    list_filter = ("status",)
    ordering = ("-business_date",)
    fields = ("business_date", "status", "current_step", "progress", "dispatch", "catch_up",
              "error", "started_at", "finished_at", "seconds")
    readonly_fields = fields
    inlines = [CloseStepInline]
    actions = ["resume"]

    @admin.display(description="progress")
    def progress(self, run):
        """Steps done of the steps declared, and the current step's chunks: what an operator
        watches while a close runs (reload the page to follow it)."""
        steps = run.steps.exclude(step="advance_business_date")
        done = steps.filter(status=CloseStatus.DONE).count()
        text = f"{done} of {steps.count()} steps done"
        if run.current_step:
            step = steps.get(step=run.current_step)
            chunks = step.chunks.filter(status=CloseStatus.DONE).count()
            text += f"; {step.step}: {chunks} of {step.chunks_total} chunks"
        return text

    def has_resume_permission(self, request):
        return request.user.has_perm("operations.resume_closerun")

    @admin.action(description="Resume the selected stopped close", permissions=["resume"])
    def resume(self, request, queryset):
        """Run the failed chunks again and go on (in this request: the close of one date is a
        matter of seconds to minutes; the beat's runs resume through the workers)."""
        for run in queryset.filter(status=CloseStatus.FAILED).order_by("business_date"):
            try:
                business_day_close(business_date=run.business_date)
            except CloseFailed as error:
                self.message_user(request, str(error), messages.ERROR)
                return
            self.message_user(request, f"The close of {run.business_date} is done.",
                              messages.SUCCESS)


class CloseChunkInline(ViewOnlyInline):
    model = CloseChunk
    fields = ("seq", "first_id", "last_id", "status", "rows", "seconds", "error", "finished_at")
    readonly_fields = fields
    show_change_link = False


@admin.register(CloseStep)
class CloseStepAdmin(ViewOnlyAdmin):
    list_display = ("business_date", "step", "status", "chunks_total", "rows", "seconds",
                    "finished_at")
    list_filter = ("step", "status", ("business_date", admin.DateFieldListFilter))
    ordering = ("-business_date", "order")
    fields = ("run", "business_date", "step", "order", "status", "chunks_total", "chunks_done",
              "rows", "seconds", "started_at", "finished_at")
    readonly_fields = fields
    inlines = [CloseChunkInline]


# One page per customer, /admin/customers/<user id>/ (operations/customer_file).
customer_file_register(admin.site)
