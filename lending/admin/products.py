"""Products: superusers set their terms through the product services."""

from django import forms
from django.contrib import admin

from core.admin import reason_field
from core.audit import actor_user

from ..models import CreditProduct
from ..services import credit_product_create, credit_product_update
from ..services.products import PRODUCT_EDITABLE, PRODUCT_FIELDS


class ProductChangeForm(forms.ModelForm):
    """The product's terms, and why they change: kept on the product's audit chain."""

    reason = reason_field("Reason for the change")

    class Meta:
        model = CreditProduct
        fields = PRODUCT_EDITABLE


@admin.register(CreditProduct)
class CreditProductAdmin(admin.ModelAdmin):
    """Staff read products; only superusers set their terms, which apply to future loans. Both
    the add and the change form call the product services, which record who and why."""

    list_display = ("code", "name", "kind", "min_daily_rate", "max_daily_rate",
                    "penalty_daily_rate", "apr_cap", "min_amount", "max_amount", "grace_days",
                    "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("code", "name")

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:
            kwargs["form"] = ProductChangeForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        # A new product starts active (the create service knows no other way); editing it
        # later can withdraw it. Lines hang on the code and kind, and amounts are fixed.
        if obj is None:
            return [name for name in PRODUCT_FIELDS if name != "is_active"]
        return ["code", "kind", "min_amount", "max_amount", *PRODUCT_EDITABLE, "reason"]

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("code", "kind", "min_amount", "max_amount")

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        # Lines and their history refer to the product; `is_active` withdraws it instead.
        return False

    def save_model(self, request, obj, form, change):
        actor = actor_user(request.user)
        if change:
            saved = credit_product_update(
                product_id=obj.pk, reason=form.cleaned_data["reason"], actor=actor,
                changes={name: form.cleaned_data[name] for name in form.changed_data
                         if name in PRODUCT_EDITABLE})
        else:
            saved = credit_product_create(
                **{name: form.cleaned_data[name] for name in PRODUCT_FIELDS
                   if name != "is_active"}, actor=actor)
        # The admin goes on with `obj` (its history entry, its redirect): make it the saved row.
        obj.pk = saved.pk
        obj.refresh_from_db()
