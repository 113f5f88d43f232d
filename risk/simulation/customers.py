"""Writing the simulated people: users, profiles, consented signals and their hidden truth."""

from django.contrib.auth.hashers import make_password

from accounts.models import CustomerProfile, CustomerSignals, User
from risk.models import SimulatedCustomer

BATCH = 5000


def username_of(seed: int, index: int) -> str:
    """Customer `index` (0-based) of the population made with `seed`."""
    return f"sim{seed}-{index + 1:06d}"


def customers_create(population) -> list[User]:
    """Users with unusable passwords (nobody logs in as a simulated customer, and hashing
    20,000 passwords would take minutes), their profiles, signals and truths."""
    seed = population.seed
    users = User.objects.bulk_create(
        [User(username=username_of(seed, i), email=f"{username_of(seed, i)}@sim.invalid",
              password=make_password(None)) for i in range(len(population))],
        batch_size=BATCH)
    profiles, signals, truths = [], [], []
    for i, user in enumerate(users):
        (_index, birth, income, debt, employment, employer_months, tier,
         housing) = population.profile_rows[i]
        profiles.append(CustomerProfile(
            user=user, full_name=f"Simulated Customer {i + 1}", birth_date=birth,
            monthly_income=income, monthly_debt_payments=debt, employment_status=employment,
            employer_months=employer_months, city=population.city[i], city_tier=tier,
            housing=housing, id_number=population.id_number[i], identity_verified=True,
            gender=population.gender[i], consent_credit_check=True, consent_data_use=True))
        shared = population.signal_rows[i]
        if shared is not None:
            (orders, spend, bills, account_age, phone, devices) = shared
            signals.append(CustomerSignals(
                user=user, observed_on=population.start, shopping_orders_per_month=orders,
                shopping_spend_per_month=spend, bills_on_time_share=bills,
                account_age_months=account_age, phone_number_months=phone,
                devices_last_year=devices))
        truths.append(SimulatedCustomer(
            user=user, seed=seed, true_probability=float(population.true_probability[i]),
            default_month=population.plans[i].default_seq))
    CustomerProfile.objects.bulk_create(profiles, batch_size=BATCH)
    CustomerSignals.objects.bulk_create(signals, batch_size=BATCH)
    SimulatedCustomer.objects.bulk_create(truths, batch_size=BATCH)
    return users
