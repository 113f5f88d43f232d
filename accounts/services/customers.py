"""Customers signing up and telling us about themselves.

Both services check everything themselves, whoever calls them (pages, demo seeding, the admin),
and raise `ValidationError` keyed by field so a form can show each message next to its input."""

from datetime import date

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.cities import city_tier
from accounts.identity import IdNumberInvalid, id_number_normalise, id_number_parse
from accounts.models import (
    ID_NUMBER_TAKEN,
    ID_NUMBER_UNIQUE,
    CustomerProfile,
    CustomerSignals,
    EmploymentStatus,
    Gender,
    Housing,
    User,
)
from accounts.services.signals import SIGNAL_FIELDS, signals_checked
from core.batch import BATCH, instance_saved, rows_insert
from core.calendar import business_date_today
from core.errors import InvalidAmount
from core.money import to_amount

ADULT_AGE = 18
OLDEST_PLAUSIBLE_AGE = 120
MAX_EMPLOYER_MONTHS = 12 * 80
PROFILE_FIELDS = {
    "full_name", "birth_date", "monthly_income", "employment_status", "employer_months", "city",
    "housing", "monthly_debt_payments", "id_number", "consent_credit_check", "consent_data_use",
}


# A customer's age is reckoned on the business date, the platform's clock, never on the wall
# clock (docs/architecture.md, "Business date").
def age_on(birth_date: date, day: date) -> int:
    """Completed years on `day`, as a person counts them: one more on each birthday."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def birth_date_problems(birth_date, today=None) -> list[str]:
    """Why this date of birth cannot be accepted (empty if it can): customers are adults.

    The profile form asks this too, so the age shows up with the form's other messages."""
    today = today or business_date_today()
    if not isinstance(birth_date, date):
        return [_("Enter a valid date of birth.")]
    if birth_date > today:
        return [_("The date of birth is in the future.")]
    if age_on(birth_date, today) < ADULT_AGE:
        return [_("You must be at least %(age)d years old.") % {"age": ADULT_AGE}]
    if age_on(birth_date, today) > OLDEST_PLAUSIBLE_AGE:
        return [_("Check the year of birth.")]
    return []


def _amount(value, what):
    """A monthly amount of zero or more: the platform's one money parser, its refusal shown
    on the form field."""
    try:
        return to_amount(value, what=what, allow_zero=True)
    except InvalidAmount as error:
        raise ValidationError(str(error)) from None


def _identity(id_number: str, birth_date) -> dict:
    """identity_verified and gender from a well-formed number (`IdNumberInvalid` otherwise:
    wrong shape, wrong check character, a region that is no region of China, no real birth
    date). A blank number is allowed: the profile is saved unverified and policy declines
    credit."""
    if not id_number:
        return {"id_number": "", "identity_verified": False, "gender": Gender.UNSTATED}
    parsed = id_number_parse(id_number)
    return {"id_number": parsed.number,
            "identity_verified": parsed.birth_date == birth_date,
            "gender": Gender.MALE if parsed.male else Gender.FEMALE}


def _check_profile(fields, today=None):
    """The cleaned fields, or a ValidationError listing every problem by field."""
    errors = {}
    cleaned = dict(fields)

    for name, limit in (("full_name", 120), ("city", 80)):
        # Inner runs of spaces made one: the block list matches people by name.
        value = " ".join(str(fields.get(name) or "").split())
        if not value:
            errors[name] = [_("This field is required.")]
        elif len(value) > limit:
            errors[name] = [_("At most %(limit)d characters.") % {"limit": limit}]
        cleaned[name] = value

    if problems := birth_date_problems(fields.get("birth_date"), today):
        errors["birth_date"] = problems

    for name, what in (("monthly_income", "Monthly income"),
                       ("monthly_debt_payments", "Monthly payments on other debts")):
        try:
            cleaned[name] = _amount(fields.get(name), what)
        except ValidationError as error:
            errors[name] = error.messages

    if fields.get("housing") not in Housing.values:
        errors["housing"] = [_("Choose your housing situation.")]

    raw_id = fields.get("id_number")
    if raw_id is not None and not isinstance(raw_id, str):
        errors["id_number"] = [_("Enter the identity number as text.")]
    else:
        try:
            cleaned.update(_identity(id_number_normalise(raw_id), fields.get("birth_date")))
        except IdNumberInvalid as error:
            errors["id_number"] = [str(error)]

    if fields.get("employment_status") not in EmploymentStatus.values:
        errors["employment_status"] = [_("Choose an employment status.")]

    months = fields.get("employer_months")
    if isinstance(months, bool) or not isinstance(months, int) or not (
            0 <= months <= MAX_EMPLOYER_MONTHS):
        errors["employer_months"] = [_("Enter a whole number of months from 0 to %(most)d.")
                                     % {"most": MAX_EMPLOYER_MONTHS}]

    for name in ("consent_credit_check", "consent_data_use"):
        if not isinstance(fields.get(name), bool):
            errors[name] = [_("Answer yes or no.")]

    if errors:
        raise ValidationError(errors)
    cleaned["city_tier"] = city_tier(cleaned["city"])
    return cleaned


def customer_profile_save(*, user, **fields) -> CustomerProfile:
    """Create or replace the customer's profile with every field given, after checking them.

    Derived on the way: city_tier from the city, and from the identity number the gender and
    identity_verified (well-formed, right check character, a real region of GB/T 2260, and
    born on the date of birth given). A malformed number is a ValidationError on
    `id_number`."""
    unknown = set(fields) - PROFILE_FIELDS
    missing = PROFILE_FIELDS - set(fields)
    if unknown or missing:
        raise TypeError(f"customer_profile_save needs exactly {sorted(PROFILE_FIELDS)}; "
                        f"unknown {sorted(unknown)}, missing {sorted(missing)}.")
    cleaned = _check_profile(fields)
    number = cleaned["id_number"]
    if number and CustomerProfile.objects.filter(id_number=number).exclude(user=user).exists():
        raise ValidationError({"id_number": [_(ID_NUMBER_TAKEN)]})
    try:
        with transaction.atomic():
            profile, _created = CustomerProfile.objects.update_or_create(user=user,
                                                                         defaults=cleaned)
    except IntegrityError as error:
        # Another account saved the number since the check above.
        if _id_number_taken(error):
            raise ValidationError({"id_number": [_(ID_NUMBER_TAKEN)]}) from None
        raise
    return profile


def _id_number_taken(error: IntegrityError) -> bool:
    """The error is the one-customer-per-identity-number rule's (the database's last word
    when two accounts save one number at the same moment)."""
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None) == ID_NUMBER_UNIQUE


def _id_numbers_check(usernames, profiles):
    """No number twice in the batch, and none that another customer already holds."""
    first = {}
    for username, cleaned in zip(usernames, profiles, strict=True):
        number = cleaned["id_number"]
        if not number:
            continue
        if number in first:
            raise ValidationError({"id_number": [
                f"{username} and {first[number]} have the same identity number: "
                f"{ID_NUMBER_TAKEN}"]})
        first[number] = username
    numbers = list(first)
    for start in range(0, len(numbers), BATCH):
        taken = (CustomerProfile.objects.filter(id_number__in=numbers[start:start + BATCH])
                 .values_list("id_number", flat=True).first())
        if taken is not None:
            raise ValidationError({"id_number": [
                f"{first[taken]}'s identity number: {ID_NUMBER_TAKEN}"]})


def customers_create_many(people, *, signals_observed_on) -> list[User]:
    """Many customers at once (the population simulator's path): each person is
    (username, email, profile fields, signals or None), checked by the same rules as
    `customer_sign_up`'s names, `customer_profile_save` and `customer_signals_record`. They get
    unusable passwords: nobody signs in as them, and hashing thousands of passwords takes
    minutes. One identity number, one customer: a number repeated in `people`, or already
    held by a customer, is a ValidationError on `id_number` and nobody is created."""
    today = business_date_today()
    users, profiles, signals = [], [], []
    for username, email, fields, shared in people:
        users.append(User(username=username, email=email, password=make_password(None)))
        unknown = set(fields) - PROFILE_FIELDS
        if unknown or PROFILE_FIELDS - set(fields):
            raise TypeError(f"A profile needs exactly {sorted(PROFILE_FIELDS)}.")
        profiles.append(_check_profile(fields, today))
        if shared is not None and not fields["consent_data_use"]:
            raise ValidationError(f"{username} has not consented to the use of their data.")
        signals.append(None if shared is None else signals_checked(shared))
    _id_numbers_check([user.username for user in users], profiles)
    # Rows as plain values (`rows_insert`): a model instance per profile and per signals row
    # cost more than the rest of signing a customer up. The users are returned, so they are
    # built as instances and written with the values they hold.
    user_fields = [f.attname for f in User._meta.concrete_fields if not f.primary_key]
    profile_fields = sorted({name for cleaned in profiles for name in cleaned})
    with transaction.atomic():
        ids = rows_insert(User, user_fields,
                          [[getattr(user, name) for name in user_fields] for user in users],
                          ids=True)
        for user, pk in zip(users, ids, strict=True):
            instance_saved(user, pk)
        rows_insert(CustomerProfile, ["user_id", *profile_fields],
                    [[user.pk, *(cleaned[name] for name in profile_fields)]
                     for user, cleaned in zip(users, profiles, strict=True)])
        rows_insert(CustomerSignals, ["user_id", "observed_on", *SIGNAL_FIELDS],
                    [[user.pk, signals_observed_on, *(values[name] for name in SIGNAL_FIELDS)]
                     for user, values in zip(users, signals, strict=True) if values is not None])
    return users
