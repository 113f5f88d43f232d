"""The block list: people the lender will not serve, by identity number. The admin (risk officers
and managers) adds and removes entries only through these services."""

from django.db import IntegrityError, transaction

from core.audit import actor_system, actor_user, audit_event_append

from ..errors import RiskError
from ..models import BlockListEntry

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
            entry = BlockListEntry.objects.create(id_number=id_number, reason=reason,
                                                  added_by=added_by)
            audit_event_append(actor=_actor(added_by), action="block_list.add",
                               subject_kind="block_list", subject_id=id_number,
                               payload={"entry": entry.pk, "reason": reason})
            return entry
    except IntegrityError:
        raise RiskError(f"{id_number} is already on the block list.") from None


def block_list_entry_remove(*, entry_id: int, removed_by=None) -> None:
    """Lift a block, leaving its trace on the person's audit chain; removing an entry that is
    already gone changes nothing."""
    with transaction.atomic():
        entry = BlockListEntry.objects.select_for_update().filter(pk=entry_id).first()
        if entry is None:
            return
        audit_event_append(actor=_actor(removed_by), action="block_list.remove",
                           subject_kind="block_list", subject_id=entry.id_number,
                           payload={"entry": entry.pk, "reason_it_was_added": entry.reason})
        entry.delete()


def _actor(user):
    return actor_user(user) if user is not None else actor_system("block list")
