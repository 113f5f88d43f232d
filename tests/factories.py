"""factory_boy factories shared by every test folder."""

from decimal import Decimal

import factory

from accounts.models import CustomerProfile, EmploymentStatus, Merchant, User
from core.audit import actor_system
from core.calendar import business_date_today
from lending.models import CreditLine, CreditProduct, ProductKind, RepaymentMethod
from lending.services import partner_bank_create


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"customer{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerProfile

    user = factory.SubFactory(UserFactory)
    full_name = factory.Sequence(lambda n: f"Customer {n}")
    birth_date = factory.Faker("date_of_birth", minimum_age=22, maximum_age=60)
    monthly_income = Decimal("12000.00")
    employment_status = EmploymentStatus.EMPLOYED
    employer_months = 24
    city = "Hangzhou"
    consent_credit_check = True
    consent_data_use = True


class CashLoanProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CreditProduct
        django_get_or_create = ("code",)

    code = "cash"
    name = "Cash loan"
    kind = ProductKind.CASH_LOAN
    min_daily_rate = Decimal("0.00020000")
    max_daily_rate = Decimal("0.00065000")
    penalty_daily_rate = Decimal("0.00050000")
    allowed_terms = [3, 6, 12]
    repayment_methods = [m.value for m in RepaymentMethod]
    grace_days = 3
    min_amount = Decimal("500.00")
    max_amount = Decimal("200000.00")
    apr_cap = Decimal("24.00")
    max_partner_share = Decimal("0.70")


class CreditLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CreditLine

    customer = factory.SubFactory(UserFactory)
    product = factory.SubFactory(CashLoanProductFactory)
    credit_limit = Decimal("50000.00")
    daily_rate = Decimal("0.00050000")
    opened_on = factory.LazyFunction(business_date_today)


class PayLaterProductFactory(factory.django.DjangoModelFactory):
    """花呗 with the product's defaults: statement due 9 days after the statement day, minimum
    10 %, revolving interest 0.05 % a day, penalty 0.05 % a day, plans from 100."""

    class Meta:
        model = CreditProduct
        django_get_or_create = ("code",)

    code = "paylater"
    name = "Pay later"
    kind = ProductKind.PAY_LATER
    min_daily_rate = Decimal("0.00050000")
    max_daily_rate = Decimal("0.00050000")
    penalty_daily_rate = Decimal("0.00050000")
    allowed_terms = [1]
    repayment_methods = [RepaymentMethod.EQUAL_INSTALMENT.value]
    grace_days = 3
    min_amount = Decimal("1.00")
    max_amount = Decimal("50000.00")
    apr_cap = Decimal("24.00")
    max_partner_share = Decimal("0")


class PayLaterLineFactory(CreditLineFactory):
    product = factory.SubFactory(PayLaterProductFactory)
    credit_limit = Decimal("5000.00")
    statement_day = 1


class MerchantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Merchant
        django_get_or_create = ("code",)

    code = "shop"
    name = "Demo shop"
    fee_rate = Decimal("0.006")
    return_url_prefixes = ["https://shop.example.com/"]


def partner_bank(code="bank-a", share="0.70"):
    return partner_bank_create(code=code, name=f"Bank {code}", funding_share=share,
                               actor=actor_system("tests"))


def set_business_date(day):
    """Tests start a story on a chosen day; in the product only the close moves the date."""
    from core.models import BusinessDate

    BusinessDate.objects.update(current=day)
