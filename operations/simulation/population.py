"""The simulated population: who the customers are, their hidden probability of default, and how
each one will behave. Pure: numpy and the platform's own feature definitions, no database, so
the same seed always gives the same people, truths and outcomes.

The truth is a function of the application features exactly as `risk.features` computes them
from the rows the simulator writes, plus a small per-customer term no model can see. It has
thresholds, a U-shape in age and interactions, the kind of structure gradient-boosted trees can
learn, and it never reads gender."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import numpy as np

from accounts.identity import id_number_make
from accounts.models import EmploymentStatus, Gender, Housing
from lending.models import RepaymentMethod
from lending.rules.schedule import add_months_anchored, due_dates
from risk.features.application import (
    APPLICATION_FEATURE_NAMES,
    PROFILE_COLUMNS,
    SIGNAL_COLUMNS,
    application_matrix,
    columns_from_rows,
)

# Every loan runs a year; a simulation longer than that simply watches paid-off lines.
TERM_MONTHS = 12
# A defaulter's first missed instalment is chosen so that it is 90+ days past due by the end.
DEFAULT_DPD = 90
SHARE_WITHOUT_SIGNALS = 0.15
SHARE_OF_NULL_SIGNAL = 0.05
EARLY_PAYOFF_SHARE = 0.15
# Chosen (with the slopes below) so that about 10 % of customers default.
INTERCEPT = -5.0
NOISE_SD = 0.2
# How strongly the features separate good from bad customers (the ceiling's AUC).
STRENGTH = 1.3

CITIES = {  # tier -> names
    1: ("Shanghai", "Beijing", "Shenzhen", "Guangzhou"),
    2: ("Hangzhou", "Chengdu", "Wuhan", "Nanjing", "Suzhou", "Xi'an"),
    3: ("Xuzhou", "Luoyang", "Mianyang", "Ganzhou", "Zhanjiang"),
    4: ("Anji County", "Wuyuan County", "Yangshuo County"),
}
# Six-digit region codes of the identity number, one per tier (the first city's).
REGIONS = {1: "310101", 2: "330106", 3: "320302", 4: "330523"}


@dataclass
class Population:
    """One row per customer, in the order they are written (customer i is `sim<seed>-<i+1>`)."""

    seed: int
    start: date
    end: date
    profile_rows: list  # tuples in PROFILE_COLUMNS order (user_id is the index)
    signal_rows: list  # tuples in SIGNAL_COLUMNS order, or None: no signals shared
    gender: list
    city: list
    id_number: list
    matrix: np.ndarray  # application features as of `start`
    true_probability: np.ndarray
    defaults: np.ndarray  # bool
    noise: np.ndarray  # the unobserved part of each customer's log-odds
    plans: list = field(default_factory=list)

    def __len__(self):
        return len(self.profile_rows)


@dataclass(frozen=True)
class LoanPlan:
    """How one customer uses the platform: the line, the one loan, and when they pay.

    `default_seq`: the first instalment never paid (None: pays to the end).
    `payoff_on`: the day the whole loan is paid off early (None: runs its term).
    `late_days`: instalment seq -> days after its due date that it is paid."""

    credit_limit: Decimal
    daily_rate: Decimal
    principal: Decimal
    method: str
    default_seq: int | None
    payoff_on: date | None
    late_days: dict


def simulation_end(start: date, months: int) -> date:
    """The business date the simulation stops on: `months` later, and late enough that a loan
    whose first instalment was missed is 90+ days past due by then."""
    first_due = due_dates(start, 1)[0]
    return max(add_months_anchored(start, months), first_due + timedelta(days=DEFAULT_DPD))


def generate_population(*, customers: int, months: int, seed: int, start: date) -> Population:
    rng = np.random.default_rng([seed, 20260])
    n = customers
    profile_rows, signal_rows, genders, cities, ids = _people(rng, n, start)
    names = PROFILE_COLUMNS + SIGNAL_COLUMNS
    no_signals = (None,) * len(SIGNAL_COLUMNS)
    rows = [p + (s if s is not None else no_signals) for p, s in zip(profile_rows, signal_rows,
                                                                     strict=True)]
    matrix = application_matrix(columns_from_rows(rows, names), start)
    shared = np.array([s is not None for s in signal_rows])
    noise = rng.normal(0.0, NOISE_SD, n)
    probability = true_probability(matrix, shared, noise)
    defaults = rng.random(n) < probability
    end = simulation_end(start, months)
    population = Population(seed=seed, start=start, end=end, profile_rows=profile_rows,
                            signal_rows=signal_rows, gender=genders, city=cities, id_number=ids,
                            matrix=matrix, true_probability=probability, defaults=defaults,
                            noise=noise)
    population.plans = _plans(rng, population, end)
    return population


def true_probability(matrix: np.ndarray, signals_shared: np.ndarray,
                     noise: np.ndarray) -> np.ndarray:
    """The hidden probability of default from the application features (as the model sees
    them), whether the customer shared signals at all, and the unobserved noise."""
    f = {name: matrix[:, i].astype(np.float64) for i, name in enumerate(APPLICATION_FEATURE_NAMES)}
    age, income, dti = f["age_years"], f["monthly_income"], f["debt_to_income"]
    logit = 0.004 * (age - 38.0) ** 2
    logit += -0.9 * np.log(np.maximum(income, 500.0) / 8000.0)
    logit += 0.8 * dti + np.where(dti > 0.5, 1.0, np.where(dti > 0.35, 0.45, 0.0))
    # employment codes: employed, self-employed, retired, student, unemployed
    logit += np.select([f["employment"] == 1, f["employment"] == 3, f["employment"] == 4],
                       [0.3, 0.5, 1.0], 0.0)
    logit += -0.6 * np.minimum(f["employer_months"], 60.0) / 60.0
    logit += np.where(f["city_tier"] == 4, 0.35, 0.0)
    # housing codes: owned, mortgage, family, rented
    logit += np.select([f["housing"] == 0, f["housing"] == 1, f["housing"] == 2],
                       [-0.35, -0.1, 0.15], 0.3)

    def signal(values, effect, missing):
        return np.where(np.isnan(values), missing, effect(np.nan_to_num(values)))

    bills = f["bills_on_time_share"]
    spend = f["spend_to_income"]
    logit += signal(bills, lambda v: 6.0 * np.maximum(0.95 - v, 0.0), 0.4)
    logit += signal(spend, lambda v: 1.5 * np.maximum(v - 0.35, 0.0), 0.1)
    logit += signal(f["shopping_orders_per_month"],
                    lambda v: np.where(v < 1.0, 0.4, np.where(v > 40.0, 0.5, 0.0)), 0.1)
    logit += signal(f["account_age_months"], lambda v: np.where(v >= 36, -0.4, 0.0), 0.0)
    logit += signal(f["phone_number_months"], lambda v: np.where(v < 6, 0.6, 0.0), 0.2)
    logit += signal(f["devices_last_year"], lambda v: 0.3 * np.maximum(v - 2.0, 0.0), 0.0)
    # Interactions: the young who spend much of their income, and late bill payers in debt.
    logit += np.where((age < 25) & (np.nan_to_num(spend) > 0.3), 0.6, 0.0)
    logit += np.where((np.nan_to_num(bills, nan=1.0) < 0.85) & (dti > 0.4), 0.7, 0.0)
    logit += np.where(signals_shared, 0.0, 0.4)
    return 1.0 / (1.0 + np.exp(-(INTERCEPT + STRENGTH * logit + noise)))


def _decimal(value: int, places: int = 0) -> Decimal:
    return Decimal(int(value)).scaleb(-places)


def _people(rng, n, start):
    ages_days = rng.integers(20 * 365, 64 * 365, n)
    ages = ages_days / 365.25
    birth = [start - timedelta(days=int(d)) for d in ages_days]
    gender = rng.choice([Gender.FEMALE, Gender.MALE, Gender.UNSTATED], n, p=[0.48, 0.48, 0.04])
    tier = rng.choice([1, 2, 3, 4], n, p=[0.2, 0.35, 0.3, 0.15])

    employment = rng.choice(
        [EmploymentStatus.EMPLOYED, EmploymentStatus.SELF_EMPLOYED, EmploymentStatus.STUDENT,
         EmploymentStatus.UNEMPLOYED], n, p=[0.72, 0.16, 0.05, 0.07]).astype(object)
    employment[ages < 24] = np.where(rng.random((ages < 24).sum()) < 0.4,
                                     EmploymentStatus.STUDENT, employment[ages < 24])
    employment[(ages > 58) & (rng.random(n) < 0.6)] = EmploymentStatus.RETIRED
    working = np.isin(employment, [EmploymentStatus.EMPLOYED, EmploymentStatus.SELF_EMPLOYED])
    employer_months = np.where(
        working, np.minimum(rng.exponential(40, n), (ages - 18) * 12), 0).astype(int)

    median = np.select(
        [employment == EmploymentStatus.EMPLOYED, employment == EmploymentStatus.SELF_EMPLOYED,
         employment == EmploymentStatus.STUDENT, employment == EmploymentStatus.RETIRED],
        [9000, 10000, 2500, 4500], 2000) * np.select([tier == 1, tier == 2, tier == 4],
                                                     [1.4, 1.15, 0.7], 1.0)
    income = np.maximum(np.round(median * rng.lognormal(0, 0.45, n) / 100) * 100, 500)
    debt = np.where(rng.random(n) < 0.4, 0,
                    np.round(income * rng.beta(2, 5, n) * 0.9 / 10) * 10)
    housing = np.where(ages < 27, rng.choice(
        [Housing.FAMILY, Housing.RENTED, Housing.MORTGAGE], n, p=[0.45, 0.45, 0.1]),
        rng.choice([Housing.OWNED, Housing.MORTGAGE, Housing.RENTED, Housing.FAMILY], n,
                   p=[0.3, 0.35, 0.3, 0.05]))

    shared = rng.random(n) >= SHARE_WITHOUT_SIGNALS
    orders = np.round(rng.gamma(2.0, 4.5, n), 1)
    spend = np.round(income * rng.lognormal(np.log(0.18), 0.6, n))
    bills = np.round(np.clip(1 - rng.beta(1.0, 14.0, n), 0, 1) * 10000)
    account_age = np.minimum(rng.exponential(45, n), (ages - 16) * 12).astype(int)
    phone = np.minimum(rng.exponential(50, n), (ages - 14) * 12).astype(int)
    devices = 1 + rng.poisson(0.8, n)
    nulls = rng.random((n, len(SIGNAL_COLUMNS))) < SHARE_OF_NULL_SIGNAL
    sequences = rng.integers(0, 500, n) * 2 + np.where(gender == Gender.MALE, 1, 0)
    sequences = np.where(gender == Gender.UNSTATED, rng.integers(0, 1000, n), sequences)
    city_pick = rng.random(n)

    profiles, signals, cities, ids = [], [], [], []
    taken_ids = set()
    for i in range(n):
        profiles.append((i, birth[i], _decimal(income[i]), _decimal(debt[i]), employment[i],
                         int(employer_months[i]), int(tier[i]), str(housing[i])))
        if shared[i]:
            values = (_decimal(round(orders[i] * 10), 1), _decimal(spend[i]),
                      _decimal(bills[i], 4), int(account_age[i]), int(phone[i]),
                      int(devices[i]))
            signals.append(tuple(None if nulls[i, k] else v for k, v in enumerate(values)))
        else:
            signals.append(None)
        names = CITIES[int(tier[i])]
        cities.append(names[int(city_pick[i] * len(names))])
        ids.append(_id_number_unused(taken_ids, REGIONS[int(tier[i])], birth[i],
                                     int(sequences[i])))
    return profiles, signals, [str(g) for g in gender], cities, ids


def _id_number_unused(taken: set, region: str, birth_date: date, sequence: int) -> str:
    """A number no earlier customer of the population holds (one identity number, one
    customer): the drawn sequence, else the next one of the same parity (so the same gender)
    round the thousand. Draws nothing from the generator, so the rest of the population is
    the same whether or not two customers drew one number."""
    for step in range(0, 1000, 2):
        number = id_number_make(region=region, birth_date=birth_date,
                                sequence=(sequence + step) % 1000)
        if number not in taken:
            taken.add(number)
            return number
    raise ValueError(f"Every sequence of region {region}, born {birth_date}, is taken.")


def _plans(rng, population, end):
    """Line, loan and payment behaviour for each customer, drawn after the truth."""
    n = len(population)
    start = population.start
    dues = due_dates(start, TERM_MONTHS)
    income = np.array([float(p[2]) for p in population.profile_rows])
    p = population.true_probability
    limits = np.clip(np.round(income * rng.uniform(1.5, 4.0, n) / 1000) * 1000, 3000, 100000)
    draws = np.maximum(np.round(limits * rng.uniform(0.3, 0.9, n) / 100) * 100, 500)
    # Riskier customers were offered dearer credit, within the sim product's band.
    rates = np.clip(np.round((0.00025 + 0.0025 * p + rng.normal(0, 0.00003, n)) * 1e5),
                    20, 60).astype(int)
    methods = rng.choice([RepaymentMethod.EQUAL_INSTALMENT, RepaymentMethod.EQUAL_PRINCIPAL], n,
                         p=[0.8, 0.2])
    # Defaulters stop at an instalment whose due date is 90+ days before the end.
    feasible = [k for k, due in enumerate(dues, start=1)
                if due + timedelta(days=DEFAULT_DPD) <= end]
    default_pick = rng.integers(0, len(feasible), n)
    payoff_pick = rng.random(n) < EARLY_PAYOFF_SHARE
    payoff_seq = rng.integers(2, TERM_MONTHS, n)  # paid off in the period before this seq
    payoff_offset = rng.integers(3, 20, n)
    # Riskier customers are more often a few days late (1-25 days, never 30: those are bad).
    late_draw = rng.random((n, TERM_MONTHS)) < (0.02 + 0.6 * p)[:, None]
    late_size = rng.integers(1, 26, (n, TERM_MONTHS))
    plans = []
    for i in range(n):
        default_seq = feasible[default_pick[i]] if population.defaults[i] else None
        payoff_on = None
        if default_seq is None and payoff_pick[i]:
            payoff_on = dues[payoff_seq[i] - 2] + timedelta(days=int(payoff_offset[i]))
            if payoff_on >= end:
                payoff_on = None
        late = {k + 1: int(late_size[i, k]) for k in range(TERM_MONTHS) if late_draw[i, k]
                and (default_seq is None or k + 1 < default_seq)
                and (payoff_on is None or dues[k] + timedelta(days=int(late_size[i, k]))
                     < payoff_on)}
        plans.append(LoanPlan(credit_limit=_decimal(limits[i]),
                              daily_rate=_decimal(rates[i], 5),
                              principal=_decimal(draws[i]), method=str(methods[i]),
                              default_seq=default_seq, payoff_on=payoff_on, late_days=late))
    return plans
