"""The risk engine in the back office (docs/architecture.md, "Admin").

Models, promotions, decisions, income verifications and the simulator's hidden truth are records:
shown, never edited or deleted here. A model becomes champion only through the risk manager's
"Promote to champion…" action, which asks for a reason and calls `model_version_promote`, so the
act is recorded like a promotion from the command line. An officer verifies a customer's income
with the "Verify the customer's income…" action on a decision (`income_verify`). The block list is
the one thing officers edit here, through the block-list services so that who added an entry is
always recorded."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models.functions import Length
from django.template.defaultfilters import filesizeformat
from django.utils.html import format_html, format_html_join

from accounts.models import User
from core.admin import ActionWithFormMixin, ViewOnlyAdmin, ViewOnlyInline, reason_field
from core.calendar import business_date_today

from .errors import RiskError
from .features.application import APPLICATION_FEATURES
from .models import (
    BlockListEntry,
    Card,
    CreditDecision,
    IncomeVerification,
    LineReview,
    ModelPromotion,
    ModelStatus,
    ModelVersion,
    RescoringNight,
    ScoreDistribution,
    SimulatedCustomer,
)
from .services.block_list import (
    block_list_entry_add,
    block_list_entry_remove,
    block_list_person,
)
from .services.income import income_verify
from .services.model_watch import challenger_comparison
from .services.registry import model_version_challenger_set, model_version_promote

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


class ChallengerForm(forms.Form):
    reason = reason_field(kept_with="the model's record")


def _comparison(champion, challenger):
    """The shadow's evidence: both models' AUCs on the same matured month-end rows."""
    if champion is None or challenger is None:
        return None
    return challenger_comparison(champion, challenger, today=business_date_today())


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
    fields = ("card", "version", "status", "auc", "share_of_ceiling", "nightly_drift",
              "shadow_comparison", "metrics_table", "training_summary_table", "calibration",
              "grade_cutoffs", "feature_names", "feature_hash", "booster_size", "created_at",
              "promoted_at")
    readonly_fields = fields
    inlines = [PromotionInline]
    actions = ["promote", "mark_challenger"]

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

    @admin.display(description="Nightly score drift (PSI, last 7 nights)")
    def nightly_drift(self, obj):
        nights = obj.score_distributions.order_by("-business_date")[:7]
        return _json_table([(d.business_date, "-" if d.psi is None else
                             f"{d.psi:.4f} {d.psi_status} ({d.lines:,} lines)")
                            for d in nights])

    @admin.display(description="Challenger against champion (same lines, matured outcomes)")
    def shadow_comparison(self, obj):
        if obj.card != Card.BEHAVIOUR or obj.status not in (ModelStatus.CHALLENGER,
                                                            ModelStatus.CHAMPION):
            return "-"
        champion = (obj if obj.status == ModelStatus.CHAMPION else ModelVersion.objects.defer(
            "booster").filter(card=obj.card, status=ModelStatus.CHAMPION).first())
        challenger = (obj if obj.status == ModelStatus.CHALLENGER else ModelVersion.objects
                      .defer("booster").filter(card=obj.card,
                                               status=ModelStatus.CHALLENGER).first())
        figures = _comparison(champion, challenger)
        return "-" if figures is None else _json_table(sorted(figures.items()))

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

    @admin.action(description="Mark as challenger (shadow scoring)…", permissions=["promote"])
    def mark_challenger(self, request, queryset):
        """A B-card candidate scores every line each night beside the champion, never acting,
        so that promotion can be decided on its scores against the same outcomes."""

        def mark(candidate, data):
            marked = model_version_challenger_set(model_version_id=candidate.pk,
                                                  marked_by=request.user, reason=data["reason"])
            return f"{marked} now scores every line in the shadow from tonight: {data['reason']}"

        return self.action_with_form(
            request, queryset, action_name="mark_challenger", form_class=ChallengerForm,
            template="admin/risk/modelversion/challenger.html",
            title="Mark as challenger", perform=mark, what="model version to mark")

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
            "comparison": (_comparison(current, candidate)
                           if candidate.status == ModelStatus.CHALLENGER else None),
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

class VerifyIncomeForm(forms.Form):
    monthly_income = forms.DecimalField(
        label="Verified monthly income", max_digits=18, decimal_places=2, min_value=0,
        help_text="The figure the evidence shows; the next decision uses it (or the declared "
                  "income, if lower).")
    evidence = reason_field(label="Evidence", kept_with="the verification")


@admin.register(CreditDecision)
class CreditDecisionAdmin(ActionWithFormMixin, ViewOnlyAdmin):
    """Every decision with what it rested on, so it can be explained later."""

    list_display = ("id", "created_at", "customer", "product", "outcome", "grade",
                    "probability_of_default", "credit_limit", "daily_rate", "apr",
                    "income_basis", "model_version", "elapsed_ms")
    list_filter = ("outcome", "grade", "income_basis",
                   ("business_date", admin.DateFieldListFilter))
    list_select_related = ("customer", "product", "model_version")
    search_fields = ("=customer__username",)
    search_help_text = "The customer's exact username"
    show_full_result_count = False
    raw_id_fields = ("customer", "product", "model_version", "line", "closed_by")
    fieldsets = (
        (None, {"fields": ("customer", "product", "business_date", "created_at", "outcome",
                           "reapply_on")}),
        ("Policy rules", {"fields": ("policy_table",)}),
        ("Income", {"fields": ("income_declared", "income_used", "income_basis",
                               "income_note")}),
        ("Score", {"fields": ("model_version", "probability_of_default", "grade",
                              "inputs_table", "contributions_table", "reasons_list")}),
        ("Offer", {"fields": ("credit_limit", "daily_rate", "apr", "accepted_at", "line",
                              "closed_at", "closed_by")}),
        ("Timing", {"fields": ("elapsed_ms",)}),
    )
    readonly_fields = ("customer", "product", "business_date", "created_at", "outcome",
                       "reapply_on", "policy_table", "income_declared", "income_used",
                       "income_basis", "income_note", "model_version", "probability_of_default",
                       "grade", "inputs_table", "contributions_table", "reasons_list",
                       "credit_limit", "daily_rate", "apr", "accepted_at", "line", "closed_at",
                       "closed_by", "elapsed_ms")
    actions = ["verify_income"]

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

    def has_verify_income_permission(self, request):
        return request.user.has_perm("risk.add_incomeverification")

    @admin.action(description="Verify the customer's income…", permissions=["verify_income"])
    def verify_income(self, request, queryset):
        """An intermediate form (the verified figure, the evidence), then `income_verify`."""

        def verify(decision, data):
            verification = income_verify(customer_id=decision.customer_id,
                                         monthly_income=data["monthly_income"],
                                         evidence=data["evidence"], verified_by=request.user)
            return (f"Verified a monthly income of {verification.monthly_income:,.2f} for "
                    f"{decision.customer} (declared {verification.declared_income:,.2f}); "
                    f"their next decision uses it.")

        return self.action_with_form(
            request, queryset, action_name="verify_income", form_class=VerifyIncomeForm,
            template="risk/verify_income.html", title="Verify the customer's income",
            perform=verify, what="decision of the customer whose income you verified",
            context=lambda decision: {"decision": decision})


@admin.register(IncomeVerification)
class IncomeVerificationAdmin(ViewOnlyAdmin):
    """Officers' verifications of customers' incomes: who verified what, when, from what."""

    list_display = ("created_at", "customer", "monthly_income", "declared_income",
                    "verified_by", "business_date")
    list_select_related = ("customer", "verified_by")
    search_fields = ("=customer__username",)
    search_help_text = "The customer's exact username"
    show_full_result_count = False
    fields = ("customer", "monthly_income", "declared_income", "evidence", "verified_by",
              "business_date", "created_at")
    readonly_fields = fields


# The block list ---------------------------------------------------------------------------------

class BlockListEntryForm(forms.ModelForm):
    """The person to block: their identity number, full name and date of birth, checked as the
    service checks them; or a customer's username, whose profile supplies whatever is left
    blank (what is filled in must agree with it)."""

    customer = forms.CharField(
        required=False, label="Customer (username)",
        help_text="To block a customer: their profile supplies the number, name and date of "
                  "birth left blank.")
    # Room for the spaces people type between groups; the service stores the 18 characters.
    id_number = forms.CharField(
        required=False, max_length=24, label="Identity number",
        help_text="18 characters; spaces and a lower-case x are fine.")

    class Meta:
        model = BlockListEntry
        fields = ("customer", "id_number", "full_name", "birth_date", "reason")
        help_texts = {"full_name": "As on the identity card: a new number for the same name "
                                   "and date of birth is blocked too."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Required unless a customer's profile supplies them: the service says which.
        for name in ("full_name", "birth_date"):
            if name in self.fields:
                self.fields[name].required = False

    def clean_customer(self):
        username = self.cleaned_data["customer"].strip()
        if not username:
            return None
        user = User.objects.filter(username=username).first()
        if user is None:
            raise ValidationError("There is no customer with this username.")
        return user

    def clean(self):
        cleaned = super().clean()
        if "customer" in self.errors:
            return cleaned
        try:
            cleaned.update(block_list_person(
                **{name: cleaned.get(name) for name in ("id_number", "full_name", "birth_date")},
                customer=cleaned.get("customer")))
        except RiskError as error:
            self.add_error("customer", str(error))
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                if name not in self.errors:
                    self.add_error(name, messages)
        return cleaned


@admin.register(BlockListEntry)
class BlockListEntryAdmin(admin.ModelAdmin):
    """Officers add and lift blocks; an entry is never edited (lift it and add another), and who
    added it is the signed-in officer, never a field in the form."""

    form = BlockListEntryForm
    list_display = ("id_number", "full_name", "birth_date", "reason", "added_by", "created_at")
    list_select_related = ("added_by",)
    search_fields = ("=id_number", "full_name")
    search_help_text = "Exact identity number, or part of the name"
    show_full_result_count = False

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("customer", "id_number", "full_name", "birth_date", "reason")
        return ("id_number", "full_name", "birth_date", "customer", "reason", "added_by",
                "created_at")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.get_fields(request, obj)

    def has_change_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        # The form has already checked what the service checks (the person, unique, reason).
        data = form.cleaned_data
        created = block_list_entry_add(id_number=data["id_number"], full_name=data["full_name"],
                                       birth_date=data["birth_date"], reason=data["reason"],
                                       customer=data["customer"], added_by=request.user)
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


# Nightly rescoring ------------------------------------------------------------------------------

@admin.register(LineReview)
class LineReviewAdmin(ViewOnlyAdmin):
    """What the nightly B-card review changed on a line, and why: the model, its probability
    and grade, the rules' reasons (the customer's words) and findings."""

    list_display = ("business_date", "line", "model_version", "probability", "grade",
                    "old_limit", "new_limit", "old_daily_rate", "new_daily_rate", "reason_codes")
    list_filter = ("grade", "business_date")
    list_select_related = ("model_version",)
    search_fields = ("line__customer__username",)
    search_help_text = "Customer's username"
    show_full_result_count = False
    fields = ("line", "business_date", "model_version", "probability", "grade", "old_limit",
              "new_limit", "old_daily_rate", "new_daily_rate", "reason_list", "findings",
              "created_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer("model_version__booster")

    @admin.display(description="Reasons")
    def reason_codes(self, obj):
        return ", ".join(r["code"].replace("_", " ") for r in obj.reasons)

    @admin.display(description="Reasons (as the customer read them)")
    def reason_list(self, obj):
        return format_html_join("", "<p>{}</p>", ((r["text"],) for r in obj.reasons))


@admin.register(ScoreDistribution)
class ScoreDistributionAdmin(ViewOnlyAdmin):
    """Each night's scores of each B-card in service over the open lines, against its training
    distribution: above 0.1 a warning, above 0.25 an alert (shown on the admin index)."""

    list_display = ("business_date", "model_version", "role", "lines", "mean_probability",
                    "psi", "psi_status")
    list_filter = ("psi_status", "role")
    fields = ("business_date", "model_version", "role", "lines", "bucket_counts",
              "mean_probability", "psi", "psi_status")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer("model_version__booster")


@admin.register(RescoringNight)
class RescoringNightAdmin(ViewOnlyAdmin):
    """How each night's B-card rescoring was planned: every open line (and why), or only the
    customers whose score or review could have moved since the night before, and how many."""

    list_display = ("business_date", "every_line", "reason", "customers", "champion")
    list_filter = ("every_line",)
    fields = ("business_date", "every_line", "reason", "customers", "champion", "challenger",
              "fingerprint", "planned_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer("champion__booster", "challenger__booster")
