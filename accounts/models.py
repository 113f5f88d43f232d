"""Who uses the platform: customers, staff in their roles, partner banks and merchants with
their API clients."""

from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop


class UserManager(DjangoUserManager):
    def get_by_natural_key(self, username):
        """The user a login name names, whatever its letter case: login names are unique
        regardless of case (the constraint on `User`), and customers' are e-mail addresses,
        which people type with capitals now and then."""
        return self.alias(login_name=Lower(self.model.USERNAME_FIELD)).get(
            login_name=Lower(models.Value(username, output_field=models.CharField())))


class User(AbstractUser):
    """Customers and staff alike; staff roles are the groups in `accounts.roles`.

    A customer's username is their e-mail address in lower case (sign-up makes it so); staff
    and demo users have plain names. No two usernames differ only in letter case."""

    # As long as the e-mail column, since customers log in with their address.
    username = models.CharField(
        "username", max_length=254, unique=True,
        help_text="Required. 254 characters or fewer. Letters, digits and @/./+/-/_ only.",
        validators=[AbstractUser.username_validator],
        error_messages={"unique": "A user with that username already exists."},
    )
    phone = models.CharField(max_length=32, blank=True)
    # The language the customer reads pages and notices in (a code of settings.LANGUAGES):
    # set when they switch language, when they sign up, or at their first sign-in from the
    # language their browser asked for. Blank: not known yet, so notices use LANGUAGE_CODE.
    language = models.CharField(max_length=16, blank=True, default="")

    objects = UserManager()

    class Meta(AbstractUser.Meta):
        constraints = [
            models.UniqueConstraint(
                Lower("username"), name="user_username_unique_any_case",
                violation_error_message="A user with that username already exists (in "
                                        "another letter case)."),
        ]

    @classmethod
    def login_name_key(cls, name) -> str:
        """One spelling of a typed login name, the way uniqueness and logins compare names:
        Unicode-normalised, trimmed and lower-cased. Failed logins are counted under it."""
        return cls.normalize_username(name or "").strip().lower()


class EmploymentStatus(models.TextChoices):
    EMPLOYED = "employed", _("Employed")
    SELF_EMPLOYED = "self_employed", _("Self-employed")
    STUDENT = "student", _("Student")
    RETIRED = "retired", _("Retired")
    UNEMPLOYED = "unemployed", _("Not working")


class Housing(models.TextChoices):
    OWNED = "owned", _("Own home, no mortgage")
    MORTGAGE = "mortgage", _("Own home with a mortgage")
    RENTED = "rented", _("Rent")
    FAMILY = "family", _("Live with family")


class Gender(models.TextChoices):
    """A protected attribute: kept for fairness monitoring, never a model input."""

    FEMALE = "female", "Female"
    MALE = "male", "Male"
    UNSTATED = "unstated", "Not stated"


ID_NUMBER_UNIQUE = "profile_one_customer_per_id_number"
# Marked for translation only: the profile service shows it translated (gettext).
ID_NUMBER_TAKEN = gettext_noop("This identity number is already registered to another account.")


class CustomerProfile(models.Model):
    """What a customer tells us when applying; the risk engine builds its features from it."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="profile")
    full_name = models.CharField(max_length=120)
    birth_date = models.DateField()
    monthly_income = models.DecimalField(max_digits=18, decimal_places=2)
    employment_status = models.CharField(max_length=20, choices=EmploymentStatus.choices)
    employer_months = models.PositiveIntegerField("months with current employer", default=0)
    city = models.CharField(max_length=80)
    # 1 = the largest cities ... 4 = rural; derived from `city` when the profile is saved.
    city_tier = models.PositiveSmallIntegerField(default=3)
    housing = models.CharField(max_length=10, choices=Housing.choices, blank=True)
    monthly_debt_payments = models.DecimalField(
        "monthly payments on other debts", max_digits=18, decimal_places=2, default=0)
    # Resident identity number; `identity_verified` says it is well-formed (ISO 7064 check
    # digit) and agrees with the date of birth given.
    id_number = models.CharField(max_length=18, blank=True, db_index=True)
    identity_verified = models.BooleanField(default=False)
    gender = models.CharField(max_length=10, choices=Gender.choices, default=Gender.UNSTATED)
    consent_credit_check = models.BooleanField(default=False)
    consent_data_use = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        permissions = [
            # Checked through `accounts.masking.identity_visible`.
            ("view_unmasked_identity", "Can see identity and phone numbers unmasked"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(monthly_income__gte=0),
                                   name="profile_income_not_negative"),
            models.CheckConstraint(condition=models.Q(monthly_debt_payments__gte=0),
                                   name="profile_debt_not_negative"),
            models.CheckConstraint(condition=models.Q(city_tier__gte=1, city_tier__lte=4),
                                   name="profile_city_tier_1_to_4"),
            # One identity number, one customer (a blank number is no one's yet).
            models.UniqueConstraint(
                fields=["id_number"], condition=~models.Q(id_number=""),
                name=ID_NUMBER_UNIQUE, violation_error_message=ID_NUMBER_TAKEN),
        ]

    def __str__(self):
        return self.full_name


class CustomerSignals(models.Model):
    """Behavioural data a customer consented to share from their shopping and payment accounts
    (the signals a Huabei-style lender relies on). Each field may be unknown: the risk model
    treats a missing value as missing, never as zero."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="signals")
    observed_on = models.DateField()
    shopping_orders_per_month = models.DecimalField(max_digits=8, decimal_places=2, null=True)
    shopping_spend_per_month = models.DecimalField(max_digits=18, decimal_places=2, null=True)
    # Share of utility and phone bills paid on time over the last year, 0 to 1.
    bills_on_time_share = models.DecimalField(max_digits=5, decimal_places=4, null=True)
    account_age_months = models.PositiveIntegerField(null=True)
    phone_number_months = models.PositiveIntegerField(null=True)
    devices_last_year = models.PositiveSmallIntegerField(null=True)

    class Meta:
        verbose_name_plural = "customer signals"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(bills_on_time_share__gte=0, bills_on_time_share__lte=1)
                | models.Q(bills_on_time_share__isnull=True),
                name="signals_on_time_share_0_to_1"),
        ]

    def __str__(self):
        return f"signals of {self.user}"


class PartnerBank(models.Model):
    """A bank that co-funds cash loans (联合贷) and reads its loans through the API."""

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=120)
    is_active = models.BooleanField(default=True)
    # The share of each loan this bank funds; origination caps it at the product's maximum.
    funding_share = models.DecimalField(max_digits=10, decimal_places=8)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(funding_share__gt=0, funding_share__lte=1),
                name="partner_share_in_range",
            ),
        ]

    def __str__(self):
        return self.name


class PartnerApiClient(models.Model):
    """Ties an OAuth2 client-credentials application to the bank it speaks for."""

    partner_bank = models.ForeignKey(PartnerBank, on_delete=models.PROTECT,
                                     related_name="api_clients")
    application = models.OneToOneField(settings.OAUTH2_PROVIDER_APPLICATION_MODEL,
                                       on_delete=models.CASCADE, related_name="partner_client")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.partner_bank.code}: {self.application.client_id}"


class Merchant(models.Model):
    """A shop that takes the pay-later line (花呗) at its checkout. It speaks to the platform as
    an OAuth2 client of its own (`MerchantApiClient`), is paid each purchase less its fee, and
    may send its customer back only to a return address under one of `return_url_prefixes`."""

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=120)
    is_active = models.BooleanField(default=True)
    # The merchant discount: the share of each purchase the platform keeps when it settles.
    fee_rate = models.DecimalField(max_digits=10, decimal_places=8, default=Decimal("0.006"))
    return_url_prefixes = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(fee_rate__gte=0, fee_rate__lt=Decimal("0.1")),
                name="merchant_fee_rate_in_range"),
        ]

    def __str__(self):
        return self.name


class NoticeKind(models.TextChoices):
    DUNNING = "dunning", _("Payment reminder")
    ACCOUNT = "account", _("Account")


class Notice(models.Model):
    """A message to a customer (通知): shown in their inbox and sent by e-mail after the
    transaction that wrote it commits. `key` names what the notice is about, so that the same
    reminder is never written twice (for dunning: loan, point and due date)."""

    # No index of its own: the two below lead with the customer. The close writes a hundred
    # thousand notices on a busy night, and each index is one more insert per notice.
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="notices", db_index=False)
    kind = models.CharField(max_length=20, choices=NoticeKind.choices)
    key = models.CharField(max_length=120)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    business_date = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-business_date", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "key"], name="one_notice_per_key"),
        ]
        indexes = [
            models.Index(fields=["customer", "read_at"], name="notice_unread"),
        ]

    def __str__(self):
        return f"{self.customer}: {self.subject}"


class MerchantApiClient(models.Model):
    """Ties an OAuth2 client-credentials application to the merchant it speaks for: its tokens
    carry the checkout scope only, and reach the merchant API only (accounts.oauth)."""

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="api_clients")
    application = models.OneToOneField(settings.OAUTH2_PROVIDER_APPLICATION_MODEL,
                                       on_delete=models.CASCADE, related_name="merchant_client")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.merchant.code}: {self.application.client_id}"
