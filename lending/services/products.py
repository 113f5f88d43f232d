from django.db import transaction

from accounts.models import PartnerBank

from ..money import to_decimal
from .ledger import chart_of_accounts_ensure


def partner_bank_create(*, code: str, name: str, funding_share) -> PartnerBank:
    """A co-funding bank with its ledger accounts."""
    share = to_decimal(funding_share, what="funding share")
    with transaction.atomic():
        bank = PartnerBank.objects.create(code=code, name=name, funding_share=share)
        chart_of_accounts_ensure(bank)
    return bank
