"""One identity number, one customer: the profile page says so plainly, the services refuse it
(one profile and many at once), the database refuses it whoever writes, the migration resolves
the duplicates older databases hold, and the simulator and demo never make any."""

import importlib
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.identity import id_number_make
from accounts.models import ID_NUMBER_TAKEN, ID_NUMBER_UNIQUE, CustomerProfile, User
from accounts.services import customer_profile_save, customers_create_many
from accounts.services.customers import _id_number_taken
from tests.factories import ProfileFactory, UserFactory, set_business_date

pytestmark = pytest.mark.django_db
BORN = date(1990, 5, 17)
NUMBER = id_number_make(region="330106", birth_date=BORN, sequence=123)
MIGRATION = importlib.import_module("accounts.migrations.0006_one_customer_per_identity")


@pytest.fixture(autouse=True)
def business_day(reference_data):
    set_business_date(date(2026, 3, 10))


def fields(**overrides):
    return {"full_name": "Lin Wei", "birth_date": BORN, "monthly_income": Decimal("15000.00"),
            "employment_status": "employed", "employer_months": 30, "city": "Hangzhou",
            "housing": "rented", "monthly_debt_payments": Decimal("0.00"), "id_number": NUMBER,
            "consent_credit_check": True, "consent_data_use": True, **overrides}


def form(**overrides):
    return {"full_name": "Lin Wei", "birth_date": "1990-05-17", "monthly_income": "15000",
            "employment_status": "employed", "employer_months": "30", "city": "Hangzhou",
            "housing": "rented", "monthly_debt_payments": "0", "id_number": NUMBER,
            "consent_credit_check": "on", "consent_data_use": "on", **overrides}


def test_the_profile_page_refuses_a_number_another_account_holds(client):
    customer_profile_save(user=UserFactory(), **fields())
    second = UserFactory()
    client.force_login(second)
    # Typed with spaces and a lower-case letter it is still the same number.
    response = client.post(reverse("profile"), form(id_number=f" {NUMBER[:6]} {NUMBER[6:]} "))
    assert response.status_code == 200
    assert response.context["form"].errors["id_number"] == [ID_NUMBER_TAKEN]
    assert ID_NUMBER_TAKEN in response.content.decode()
    assert not CustomerProfile.objects.filter(user=second).exists()
    # Another number goes through.
    other = id_number_make(region="330106", birth_date=BORN, sequence=125)
    assert client.post(reverse("profile"), form(id_number=other)).status_code == 302


def test_a_customer_saves_their_own_number_again():
    user = UserFactory()
    customer_profile_save(user=user, **fields())
    profile = customer_profile_save(user=user, **fields(monthly_income=Decimal("16000.00")))
    assert (profile.id_number, profile.monthly_income) == (NUMBER, Decimal("16000.00"))


def test_the_service_refuses_it_too():
    customer_profile_save(user=UserFactory(), **fields())
    with pytest.raises(ValidationError) as refused:
        customer_profile_save(user=UserFactory(), **fields(full_name="Someone Else"))
    assert refused.value.message_dict == {"id_number": [ID_NUMBER_TAKEN]}


def test_the_database_refuses_a_second_holder_and_allows_many_blanks():
    ProfileFactory(id_number=NUMBER)
    ProfileFactory(id_number="")
    ProfileFactory(id_number="")
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        ProfileFactory(id_number=NUMBER)
    # The error the profile service turns into the form's message when two saves race.
    assert _id_number_taken(refused.value)
    assert CustomerProfile.objects.filter(id_number=NUMBER).count() == 1


def test_a_race_past_the_check_is_still_a_form_error(monkeypatch):
    """Two accounts save one number at the same moment: both pass the check, the database
    stops the second, and the service says so as the check would have."""
    customer_profile_save(user=UserFactory(), **fields())
    real_filter = CustomerProfile.objects.filter

    checks = []

    def nothing_found(*args, **kwargs):
        if "id_number" in kwargs:
            checks.append(kwargs["id_number"])
            return real_filter(pk__in=[])
        return real_filter(*args, **kwargs)

    monkeypatch.setattr(CustomerProfile.objects, "filter", nothing_found)
    with pytest.raises(ValidationError) as refused:
        customer_profile_save(user=UserFactory(), **fields())
    assert checks == [NUMBER]
    assert refused.value.message_dict == {"id_number": [ID_NUMBER_TAKEN]}


def person(name, number):
    return (name, f"{name}@sim.invalid", fields(full_name=name, id_number=number), None)


def test_many_at_once_refuses_a_number_twice_and_creates_nobody():
    other = id_number_make(region="330106", birth_date=BORN, sequence=125)
    with pytest.raises(ValidationError, match="bulk-3 and bulk-1 have the same identity"):
        customers_create_many([person("bulk-1", NUMBER), person("bulk-2", other),
                               person("bulk-3", NUMBER)], signals_observed_on=date(2026, 3, 1))
    assert not User.objects.filter(username__startswith="bulk-").exists()


def test_many_at_once_refuses_a_number_a_customer_holds():
    ProfileFactory(id_number=NUMBER)
    with pytest.raises(ValidationError, match=f"bulk-2's identity number: {ID_NUMBER_TAKEN}"):
        customers_create_many([person("bulk-1", ""), person("bulk-2", NUMBER)],
                              signals_observed_on=date(2026, 3, 1))
    assert not User.objects.filter(username__startswith="bulk-").exists()
    # Blank numbers are no one's: any number of them.
    users = customers_create_many([person("bulk-1", ""), person("bulk-2", "")],
                                  signals_observed_on=date(2026, 3, 1))
    assert len(users) == 2


# The migration's resolution of the duplicates older databases hold ------------------------------

def test_the_keeper_is_verified_first_then_oldest_then_lowest_id():
    t = timezone.now()
    assert MIGRATION.keeper_and_cleared([(5, False, t), (7, True, t + timedelta(days=1)),
                                         (3, True, t + timedelta(days=1))]) == (3, [5, 7])
    assert MIGRATION.keeper_and_cleared([(9, True, t), (2, True, t + timedelta(1))]) == (9, [2])
    assert MIGRATION.keeper_and_cleared([(4, False, t), (8, False, t)]) == (4, [8])


def test_the_migration_clears_the_number_on_every_holder_but_one():
    # A database from before the rule: the constraint is not there yet (restored when the
    # test's transaction rolls back).
    with connection.cursor() as cursor:
        cursor.execute(f'DROP INDEX "{ID_NUMBER_UNIQUE}"')
    t = timezone.now()
    other = id_number_make(region="330106", birth_date=BORN, sequence=125)
    oldest = ProfileFactory(id_number=NUMBER, identity_verified=True)
    later = ProfileFactory(id_number=NUMBER, identity_verified=True)
    unverified_older = ProfileFactory(id_number=other, identity_verified=False)
    verified_newer = ProfileFactory(id_number=other, identity_verified=True)
    alone = ProfileFactory(id_number=id_number_make(region="330106", birth_date=BORN,
                                                    sequence=127), identity_verified=True)
    blanks = [ProfileFactory(id_number=""), ProfileFactory(id_number="")]
    for age, profile in enumerate([oldest, unverified_older, later, verified_newer]):
        CustomerProfile.objects.filter(pk=profile.pk).update(
            created_at=t - timedelta(days=10 - age))

    cleared = MIGRATION.identity_duplicates_resolve(apps)

    assert sorted(cleared) == sorted([later.pk, unverified_older.pk])
    now = {p.pk: (p.id_number, p.identity_verified) for p in CustomerProfile.objects.all()}
    assert now[oldest.pk] == (NUMBER, True)
    assert now[later.pk] == ("", False)
    assert now[verified_newer.pk] == (other, True)
    assert now[unverified_older.pk] == ("", False)
    assert now[alone.pk][0] == alone.id_number
    assert all(now[b.pk] == ("", False) for b in blanks)
    # Nobody is lost, and running it again finds nothing.
    assert CustomerProfile.objects.count() == 7
    assert MIGRATION.identity_duplicates_resolve(apps) == []


# The simulator and the demo make no duplicates -----------------------------------------------

def test_the_simulator_steps_past_a_number_already_drawn():
    from operations.simulation.population import _id_number_unused

    taken = set()
    first = _id_number_unused(taken, "330106", BORN, 999)
    second = _id_number_unused(taken, "330106", BORN, 999)
    third = _id_number_unused(taken, "330106", BORN, 999)
    assert first == id_number_make(region="330106", birth_date=BORN, sequence=999)
    # The same parity (so the same gender), round the thousand.
    assert second == id_number_make(region="330106", birth_date=BORN, sequence=1)
    assert third == id_number_make(region="330106", birth_date=BORN, sequence=3)
    assert taken == {first, second, third}


def test_a_simulated_population_has_no_number_twice():
    from operations.simulation import generate_population

    population = generate_population(customers=3000, months=4, seed=11,
                                     start=date(2026, 1, 1))
    assert len(set(population.id_number)) == len(population.id_number)
