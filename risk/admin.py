"""The risk engine in the back office (docs/architecture.md, "Admin").

Models, promotions, decisions and the simulator's hidden truth are records: shown, never edited or
deleted here. A model becomes champion only through the risk manager's "Promote to champion…"
action, which asks for a reason and calls `model_version_promote`, so the act is recorded like a
promotion from the command line. The block list is the one thing officers edit here, through the
block-list services so that who added an entry is always recorded."""

from django import forms
from django.contrib import admin
from django.db.models.functions import Length
from django.template.defaultfilters import filesizeformat
from django.utils.html import format_html, format_html_join

from core.admin import ActionWithFormMixin, ViewOnlyAdmin, ViewOnlyInline, reason_field

from .features.application import APPLICATION_FEATURES
from .models import (
    BlockListEntry,
    CreditDecision,
    ModelPromotion,
    ModelStatus,
    ModelVersion,
    SimulatedCustomer,
)
from .services.block_list import block_list_entry_add, block_list_entry_remove
from .services.registry import model_version_promote

_FEATURE_LABELS = {f.name: f.label for f in APPLICATION_FEATURES}


def _json_table(pairs):
    """A small two-column table for JSON the admin would otherwise print as a dict."""
    if not pairs:
        return "-"
    rows = format_html_join("", "<tr><th scope='row'>{}</th><td>{}</td></tr>", pairs)
    return format_html("<table>{}</table>", rows)


# Models and their promotion --------------------------------------------------------------------

def _auc(metrics):
    return metrics.get("auc")


def _share_of_ceiling(metrics):
    """The model's held-out AUC as a share of the true probabilities' AUC on the same rows
    (simulated data only: a real lender has no ceiling to compare with)."""
    return metrics.get("auc_share_of_ceiling")


class PromoteForm(forms.Form):
    reason = reason_field(kept_with="the promotion")


class PromotionInline(ViewOnlyInline):
    model = ModelPromotion
    fk_name = "model_version"
    show_change_link = False
    fields = ("created_at", "previous_champion", "promoted_by", "reason")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("previous_champion", "promoted_by")


@admin.register(ModelVersion)
class ModelVersionAdmin(ActionWithFormMixin, ViewOnlyAdmin):
    """Trained scorecards. The booster itself is never shown, only its size: it is the model,
    not something a person reads."""

    list_display = ("card", "version", "status", "auc", "share_of_ceiling", "created_at",
                    "promoted_at")
    list_filter = ("card", "status")
    ordering = ("card", "-version")
    fields = ("card", "version", "status", "auc", "share_of_ceiling", "metrics_table",
              "training_summary_table", "calibration", "grade_cutoffs", "feature_names",
              "feature_hash", "booster_size", "created_at", "promoted_at")
    readonly_fields = fields
    inlines = [PromotionInline]
    actions = ["promote"]

    def get_queryset(self, request):
        # The booster can be megabytes a row: the list and the page read only its size.
        return (super().get_queryset(request).defer("booster")
                .annotate(booster_bytes=Length("booster")))

    @admin.display(description="AUC")
    def auc(self, obj):
        auc = _auc(obj.metrics)
        return "-" if auc is None else f"{auc:.4f}"

    @admin.display(description="Share of ceiling")
    def share_of_ceiling(self, obj):
        share = _share_of_ceiling(obj.metrics)
        return "-" if share is None else f"{share:.1%}"

    @admin.display(description="Metrics")
    def metrics_table(self, obj):
        return _json_table(sorted(obj.metrics.items()))

    @admin.display(description="Training data")
    def training_summary_table(self, obj):
        return _json_table(sorted(obj.training_summary.items()))

    @admin.display(description="Booster")
    def booster_size(self, obj):
        return f"{filesizeformat(obj.booster_bytes or 0)} (XGBoost UBJSON)"

    def has_promote_permission(self, request):
        return request.user.has_perm("risk.promote_modelversion")

    @admin.action(description="Promote to champion…", permissions=["promote"])
    def promote(self, request, queryset):
        """An intermediate form asking why, then `model_version_promote`."""

        def promote(candidate, data):
            promotion = model_version_promote(model_version_id=candidate.pk,
                                              promoted_by=request.user, reason=data["reason"])
            replaced = promotion.previous_champion
            return (f"{promotion.model_version} is now the champion"
                    + (f" (it replaces {replaced.card} v{replaced.version})" if replaced else "")
                    + f": {promotion.reason}")

        return self.action_with_form(
            request, queryset, action_name="promote", form_class=PromoteForm,
            template="admin/risk/modelversion/promote.html", title="Promote to champion",
            perform=promote, what="model version to promote", context=self.promotion_context)

    def promotion_context(self, candidate):
        current = (ModelVersion.objects.defer("booster")
                   .filter(card=candidate.card, status=ModelStatus.CHAMPION).first())
        return {
            "candidate": candidate,
            "candidate_auc": self.auc(candidate),
            "candidate_share": self.share_of_ceiling(candidate),
            "current": current,
            "current_auc": self.auc(current) if current else None,
            "current_share": self.share_of_ceiling(current) if current else None,
        }


@admin.register(ModelPromotion)
class ModelPromotionAdmin(ViewOnlyAdmin):
    list_display = ("created_at", "model_version", "previous_champion", "promoted_by", "reason")
    list_select_related = ("model_version", "previous_champion", "promoted_by")
    search_fields = ("promoted_by__username",)
    search_help_text = "Username of who promoted"
    fields = ("model_version", "previous_champion", "promoted_by", "reason", "created_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer("model_version__booster",
                                                   "previous_champion__booster")


# Decisions --------------------------------------------------------------------------------------

@admin.register(CreditDecision)
class CreditDecisionAdmin(ViewOnlyAdmin):
    """Every decision with what it rested on, so it can be explained later."""

    list_display = ("id", "created_at", "customer", "product", "outcome", "grade",
                    "probability_of_default", "credit_limit", "daily_rate", "apr",
                    "model_version", "elapsed_ms")
    list_filter = ("outcome", "grade", ("business_date", admin.DateFieldListFilter))
    list_select_related = ("customer", "product", "model_version")
    search_fields = ("=customer__username",)
    search_help_text = "The customer's exact username"
    show_full_result_count = False
    raw_id_fields = ("customer", "product", "model_version", "line")
    fieldsets = (
        (None, {"fields": ("customer", "product", "business_date", "created_at", "outcome",
                           "reapply_on")}),
        ("Policy rules", {"fields": ("policy_table",)}),
        ("Score", {"fields": ("model_version", "probability_of_default", "grade",
                              "inputs_table", "contributions_table", "reasons_list")}),
        ("Offer", {"fields": ("credit_limit", "daily_rate", "apr", "accepted_at", "line")}),
        ("Timing", {"fields": ("elapsed_ms",)}),
    )
    readonly_fields = ("customer", "product", "business_date", "created_at", "outcome",
                       "reapply_on", "policy_table", "model_version", "probability_of_default",
                       "grade", "inputs_table", "contributions_table", "reasons_list",
                       "credit_limit", "daily_rate", "apr", "accepted_at", "line", "elapsed_ms")

    def get_queryset(self, request):
        return super().get_queryset(request).defer("model_version__booster")

    @admin.display(description="Rules")
    def policy_table(self, obj):
        results = obj.policy_results
        if isinstance(results, dict):
            results = [{"name": name, **(value if isinstance(value, dict) else
                                         {"passed": value})} for name, value in results.items()]
        return _json_table(
            (rule.get("name", "?"),
             ("passed" if rule.get("passed") else "FAILED")
             + (f": {rule['reason']}" if rule.get("reason") else ""))
            for rule in results or [])

    @admin.display(description="Inputs as the model saw them")
    def inputs_table(self, obj):
        return _json_table((_FEATURE_LABELS.get(name, name), value)
                           for name, value in (obj.inputs or {}).items())

    @admin.display(description="Contributions to the score")
    def contributions_table(self, obj):
        pushes = sorted((obj.contributions or {}).items(), key=lambda kv: -abs(kv[1] or 0))
        return _json_table((_FEATURE_LABELS.get(name, name), f"{value:+.4f}")
                           for name, value in pushes if value is not None)

    @admin.display(description="Reasons shown to the customer")
    def reasons_list(self, obj):
        if not obj.reasons:
            return "-"
        return format_html("<ul>{}</ul>",
                           format_html_join("", "<li>{}</li>", ((r,) for r in obj.reasons)))


# The block list ---------------------------------------------------------------------------------

class BlockListEntryForm(forms.ModelForm):
    class Meta:
        model = BlockListEntry
        fields = ("id_number", "reason")

    def clean_id_number(self):
        return self.cleaned_data["id_number"].strip()


@admin.register(BlockListEntry)
class BlockListEntryAdmin(admin.ModelAdmin):
    """Officers add and lift blocks; an entry is never edited (lift it and add another), and who
    added it is the signed-in officer, never a field in the form."""

    form = BlockListEntryForm
    list_display = ("id_number", "reason", "added_by", "created_at")
    list_select_related = ("added_by",)
    search_fields = ("=id_number",)
    search_help_text = "Exact identity number"
    show_full_result_count = False

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("id_number", "reason")
        return ("id_number", "reason", "added_by", "created_at")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("id_number", "reason", "added_by", "created_at")

    def has_change_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        # The form has already checked what the service checks (required, unique, length).
        created = block_list_entry_add(id_number=form.cleaned_data["id_number"],
                                       reason=form.cleaned_data["reason"],
                                       added_by=request.user)
        # The admin goes on with `obj` (its history entry, its redirect): make it the saved row.
        obj.pk = created.pk
        obj.refresh_from_db()

    def delete_model(self, request, obj):
        block_list_entry_remove(entry_id=obj.pk, removed_by=request.user)

    def delete_queryset(self, request, queryset):
        for entry_id in queryset.values_list("pk", flat=True):
            block_list_entry_remove(entry_id=entry_id, removed_by=request.user)


# The simulator's hidden truth -------------------------------------------------------------------

@admin.register(SimulatedCustomer)
class SimulatedCustomerAdmin(ViewOnlyAdmin):
    list_display = ("user", "seed", "true_probability", "default_month")
    list_filter = ("seed",)
    list_select_related = ("user",)
    search_fields = ("=user__username",)
    search_help_text = "The customer's exact username"
    show_full_result_count = False
    fields = ("user", "seed", "true_probability", "default_month")
    readonly_fields = fields
