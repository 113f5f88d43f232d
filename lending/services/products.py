from django.db import transaction

from accounts.models import PartnerBank

from ..models import CreditProduct
from ..money import to_decimal, to_money
from .ledger import chart_of_accounts_ensure


def partner_bank_create(*, code: str, name: str, funding_share) -> PartnerBank:
    """A co-funding bank with its ledger accounts."""
    share = to_decimal(funding_share, what="funding share")
    with transaction.atomic():
        bank = PartnerBank.objects.create(code=code, name=name, funding_share=share)
        chart_of_accounts_ensure(bank)
    return bank


def credit_product_create(*, code, name, kind, min_daily_rate, max_daily_rate,
                          penalty_daily_rate, allowed_terms, repayment_methods, grace_days,
                          min_amount, max_amount, apr_cap, max_partner_share,
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
    product.save()
    return product
