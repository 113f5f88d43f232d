"""The catalogue: credit products and their terms, validated on the model so that the admin's
forms and the product services (`credit_product_create`, `credit_product_update`, which call
`full_clean`) refuse the same values with the same field errors."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from core.money import money_field, rate_field

# The highest APR (percent, IRR method) any product may be capped at. Chinese rules on the
# all-in cost of consumer credit put the line at 24 % or 36 % depending on the rule and the
# lender: the Supreme People's Court's private-lending rules of 2015 protected up to 24 % and
# voided interest above 36 %, the 2017 notice on cash loans holds licensed lenders to that
# 36 %, and regulators have since steered internet consumer lending to 24 % or less. 36 is the
# hard ceiling here; each product's own `apr_cap` (24 by default) is where compliance sets the
# line it actually works to. Changing this constant changes a database check: a migration.
APR_CEILING = Decimal("36.00")
# Cash-loan terms offered, in months: a whole number from 1 to this.
MAX_TERM_MONTHS = 60
# A term extension (展期) adds at most this many months, whatever the product says.
MAX_EXTENSION_MONTHS = MAX_TERM_MONTHS
# Days after a due date before an instalment is overdue.
MAX_GRACE_DAYS = 30
# Penalty interest (罚息) per day on overdue amounts: 0.1 % a day is 36.5 % a year, the APR
# ceiling's order; courts do not enforce penalty interest beyond the legal ceiling either.
MAX_PENALTY_DAILY_RATE = Decimal("0.00100000")
# Days past due at which the nightly close writes a loan off (核销), at most.
MAX_WRITE_OFF_DAYS = 720
# When customers are told about a due date (negative: days before it) or about lateness
# (positive: days past due), by default: 3 days before, on the day, then DPD 1, 7, 30, 60, 90.
DEFAULT_NOTICE_DAYS = [-3, 0, 1, 7, 30, 60, 90]


def default_notice_days():
    return list(DEFAULT_NOTICE_DAYS)


# Pay-later (花呗) defaults: the due date this many days after the statement day, 10 % of the
# statement's purchases and revolved balance in the minimum payment, revolving interest 0.05 %
# a day, instalment plans (分期) of 3, 6, 9 or 12 parts with a total fee rate by term, for
# amounts from 100.
MAX_STATEMENT_DUE_DAYS = 25
DEFAULT_PLAN_FEE_RATES = {"3": "0.025", "6": "0.045", "9": "0.065", "12": "0.088"}


def default_plan_fee_rates():
    return dict(DEFAULT_PLAN_FEE_RATES)


# A partner bank funds at most 70 % of a loan (the co-lending rules on the bank's own stake).
MAX_PARTNER_SHARE = Decimal("0.70")


class ProductKind(models.TextChoices):
    CASH_LOAN = "cash_loan", "Cash loan (借呗)"
    PAY_LATER = "pay_later", "Pay-later line (花呗)"


class RepaymentMethod(models.TextChoices):
    EQUAL_INSTALMENT = "equal_instalment", "Equal instalments"
    EQUAL_PRINCIPAL = "equal_principal", "Equal principal"
    INTEREST_FIRST = "interest_first", "Interest first, principal at the end"


def _is_whole_number(value):
    return isinstance(value, int) and not isinstance(value, bool)


def validate_allowed_terms(value):
    """A non-empty list of distinct whole numbers of months, 1 to MAX_TERM_MONTHS."""
    if not isinstance(value, list) or not value:
        raise ValidationError("Give the terms as a list of months, like [3, 6, 12].",
                              code="terms_not_a_list")
    if not all(_is_whole_number(term) and 1 <= term <= MAX_TERM_MONTHS for term in value):
        raise ValidationError(
            "Each term is a whole number of months from 1 to %(most)s, like [3, 6, 12].",
            code="term_out_of_range", params={"most": MAX_TERM_MONTHS})
    if len(set(value)) != len(value):
        raise ValidationError("Give each term once.", code="term_repeated")


def validate_repayment_methods(value):
    """A non-empty list of known repayment methods, each once."""
    known = ", ".join(RepaymentMethod.values)
    if not isinstance(value, list) or not value:
        raise ValidationError("Give the repayment methods as a list, like "
                              "[\"equal_instalment\"]; known methods: %(known)s.",
                              code="methods_not_a_list", params={"known": known})
    if not all(isinstance(method, str) and method in RepaymentMethod.values
               for method in value):
        raise ValidationError("Unknown repayment method; known methods: %(known)s.",
                              code="method_unknown", params={"known": known})
    if len(set(value)) != len(value):
        raise ValidationError("Give each repayment method once.", code="method_repeated")


def validate_daily_rate(value):
    if value is not None and value <= 0:
        raise ValidationError("A daily rate must be greater than 0.", code="rate_not_positive")


def validate_penalty_daily_rate(value):
    # Zero is allowed: a product may charge no penalty interest at all.
    if value is not None and not 0 <= value <= MAX_PENALTY_DAILY_RATE:
        raise ValidationError(
            "The penalty rate must be from 0 to %(most)s a day.",
            code="penalty_rate_out_of_range", params={"most": MAX_PENALTY_DAILY_RATE})


def validate_apr_cap(value):
    if value is not None and not 0 < value <= APR_CEILING:
        raise ValidationError("The APR cap must be greater than 0 and at most %(most)s %%.",
                              code="apr_cap_out_of_range", params={"most": APR_CEILING})


def validate_notice_days(value):
    """Distinct whole numbers from -30 (days before a due date) to MAX_WRITE_OFF_DAYS."""
    if not isinstance(value, list):
        raise ValidationError("Give the notice days as a list, like [-3, 0, 1, 7, 30].",
                              code="notice_days_not_a_list")
    if not all(_is_whole_number(day) and -30 <= day <= MAX_WRITE_OFF_DAYS for day in value):
        raise ValidationError(
            "Each notice day is a whole number from -30 (days before a due date) to %(most)s "
            "(days past due).", code="notice_day_out_of_range",
            params={"most": MAX_WRITE_OFF_DAYS})
    if len(set(value)) != len(value):
        raise ValidationError("Give each notice day once.", code="notice_day_repeated")


def validate_plan_fee_rates(value):
    """A mapping of a term in months ("3") to its total fee rate ("0.025"), each from 0 to 0.5."""
    if not isinstance(value, dict):
        raise ValidationError("Give the fee rates as a mapping of months to rate, like "
                              "{\"3\": \"0.025\", \"6\": \"0.045\"}.", code="plan_rates_not_a_map")
    for term, rate in value.items():
        if not (isinstance(term, str) and term.isdigit() and 2 <= int(term) <= 24):
            raise ValidationError("Each plan term is a whole number of months from 2 to 24.",
                                  code="plan_term_out_of_range")
        try:
            rate = Decimal(str(rate))
        except (ArithmeticError, ValueError):
            raise ValidationError("Each fee rate is a decimal number like \"0.025\".",
                                  code="plan_rate_not_a_number") from None
        if not (rate.is_finite() and 0 <= rate <= Decimal("0.5")):
            raise ValidationError("Each fee rate is from 0 to 0.5 of the amount converted.",
                                  code="plan_rate_out_of_range")


def validate_amount(value):
    if value is not None and value <= 0:
        raise ValidationError("An amount must be greater than 0.", code="amount_not_positive")


class CreditProduct(models.Model):
    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=ProductKind.choices)
    min_daily_rate = rate_field(validators=[validate_daily_rate])
    max_daily_rate = rate_field(validators=[validate_daily_rate])
    penalty_daily_rate = rate_field(validators=[validate_penalty_daily_rate])
    allowed_terms = models.JSONField(
        default=list, validators=[validate_allowed_terms],
        help_text=f"Terms in months, e.g. [3, 6, 12]: whole numbers from 1 to {MAX_TERM_MONTHS}.")
    repayment_methods = models.JSONField(
        default=list, validators=[validate_repayment_methods],
        help_text="e.g. [\"equal_instalment\", \"equal_principal\"]; known methods: "
                  + ", ".join(RepaymentMethod.values) + ".")
    grace_days = models.PositiveSmallIntegerField(
        default=3, validators=[MaxValueValidator(MAX_GRACE_DAYS)],
        help_text=f"Days after a due date before an instalment is overdue (0 to {MAX_GRACE_DAYS}).")
    write_off_days = models.PositiveSmallIntegerField(
        default=180, validators=[MinValueValidator(1), MaxValueValidator(MAX_WRITE_OFF_DAYS)],
        help_text=f"Days past due at which a loan is written off (1 to {MAX_WRITE_OFF_DAYS}).")
    notice_days = models.JSONField(
        default=default_notice_days, blank=True, validators=[validate_notice_days],
        help_text="When customers are reminded: days before a due date as negative numbers, 0 "
                  "for the due date, days past due as positive numbers, e.g. [-3, 0, 1, 7, 30].")
    min_amount = money_field(validators=[validate_amount])
    max_amount = money_field(validators=[validate_amount])
    apr_cap = models.DecimalField(max_digits=6, decimal_places=2, default=24,
                                  validators=[validate_apr_cap],
                                  help_text=f"Largest APR in percent (IRR method), above 0 and "
                                            f"at most {APR_CEILING}.")
    max_extension_months = models.PositiveSmallIntegerField(
        default=12, validators=[MinValueValidator(1), MaxValueValidator(MAX_EXTENSION_MONTHS)],
        help_text=f"Most months an officer may add to a loan's term in one extension (1 to "
                  f"{MAX_EXTENSION_MONTHS}); the new term stays within the longest allowed term.")
    # Pay-later lines only (花呗): the statement's due date, its minimum payment, revolving
    # interest and instalment plans (lending/rules/statements.py, plans.py).
    statement_due_days = models.PositiveSmallIntegerField(
        default=9, validators=[MinValueValidator(1), MaxValueValidator(MAX_STATEMENT_DUE_DAYS)],
        help_text="Days from a statement day to its due date (pay-later lines).")
    minimum_payment_rate = rate_field(
        default="0.10", validators=[MinValueValidator(Decimal("0.01")),
                                    MaxValueValidator(Decimal("1"))],
        help_text="Share of a statement's purchases and revolved balance in its minimum payment.")
    revolving_daily_rate = rate_field(
        default="0.0005", validators=[MinValueValidator(Decimal("0")),
                                      MaxValueValidator(MAX_PENALTY_DAILY_RATE)],
        help_text="Daily interest on a statement not paid in full by its due date.")
    plan_fee_rates = models.JSONField(
        default=default_plan_fee_rates, blank=True, validators=[validate_plan_fee_rates],
        help_text="Instalment plans offered: months to total fee rate, e.g. {\"3\": \"0.025\"}.")
    plan_min_amount = money_field(default=Decimal("100.00"), validators=[validate_amount],
                                  help_text="Smallest statement or purchase that may be "
                                            "converted into an instalment plan.")
    max_partner_share = rate_field(default="0.70", validators=[
        MinValueValidator(Decimal("0")), MaxValueValidator(MAX_PARTNER_SHARE)])
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(min_daily_rate__gt=0,
                                               max_daily_rate__gte=F("min_daily_rate")),
                                   name="product_rate_band"),
            models.CheckConstraint(condition=Q(min_amount__gt=0, max_amount__gte=F("min_amount")),
                                   name="product_amount_bounds"),
            models.CheckConstraint(condition=Q(max_partner_share__gte=0,
                                               max_partner_share__lte="0.70"),
                                   name="product_partner_share_at_most_70pc"),
            models.CheckConstraint(condition=Q(apr_cap__gt=0, apr_cap__lte=APR_CEILING),
                                   name="product_apr_cap_in_range"),
            models.CheckConstraint(condition=Q(penalty_daily_rate__gte=0,
                                               penalty_daily_rate__lte=MAX_PENALTY_DAILY_RATE),
                                   name="product_penalty_rate_in_range"),
            models.CheckConstraint(condition=Q(grace_days__lte=MAX_GRACE_DAYS),
                                   name="product_grace_days_in_range"),
            models.CheckConstraint(
                condition=Q(write_off_days__gte=1, write_off_days__lte=MAX_WRITE_OFF_DAYS),
                name="product_write_off_days_in_range"),
            models.CheckConstraint(
                condition=Q(max_extension_months__gte=1,
                            max_extension_months__lte=MAX_EXTENSION_MONTHS),
                name="product_max_extension_months_in_range"),
            models.CheckConstraint(
                condition=Q(statement_due_days__gte=1,
                            statement_due_days__lte=MAX_STATEMENT_DUE_DAYS,
                            minimum_payment_rate__gt=0, minimum_payment_rate__lte=1,
                            revolving_daily_rate__gte=0,
                            revolving_daily_rate__lte=MAX_PENALTY_DAILY_RATE,
                            plan_min_amount__gt=0),
                name="product_pay_later_terms_in_range"),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        """The bounds that involve two fields, as errors on the field an officer would fix. (A
        field that failed its own checks may still hold what was given: compared only once
        both are numbers.)"""
        errors = {}
        for low_name, high_name, what in (("min_daily_rate", "max_daily_rate", "daily rate"),
                                          ("min_amount", "max_amount", "amount")):
            low, high = getattr(self, low_name), getattr(self, high_name)
            if isinstance(low, Decimal | int) and isinstance(high, Decimal | int) and high < low:
                errors[high_name] = f"The maximum {what} is below the minimum."
        if errors:
            raise ValidationError(errors)
