"""Partner banks' standing: whether a bank funds new loans and reads the API, and its name.
(A bank is created with its ledger accounts by `lending.services.partner_bank_create`.)"""

from django.db import transaction

from core.audit import audit_event_append
from core.errors import DomainError

from ..models import PartnerBank

EDITABLE = ("name", "is_active")


def partner_bank_update(*, bank_id, changes: dict, reason: str, actor) -> PartnerBank:
    """Rename a bank or switch it on or off: an inactive bank funds no new loans and its API
    clients are refused. Its code and funding share are fixed (the ledger and every loan's split
    hang on them)."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise DomainError(f"These partner bank fields cannot be changed: {sorted(unknown)}.")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("A reason is required to change a partner bank.")
    # Not durable: the admin's change form runs it inside its own transaction.
    with transaction.atomic():
        bank = PartnerBank.objects.select_for_update().get(pk=bank_id)
        changed = {name: [getattr(bank, name), value] for name, value in changes.items()
                   if getattr(bank, name) != value}
        for name, (_old, new) in changed.items():
            setattr(bank, name, new)
        if changed:
            bank.full_clean()
            bank.save(update_fields=list(changed))
            audit_event_append(actor=actor, action="partner_bank.update",
                               subject_kind="partner_bank", subject_id=bank.pk,
                               payload={"changes": changed, "reason": reason})
    return bank
