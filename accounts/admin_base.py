"""Admin building blocks shared by every app's admin (accounts is the app the others build on)."""

from django.contrib import admin


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
