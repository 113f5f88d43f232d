"""The block list: people the lender will not serve. The admin (risk officers and managers) adds
and removes entries only through these services.

An entry is a person: a valid identity number (the profiles' own parser, stored as profiles
store it: upper case, no spaces), their full name and date of birth. The applicant read
(`risk.selectors.applicant`) matches an applicant by the number, or by the same name and date of
birth, so a new number for the same person is caught too. An entry can be made from a
customer's profile, which then supplies whatever the officer left out."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.identity import IdNumberInvalid, id_number_parse
from accounts.models import CustomerProfile
from core.audit import actor_system, actor_user, audit_event_append

from ..errors import RiskError
from ..models import BlockListEntry

FULL_NAME_LENGTH = BlockListEntry._meta.get_field("full_name").max_length


def _name(value) -> str:
    """A full name as entries keep it: inner runs of spaces made one, ends stripped."""
    return " ".join(str(value or "").split())


def block_list_person_check(*, id_number, full_name, birth_date) -> dict:
    """The entry's person fields, cleaned, or a ValidationError naming each problem by field
    (the admin form asks this too, so its messages sit next to the inputs)."""
    errors, cleaned = {}, {}
    try:
        parsed = id_number_parse(id_number) if str(id_number or "").strip() else None
    except IdNumberInvalid as error:
        errors["id_number"] = [str(error)]
    else:
        if parsed is None:
            errors["id_number"] = ["An identity number is required."]
        else:
            cleaned["id_number"] = parsed.number
    name = _name(full_name)
    if not name:
        errors["full_name"] = ["The person's full name is required."]
    elif len(name) > FULL_NAME_LENGTH:
        errors["full_name"] = [f"At most {FULL_NAME_LENGTH} characters."]
    cleaned["full_name"] = name
    if not isinstance(birth_date, date):
        errors["birth_date"] = ["The person's date of birth is required."]
    elif "id_number" in cleaned and parsed.birth_date != birth_date:
        errors["birth_date"] = [f"This identity number belongs to someone born on "
                                f"{parsed.birth_date:%Y-%m-%d}, not on {birth_date:%Y-%m-%d}."]
    cleaned["birth_date"] = birth_date
    if errors:
        raise ValidationError(errors)
    return cleaned


def _profile_person(customer) -> dict:
    profile = CustomerProfile.objects.filter(user=customer).first()
    if profile is None:
        raise RiskError(f"{customer} has no profile to block.")
    return {"id_number": profile.id_number, "full_name": profile.full_name,
            "birth_date": profile.birth_date}


def block_list_person(*, id_number=None, full_name=None, birth_date=None,
                      customer=None) -> dict:
    """The entry's person, cleaned (`block_list_person_check`). With `customer`, their profile
    supplies what was left out, and what was given must agree with it (a ValidationError by
    field says where it does not); a customer without a profile is a RiskError."""
    given = {"id_number": id_number, "full_name": full_name, "birth_date": birth_date}
    if customer is not None:
        person = _profile_person(customer)
        differ = {}
        for field, value in given.items():
            if value in (None, ""):
                given[field] = person[field]
            elif _same(field, value, person[field]) is False:
                differ[field] = [f"This differs from {customer}'s profile ({person[field]})."]
        if differ:
            raise ValidationError(differ)
    return block_list_person_check(**given)


def block_list_entry_add(*, reason: str, id_number=None, full_name=None, birth_date=None,
                         customer=None, added_by=None) -> BlockListEntry:
    """Block this person, recording who did it and why. With `customer`, their profile supplies
    the number, name and date of birth the caller left out; those given must agree with it."""
    cleaned = block_list_person(id_number=id_number, full_name=full_name,
                                birth_date=birth_date, customer=customer)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["A reason is required to block someone."]})
    try:
        with transaction.atomic():
            entry = BlockListEntry.objects.create(**cleaned, reason=reason, customer=customer,
                                                  added_by=added_by)
            audit_event_append(actor=_actor(added_by), action="block_list.add",
                               subject_kind="block_list", subject_id=entry.id_number,
                               payload={"entry": entry.pk, "reason": reason,
                                        "full_name": entry.full_name,
                                        "birth_date": entry.birth_date,
                                        "customer": customer.pk if customer else None})
            return entry
    except IntegrityError:
        raise RiskError(f"{cleaned['id_number']} is already on the block list.") from None


def _same(field, given, on_profile):
    """Whether a value given agrees with the profile's; None when the number cannot be read
    (the person check reports it)."""
    if field == "id_number":
        try:
            return id_number_parse(given).number == on_profile
        except IdNumberInvalid:
            return None
    if field == "full_name":
        return _name(given) == _name(on_profile)
    return given == on_profile


def block_list_entry_remove(*, entry_id: int, removed_by=None) -> None:
    """Lift a block, leaving its trace on the person's audit chain; removing an entry that is
    already gone changes nothing."""
    with transaction.atomic():
        entry = BlockListEntry.objects.select_for_update().filter(pk=entry_id).first()
        if entry is None:
            return
        audit_event_append(actor=_actor(removed_by), action="block_list.remove",
                           subject_kind="block_list", subject_id=entry.id_number,
                           payload={"entry": entry.pk, "reason_it_was_added": entry.reason,
                                    "full_name": entry.full_name,
                                    "birth_date": entry.birth_date})
        entry.delete()


def _actor(user):
    return actor_user(user) if user is not None else actor_system("block list")
