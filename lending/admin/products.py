"""Products: superusers set their terms through the product services."""

from django import forms
from django.contrib import admin
from django.forms.fields import InvalidJSONInput

from core.admin import reason_field
from core.audit import actor_user

from ..models import CreditProduct
from ..models.products import MAX_EXTENSION_MONTHS
from ..services import credit_product_create, credit_product_update
from ..services.products import PRODUCT_EDITABLE, PRODUCT_FIELDS


class ShortJSONField(forms.JSONField):
    """A product's list of terms or methods as JSON text. Anything longer than such a list can
    be is refused before it is parsed: deeply nested text makes the JSON parser itself fail."""

    MAX_LENGTH = 1000

    def to_python(self, value):
        if self._too_long(value):
            raise forms.ValidationError(
                "This is far longer than a list of terms or methods can be.", code="too_long")
        return super().to_python(value)

    def bound_data(self, data, initial):
        # The refused text is shown again as it was typed, not parsed.
        if self._too_long(data) and not self.disabled:
            return InvalidJSONInput(data)
        return super().bound_data(data, initial)

    def _too_long(self, value):
        return isinstance(value, str) and len(value) > self.MAX_LENGTH


class ProductForm(forms.ModelForm):
    """A new product's terms. The model's validators (run by the form, as by the services)
    refuse out-of-bounds values with an error by the field."""

    # Optional in the form (left empty: the product's current value, 12 for a new one), so a
    # form from before the setting existed still submits.
    max_extension_months = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_EXTENSION_MONTHS,
        help_text=CreditProduct._meta.get_field("max_extension_months").help_text)

    def clean_max_extension_months(self):
        value = self.cleaned_data["max_extension_months"]
        if value is None:
            return self.instance.max_extension_months
        return value

    class Meta:
        model = CreditProduct
        fields = [name for name in PRODUCT_FIELDS if name != "is_active"]
        field_classes = {"allowed_terms": ShortJSONField, "repayment_methods": ShortJSONField}


class ProductChangeForm(ProductForm):
    """The product's terms, and why they change: kept on the product's audit chain."""

    reason = reason_field("Reason for the change")

    class Meta(ProductForm.Meta):
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
        kwargs["form"] = ProductForm if obj is None else ProductChangeForm
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
