"""The block list: people the lender will not serve, by identity number. The admin (risk officers
and managers) adds and removes entries only through these services."""

from django.db import IntegrityError, transaction

from .errors import RiskError
from .models import BlockListEntry

ID_NUMBER_LENGTH = BlockListEntry._meta.get_field("id_number").max_length


def block_list_entry_add(*, id_number: str, reason: str, added_by=None) -> BlockListEntry:
    """Block this identity number, recording who did it and why."""
    id_number = (id_number or "").strip()
    reason = (reason or "").strip()
    if not id_number:
        raise RiskError("An identity number is required.")
    if len(id_number) > ID_NUMBER_LENGTH:
        raise RiskError(f"An identity number has at most {ID_NUMBER_LENGTH} characters.")
    if not reason:
        raise RiskError("A reason is required to block someone.")
    try:
        with transaction.atomic():
            return BlockListEntry.objects.create(id_number=id_number, reason=reason,
                                                 added_by=added_by)
    except IntegrityError:
        raise RiskError(f"{id_number} is already on the block list.") from None


def block_list_entry_remove(*, entry_id: int) -> None:
    """Lift a block; removing an entry that is already gone changes nothing."""
    BlockListEntry.objects.filter(pk=entry_id).delete()
