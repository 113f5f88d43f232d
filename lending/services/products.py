"""Products and partner banks. A product's terms are validated on the model (`full_clean`):
a value out of bounds is a Django `ValidationError` keyed by its field, as the admin shows it."""

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import PartnerBank
from core.audit import audit_event_append
from core.errors import InvalidAmount
from core.money import to_decimal, to_money

from ..errors import LendingError
from ..models import CreditProduct
from .ledger import chart_of_accounts_ensure

PRODUCT_FIELDS = (
    "code", "name", "kind", "min_daily_rate", "max_daily_rate", "penalty_daily_rate",
    "allowed_terms", "repayment_methods", "grace_days", "min_amount", "max_amount", "apr_cap",
    "max_partner_share", "max_extension_months", "is_active",
)
PRODUCT_EDITABLE = (
    "name", "min_daily_rate", "max_daily_rate", "penalty_daily_rate", "allowed_terms",
    "repayment_methods", "grace_days", "apr_cap", "max_partner_share", "max_extension_months",
    "is_active",
)


def partner_bank_create(*, code: str, name: str, funding_share, actor) -> PartnerBank:
    """A co-funding bank with its ledger accounts."""
    share = to_decimal(funding_share, what="funding share")
    with transaction.atomic():
        bank = PartnerBank.objects.create(code=code, name=name, funding_share=share)
        chart_of_accounts_ensure(bank)
        audit_event_append(actor=actor, action="partner_bank.create", subject_kind="partner_bank",
                           subject_id=bank.pk, payload={"code": code, "name": name,
                                                        "funding_share": share})
    return bank


def credit_product_create(*, code, name, kind, min_daily_rate, max_daily_rate,
                          penalty_daily_rate, allowed_terms, repayment_methods, grace_days,
                          min_amount, max_amount, apr_cap, max_partner_share, actor,
                          is_active=True, max_extension_months=12) -> CreditProduct:
    """A product; `is_active` says whether customers may apply for it, `max_extension_months`
    how many months an officer may add to a loan's term at once."""
    given = {"min_daily_rate": min_daily_rate, "max_daily_rate": max_daily_rate,
             "penalty_daily_rate": penalty_daily_rate, "allowed_terms": allowed_terms,
             "repayment_methods": repayment_methods, "min_amount": min_amount,
             "max_amount": max_amount, "apr_cap": apr_cap, "max_partner_share": max_partner_share}
    product = CreditProduct(code=code, name=name, kind=kind, grace_days=grace_days,
                            max_extension_months=max_extension_months, is_active=is_active,
                            **_product_values(given))
    product.full_clean()
    with transaction.atomic():
        product.save()
        audit_event_append(actor=actor, action="product.create", subject_kind="product",
                           subject_id=product.pk,
                           payload={name: getattr(product, name) for name in PRODUCT_FIELDS})
    return product


def credit_product_update(*, product_id, changes: dict, reason: str, actor) -> CreditProduct:
    """Change a product's terms; they apply to lines and loans from now on, never to loans
    already drawn. Its code, kind and amount bounds are fixed: lines hang on them."""
    unknown = set(changes) - set(PRODUCT_EDITABLE)
    if unknown:
        raise LendingError(f"These product fields cannot be changed: {sorted(unknown)}.")
    reason = (reason or "").strip()
    if not reason:
        raise LendingError("A reason is required to change a product.")
    # Not durable: the admin's change form runs it inside its own transaction.
    with transaction.atomic():
        product = CreditProduct.objects.select_for_update().get(pk=product_id)
        before = {name: getattr(product, name) for name in changes}
        for name, value in _product_values(changes).items():
            setattr(product, name, value)
        product.full_clean()
        changed = {name: [before[name], getattr(product, name)] for name in changes
                   if before[name] != getattr(product, name)}
        if changed:
            product.save(update_fields=list(changed))
            audit_event_append(actor=actor, action="product.update", subject_kind="product",
                               subject_id=product.pk,
                               payload={"changes": changed, "reason": reason})
    return product


RATE_FIELDS = ("min_daily_rate", "max_daily_rate", "penalty_daily_rate", "apr_cap",
               "max_partner_share")
AMOUNT_FIELDS = ("min_amount", "max_amount")


def _product_values(given: dict) -> dict:
    """The given values as the product stores them: numbers parsed as Decimal (never float),
    terms sorted. Every refusal is a ValidationError on its field; what cannot be parsed is
    refused here, what is out of bounds by the model's validators (`full_clean`)."""
    values, errors = {}, {}
    for name, value in given.items():
        try:
            values[name] = _product_value(name, value)
        except InvalidAmount as error:
            errors[name] = str(error)
    if errors:
        raise ValidationError(errors)
    return values


def _product_value(name, value):
    what = name.replace("_", " ")
    if name in RATE_FIELDS:
        return to_decimal(value, what=what)
    if name in AMOUNT_FIELDS:
        return to_money(value, what=what)
    if name == "allowed_terms" and isinstance(value, list | tuple):
        # Sorted when they are whole numbers; anything else is left for the model's validator
        # to name (sorting ["x", 3] would fail on its own).
        value = list(value)
        if all(isinstance(term, int) and not isinstance(term, bool) for term in value):
            return sorted(value)
        return value
    if name == "repayment_methods" and isinstance(value, tuple):
        return list(value)
    return value
