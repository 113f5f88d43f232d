"""A collector's log of attempts to reach a customer (催收记录)."""

from django.db import transaction

from core.audit import actor_user, audit_event_append
from core.calendar import business_date_today

from ..errors import CollectionError
from ..models import CollectionContact, ContactChannel, ContactOutcome
from .access import case_lock_for_work


def collection_contact_log(*, case_id, collector, channel, outcome, note="") -> CollectionContact:
    """Record that `collector` tried to reach the customer of `case_id` by `channel`, with
    `outcome`. Append-only: a wrong entry is corrected by another one. No notice to the
    customer: the contact itself was the message, and their account does not change."""
    if channel not in ContactChannel.values:
        raise CollectionError("Choose how the customer was contacted.")
    if outcome not in ContactOutcome.values:
        raise CollectionError("Choose the outcome of the contact.")
    note = (note or "").strip()
    if outcome == ContactOutcome.OTHER and not note:
        raise CollectionError("Say in the note what happened.")
    with transaction.atomic(durable=True):
        case = case_lock_for_work(case_id=case_id, user=collector)
        contact = CollectionContact.objects.create(
            case=case, collector=collector, channel=channel, outcome=outcome, note=note,
            business_date=business_date_today())
        audit_event_append(actor=actor_user(collector), action="collection_case.contact",
                           subject_kind="collection_case", subject_id=case.pk,
                           payload={"contact": contact.pk, "channel": channel,
                                    "outcome": outcome, "note": note,
                                    "business_date": contact.business_date})
    return contact
