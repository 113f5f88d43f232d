"""Who uses the platform: customers, staff in their roles, and partner banks with API clients."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """Customers and staff alike; staff roles are the groups in `accounts.roles`."""

    phone = models.CharField(max_length=32, blank=True)


class EmploymentStatus(models.TextChoices):
    EMPLOYED = "employed", "Employed"
    SELF_EMPLOYED = "self_employed", "Self-employed"
    STUDENT = "student", "Student"
    RETIRED = "retired", "Retired"
    UNEMPLOYED = "unemployed", "Not working"


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
    consent_credit_check = models.BooleanField(default=False)
    consent_data_use = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(monthly_income__gte=0),
                                   name="profile_income_not_negative"),
        ]

    def __str__(self):
        return self.full_name


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
