"""An officer's verification of a customer's monthly income (`risk.income` says what it changes:
the customer's next decision uses the verified figure, or the declared one if lower, instead of
the lower of the old and new declared figures)."""

from django.db import transaction

from accounts.models import CustomerProfile, User
from core.audit import actor_user, audit_event_append
from core.calendar import business_date_today
from core.errors import InvalidAmount
from core.money import to_amount

from ..errors import RiskError
from ..models import IncomeVerification


def income_verify(*, customer_id: int, monthly_income, evidence: str,
                  verified_by) -> IncomeVerification:
    """Record that `verified_by` saw evidence of this monthly income for the customer."""
    try:
        amount = to_amount(monthly_income, what="The verified monthly income", allow_zero=True)
    except InvalidAmount as error:
        raise RiskError(str(error)) from None
    evidence = (evidence or "").strip()
    if not evidence:
        raise RiskError("Say what the income was verified from (payslips, bank statements, "
                        "a tax record).")
    if verified_by is None or verified_by.pk is None:
        raise RiskError("An income is verified by a signed-in officer.")
    with transaction.atomic():
        # The customer first, as decisions and acceptances lock them: a decision in progress
        # finishes on what it read, the next one sees this verification.
        customer = User.objects.select_for_update().filter(pk=customer_id).first()
        if customer is None:
            raise RiskError("There is no such customer.")
        if verified_by.pk == customer.pk:
            raise RiskError("Nobody verifies their own income.")
        profile = CustomerProfile.objects.filter(user=customer).first()
        if profile is None:
            raise RiskError(f"{customer} has no profile, so no declared income to verify.")
        verification = IncomeVerification.objects.create(
            customer=customer, monthly_income=amount, declared_income=profile.monthly_income,
            evidence=evidence, verified_by=verified_by, business_date=business_date_today())
        audit_event_append(actor=actor_user(verified_by), action="income.verify",
                           subject_kind="customer", subject_id=customer.pk,
                           payload={"verification": verification.pk, "monthly_income": amount,
                                    "declared_income": profile.monthly_income,
                                    "evidence": evidence,
                                    "business_date": verification.business_date})
    return verification
