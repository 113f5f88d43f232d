from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import PartnerBank
from core.audit import audit_event_append
from core.money import to_decimal, to_money

from ..errors import LendingError
from ..models import CreditProduct
from .ledger import chart_of_accounts_ensure

PRODUCT_FIELDS = (
    "code", "name", "kind", "min_daily_rate", "max_daily_rate", "penalty_daily_rate",
    "allowed_terms", "repayment_methods", "grace_days", "min_amount", "max_amount", "apr_cap",
    "max_partner_share", "is_active",
)
PRODUCT_EDITABLE = (
    "name", "min_daily_rate", "max_daily_rate", "penalty_daily_rate", "allowed_terms",
    "repayment_methods", "grace_days", "apr_cap", "max_partner_share", "is_active",
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
                          is_active=True) -> CreditProduct:
    """A product; `is_active` says whether customers may apply for it."""
    product = CreditProduct(
        code=code, name=name, kind=kind,
        min_daily_rate=to_decimal(min_daily_rate, what="minimum daily rate"),
        max_daily_rate=to_decimal(max_daily_rate, what="maximum daily rate"),
        penalty_daily_rate=to_decimal(penalty_daily_rate, what="penalty daily rate"),
        allowed_terms=sorted(allowed_terms), repayment_methods=list(repayment_methods),
        grace_days=grace_days, min_amount=to_money(min_amount, what="minimum amount"),
        max_amount=to_money(max_amount, what="maximum amount"),
        apr_cap=to_decimal(apr_cap, what="APR cap"),
        max_partner_share=to_decimal(max_partner_share, what="largest partner share"),
        is_active=is_active,
    )
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
        for name, value in changes.items():
            setattr(product, name, _product_value(name, value))
        product.full_clean()
        changed = {name: [before[name], getattr(product, name)] for name in changes
                   if before[name] != getattr(product, name)}
        if changed:
            product.save(update_fields=list(changed))
            audit_event_append(actor=actor, action="product.update", subject_kind="product",
                               subject_id=product.pk,
                               payload={"changes": changed, "reason": reason})
    return product


def _product_value(name, value):
    if name in ("min_daily_rate", "max_daily_rate", "penalty_daily_rate", "apr_cap",
                "max_partner_share"):
        return to_decimal(value, what=name.replace("_", " "))
    if name == "allowed_terms":
        if not isinstance(value, list):
            raise ValidationError({name: "Give the terms as a list of months."})
        return sorted(value)
    return value
