"""The risk engine's records: trained models and their promotions, credit decisions, officers'
income verifications, the block list, and the hidden truth of simulated customers."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.money import money_field, rate_field


class Card(models.TextChoices):
    APPLICATION = "application", "A-card (application)"
    BEHAVIOUR = "behaviour", "B-card (behaviour)"
    # Trained with `train_model --from-csv` on a lender's own table: kept and compared in the
    # registry, but its features are the table's columns, so it never serves a decision.
    CSV = "csv", "From a CSV table"


class ModelStatus(models.TextChoices):
    CANDIDATE = "candidate", "Candidate"
    CHAMPION = "champion", "Champion"
    # Scores the same lines as its card's champion every night, in the shadow: recorded and
    # compared, never acted on (`risk.services.rescoring`).
    CHALLENGER = "challenger", "Challenger"
    RETIRED = "retired", "Retired"


class ModelVersion(models.Model):
    """One trained scorecard. The booster is XGBoost's own UBJSON, never a pickle, so loading a
    model can never run code."""

    card = models.CharField(max_length=12, choices=Card.choices)
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=ModelStatus.choices,
                              default=ModelStatus.CANDIDATE)
    feature_names = models.JSONField()
    # sha256 of the feature definitions the model was trained on; serving refuses a mismatch.
    feature_hash = models.CharField(max_length=64)
    training_summary = models.JSONField(default=dict, help_text="Rows, bad rate, split, source.")
    metrics = models.JSONField(default=dict, help_text="Held-out AUC, KS, Gini, Brier, ...")
    # Maps the booster's margin to a calibrated probability (Platt: sigmoid(a * margin + b)).
    calibration = models.JSONField(default=dict)
    # Probability-of-default cut-offs between grades A|B, B|C, C|D, D|E.
    grade_cutoffs = models.JSONField(default=list, blank=True)
    booster = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)
    promoted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        permissions = [("promote_modelversion", "Can promote a model version to champion")]
        constraints = [
            models.UniqueConstraint(fields=["card", "version"], name="one_number_per_version"),
            models.UniqueConstraint(fields=["card"], condition=Q(status="champion"),
                                    name="one_champion_per_card"),
            models.UniqueConstraint(fields=["card"], condition=Q(status="challenger"),
                                    name="one_challenger_per_card"),
        ]

    def __str__(self):
        return f"{self.card} v{self.version} ({self.status})"


class ModelPromotion(models.Model):
    """The recorded act of making a model version champion: who, when, why, replacing what."""

    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT,
                                      related_name="promotions")
    previous_champion = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, null=True,
                                          blank=True, related_name="+")
    promoted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+")
    reason = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.model_version} promoted {self.created_at:%Y-%m-%d %H:%M}"


class Grade(models.TextChoices):
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"
    D = "D", "D"
    E = "E", "E"


class DecisionOutcome(models.TextChoices):
    APPROVED = "approved", _("Approved")
    DECLINED = "declined", _("Declined")


class IncomeBasis(models.TextChoices):
    """Why a decision used the monthly income it used (`risk.income`)."""

    DECLARED = "declared", "Declared by the customer"
    VERIFIED = "verified", "Verified by an officer"
    UNVERIFIED_CHANGE = "unverified_change", "Lower figure: a large change not yet verified"


class CreditDecision(models.Model):
    """Everything needed to explain a decision later: the inputs exactly as the model saw them,
    the rules, the model version, the probability, grade, offer and reasons."""

    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="credit_decisions")
    product = models.ForeignKey("lending.CreditProduct", on_delete=models.PROTECT,
                                related_name="+")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, null=True,
                                      blank=True, related_name="decisions")
    outcome = models.CharField(max_length=10, choices=DecisionOutcome.choices)
    inputs = models.JSONField(help_text="Feature values as the model received them.")
    policy_results = models.JSONField(help_text="Each hard rule: name, passed, reason.")
    probability_of_default = models.DecimalField(max_digits=7, decimal_places=6, null=True,
                                                 blank=True)
    grade = models.CharField(max_length=1, choices=Grade.choices, blank=True)
    credit_limit = money_field(null=True, blank=True)
    daily_rate = rate_field(null=True, blank=True)
    apr = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    reasons = models.JSONField(default=list, help_text="Sentences shown to the customer.")
    contributions = models.JSONField(default=dict, blank=True,
                                     help_text="Per-feature contributions to the score.")
    # The customer may not apply for this product again before this day: after a decline
    # RISK_REAPPLY_DAYS, after an approval RISK_REAPPLY_AFTER_APPROVAL_DAYS.
    reapply_on = models.DateField(null=True, blank=True)
    # The monthly income on the profile, the one the decision used (policy, features, limit)
    # and why (`risk.income`). Empty on decisions made before incomes were recorded.
    income_declared = money_field(null=True, blank=True)
    income_used = money_field(null=True, blank=True)
    income_basis = models.CharField(max_length=20, choices=IncomeBasis.choices, blank=True)
    income_note = models.TextField(blank=True)
    business_date = models.DateField()
    elapsed_ms = models.FloatField()
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    line = models.ForeignKey("lending.CreditLine", on_delete=models.PROTECT, null=True,
                             blank=True, related_name="+")
    # An approved offer left open when the customer accepted another one is closed then, and
    # can never be accepted: one line never mixes two decisions' limit and rate.
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="offers_closed",
                                  help_text="The decision whose acceptance closed this offer.")

    class Meta:
        indexes = [
            models.Index(fields=["customer", "-created_at"]),
            # Every application asks whether an earlier decision's cooling-off still stands.
            models.Index(fields=["customer", "product", "reapply_on"],
                         name="decisions_cooling_off"),
            # The dashboards' monthly approval rate and grade mix read the last year from the
            # index alone (operations/dashboards/queries.py).
            models.Index(fields=["business_date", "outcome", "grade"],
                         name="decisions_by_business_date"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome="declined") | Q(credit_limit__gt=0, daily_rate__gt=0),
                name="approved_decision_has_offer"),
            models.CheckConstraint(
                condition=Q(accepted_at__isnull=True) | Q(closed_at__isnull=True),
                name="offer_accepted_or_closed_not_both"),
        ]

    def __str__(self):
        return f"{self.customer} {self.outcome} {self.business_date}"

    @property
    def block_listed(self) -> bool:
        """Declined because the applicant is on the block list: the customer is told nothing
        more than that we cannot offer credit."""
        return any(rule.get("name") == "not_block_listed" and not rule.get("passed")
                   for rule in self.policy_results or [] if isinstance(rule, dict))


class IncomeVerification(models.Model):
    """An officer's check of a customer's monthly income (payslips, bank statements, tax
    records): the figure verified, who verified it and when. A decision made after it uses it
    (`risk.income`) instead of the lower of the old and new declared figures."""

    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="income_verifications")
    monthly_income = money_field()
    # What the customer's profile said when the officer verified it.
    declared_income = money_field()
    evidence = models.TextField(help_text="What the officer saw.")
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    business_date = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # The applicant read asks for a customer's latest verification.
        indexes = [models.Index(fields=["customer", "-created_at"],
                                name="verifications_by_customer")]
        constraints = [
            models.CheckConstraint(condition=Q(monthly_income__gte=0),
                                   name="verified_income_not_negative"),
        ]

    def __str__(self):
        return f"income of {self.customer} verified {self.business_date}"


class BlockListEntry(models.Model):
    """A person the lender will not serve, whatever account they use: an applicant matches by
    the identity number, or by the same full name and date of birth (a new number for the same
    person). The number is a valid one, stored as profiles store it (upper case, no spaces)."""

    id_number = models.CharField(max_length=18, unique=True)
    # Blank or empty only on entries made before names and dates of birth were recorded.
    full_name = models.CharField(max_length=120, blank=True)
    birth_date = models.DateField(null=True, blank=True)
    # The customer whose profile the entry was made from, if it was.
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 null=True, blank=True, related_name="+")
    reason = models.TextField()
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "block list entries"
        # The applicant read looks entries up by number (the unique index) or by date of birth.
        indexes = [models.Index(fields=["birth_date"], name="block_list_by_birth_date")]

    def __str__(self):
        return f"{self.id_number} {self.full_name}".strip()


class SimulatedCustomer(models.Model):
    """The hidden ground truth of a customer made by `simulate_population`: what the best
    possible model would know. Real customers have no row here."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="simulated")
    seed = models.BigIntegerField()
    true_probability = models.FloatField()
    # The month of the simulation in which the customer stopped paying, if they did.
    default_month = models.PositiveSmallIntegerField(null=True, blank=True)
    # The simulation's last business day: after it the customer does nothing (pays nothing), so
    # what their loans show later is not their behaviour; it also fixes which instalments a
    # defaulter could stop at (90+ days past due by this day). Empty: made before it was kept.
    history_end = models.DateField(null=True, blank=True)

    def __str__(self):
        return f"simulated {self.user_id} (p={self.true_probability:.3f})"


class ScoreRole(models.TextChoices):
    CHAMPION = "champion", "Champion (acted on)"
    CHALLENGER = "challenger", "Challenger (shadow)"


class LineScore(models.Model):
    """A line's latest B-card score by its card's champion (acted on) and by a challenger (in
    the shadow only): one row per line and role. The nightly rescoring rewrites a row only when
    the score changes (most lines' behaviour does not move in a night), so `business_date` is
    the night this score was first given, and the table never grows with the nights."""

    line = models.ForeignKey("lending.CreditLine", on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=10, choices=ScoreRole.choices)
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="+")
    probability = models.DecimalField(max_digits=7, decimal_places=6)
    grade = models.CharField(max_length=1, choices=Grade.choices)
    business_date = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["line", "role"],
                                               name="one_score_per_line_and_role")]
        indexes = [models.Index(fields=["model_version", "probability"],
                                name="line_score_by_model")]

    def __str__(self):
        return f"line {self.line_id} {self.role}: {self.probability} ({self.grade})"


class LineScoreMonthEnd(models.Model):
    """What a model validator needs and no more: each line's score on the last business date
    of each month by every model that scored it then (champion and challenger), so that a
    model's scores can be set against the outcomes that follow them."""

    line = models.ForeignKey("lending.CreditLine", on_delete=models.PROTECT, related_name="+")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=10, choices=ScoreRole.choices)
    probability = models.DecimalField(max_digits=7, decimal_places=6)
    grade = models.CharField(max_length=1, choices=Grade.choices)
    business_date = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["model_version", "business_date", "line"],
                                               name="one_month_end_score_per_model_and_line")]

    def __str__(self):
        return f"line {self.line_id} {self.business_date} v{self.model_version_id}"


class ScoreDistribution(models.Model):
    """One night's scores of one model (a B-card's over the open lines, the A-card's over the
    day's decisions), counted in the buckets its training deciles make, and their population
    stability index against its training distribution (`risk.monitoring`). One row per model
    and night."""

    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT,
                                      related_name="score_distributions")
    role = models.CharField(max_length=10, choices=ScoreRole.choices)
    business_date = models.DateField()
    lines = models.PositiveIntegerField(
        help_text="Scores counted: lines, or the A-card's decisions.")
    bucket_counts = models.JSONField(help_text="Scores in each of the ten training-decile buckets.")
    mean_probability = models.FloatField(null=True, blank=True)
    # Null when the model keeps no training distribution (trained before they were kept).
    psi = models.FloatField(null=True, blank=True)
    psi_status = models.CharField(max_length=10, blank=True,
                                  help_text="ok, warning (PSI above 0.1) or alert (above 0.25)")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["model_version", "business_date"],
                                               name="one_distribution_per_model_and_night")]
        ordering = ["-business_date", "role"]

    def __str__(self):
        return f"{self.model_version} {self.business_date}: PSI {self.psi}"


class LineReview(models.Model):
    """A change the nightly rescoring made to a line's limit or daily rate, with what decided
    it: the model version, the probability and grade, the rules' reasons and findings
    (`risk.rescoring_policy`). The limit and rate changes themselves are lending's records
    (`LimitChange`, `RateChange`); this says why. At most one per line and night."""

    line = models.ForeignKey("lending.CreditLine", on_delete=models.PROTECT, related_name="+")
    business_date = models.DateField()
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="+")
    probability = models.DecimalField(max_digits=7, decimal_places=6)
    grade = models.CharField(max_length=1, choices=Grade.choices)
    old_limit = money_field()
    new_limit = money_field()
    old_daily_rate = rate_field()
    new_daily_rate = rate_field()
    reasons = models.JSONField(help_text="The reasons' codes and the sentences the customer read.")
    findings = models.JSONField(default=list, blank=True,
                                help_text="What the rules saw without changing anything.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["line", "business_date"],
                                               name="one_review_change_per_line_and_night")]
        ordering = ["-business_date", "-id"]

    def __str__(self):
        return f"line {self.line_id} {self.business_date}"


class RescoringNight(models.Model):
    """How one night's rescoring was planned (`risk.services.rescoring_selection`): every open
    cash line, or only the customers whose score or review can have moved since the night
    before (listed in `RescoringNightCustomer` until the night after), and what the next night
    compares against: the models that scored and the fingerprint of the rules and terms."""

    business_date = models.DateField(unique=True)
    every_line = models.BooleanField()
    # Why every line was scored (a month end, no night before, a new model ...); empty when not.
    reason = models.CharField(max_length=80, blank=True)
    customers = models.PositiveIntegerField()
    champion = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="+")
    challenger = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+")
    # sha256 of the cash products' terms and of the code of the features, the policy and this
    # selection: when any of them changes, the next night scores every line.
    fingerprint = models.CharField(max_length=64)
    # When the night was planned: lines, profiles and decisions changed after this (less a
    # margin) are picked up by the next night.
    planned_at = models.DateTimeField()

    class Meta:
        ordering = ["-business_date"]

    def __str__(self):
        return f"rescoring {self.business_date}: {self.customers} customers"


class RescoringNightCustomer(models.Model):
    """A customer a night's rescoring scores (when it does not score every line). Kept until
    the night after, then deleted: the list is only the chunks' to read."""

    night = models.ForeignKey(RescoringNight, on_delete=models.CASCADE, related_name="+")
    # A plain id, not a foreign key: a night lists hundreds of thousands, written in one
    # statement, and a key check per row would cost more than the list is worth.
    customer_id = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["night", "customer_id"],
                                               name="one_rescoring_per_customer_and_night")]

    def __str__(self):
        return f"customer {self.customer_id} on {self.night_id}"
