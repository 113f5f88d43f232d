from django.contrib import admin

from core.admin import ViewOnlyAdmin

from .models import CloseStep


@admin.register(CloseStep)
class CloseStepAdmin(ViewOnlyAdmin):
    list_display = ("business_date", "step", "rows", "seconds", "finished_at")
    list_filter = ("step", ("business_date", admin.DateFieldListFilter))
    ordering = ("-business_date", "-finished_at")
    fields = ("business_date", "step", "rows", "seconds", "finished_at")
    readonly_fields = fields
