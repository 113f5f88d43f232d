"""Writing the simulated people through accounts' and risk's services: users, profiles,
consented signals, and their hidden truth."""

from accounts.models import User
from accounts.services import customers_create_many
from risk.models import SimulatedCustomer
from risk.services.simulation import simulated_truths_record

SIGNAL_NAMES = ("shopping_orders_per_month", "shopping_spend_per_month", "bills_on_time_share",
                "account_age_months", "phone_number_months", "devices_last_year")


def username_of(seed: int, index: int) -> str:
    """Customer `index` (0-based) of the population made with `seed`."""
    return f"sim{seed}-{index + 1:06d}"


def customers_create(population) -> list[User]:
    people = []
    for i in range(len(population)):
        (_index, birth, income, debt, employment, employer_months, _tier,
         housing) = population.profile_rows[i]
        profile = {
            "full_name": f"Simulated Customer {i + 1}", "birth_date": birth,
            "monthly_income": income, "monthly_debt_payments": debt,
            "employment_status": employment, "employer_months": employer_months,
            "city": population.city[i], "housing": housing,
            "id_number": population.id_number[i], "consent_credit_check": True,
            "consent_data_use": True,
        }
        shared = population.signal_rows[i]
        signals = None if shared is None else dict(zip(SIGNAL_NAMES, shared, strict=True))
        name = username_of(population.seed, i)
        people.append((name, f"{name}@sim.invalid", profile, signals))
    users = customers_create_many(people, signals_observed_on=population.start)
    simulated_truths_record(
        (user, population.seed, population.true_probability[i], population.plans[i].default_seq)
        for i, user in enumerate(users))
    SimulatedCustomer.objects.filter(seed=population.seed).update(history_end=population.end)
    return users
