"""Application (A-card) features: one definition each, used by training and scoring alike.

A feature is a vectorised function of raw columns read by `application_columns`, which reads
the same rows the same way whether it is asked for one applicant or a whole population. The
decision, the training pipeline and the simulator all go through `application_matrix`, so what
the model was trained on and what it scores cannot drift apart.

Protected attributes (gender; we collect no ethnicity) are never read here."""

import hashlib
import inspect
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from accounts.models import CustomerProfile, CustomerSignals, EmploymentStatus, Housing

Columns = dict[str, np.ndarray]


@dataclass(frozen=True)
class Feature:
    name: str
    label: str
    compute: Callable[[Columns, date | np.ndarray], np.ndarray]
    # +1: a larger value can only raise the probability of default; -1: only lower it;
    # 0: no constraint (the direction depends on the range, e.g. age).
    monotone: int
    # What a customer reads when this feature raised their score (made them riskier)
    # and when it lowered it.
    reason_up: str
    reason_down: str


def _float(values) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)


def ratio(numerator: np.ndarray, denominator: np.ndarray, cap: float) -> np.ndarray:
    """numerator / denominator, capped; a zero denominator with a positive numerator is the cap,
    and 0/0 is 0 (no debt and no income is not a debt burden)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = numerator / denominator
    ratio = np.where(denominator > 0, ratio, np.where(numerator > 0, cap, 0.0))
    return np.minimum(ratio, cap)


# Codes for the categorical answers. XGBoost splits on them as numbers; the order puts the
# steadier situations first, which a tree can use or ignore.
EMPLOYMENT_CODES = {EmploymentStatus.EMPLOYED: 0, EmploymentStatus.SELF_EMPLOYED: 1,
                    EmploymentStatus.RETIRED: 2, EmploymentStatus.STUDENT: 3,
                    EmploymentStatus.UNEMPLOYED: 4}
HOUSING_CODES = {Housing.OWNED: 0, Housing.MORTGAGE: 1, Housing.FAMILY: 2, Housing.RENTED: 3}


def _year_and_day_of_year(days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(year, month * 100 + day) of datetime64[D] values, for comparing birthdays."""
    months = days.astype("datetime64[M]")
    year = days.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (days - months).astype(np.int64) + 1
    return year, month * 100 + day


def _age_years(c: Columns, as_of) -> np.ndarray:
    """Completed years, as a person counts them: one more on each birthday."""
    year, month_day = _year_and_day_of_year(np.asarray(as_of, dtype="datetime64[D]"))
    birth_year, birth_month_day = _year_and_day_of_year(c["birth_date"])
    return _float(year - birth_year - (month_day < birth_month_day))


def _codes(values: np.ndarray, codes: dict) -> np.ndarray:
    return _float([codes.get(v, np.nan) for v in values])


APPLICATION_FEATURES: tuple[Feature, ...] = (
    Feature("age_years", "Age", _age_years, 0,
            "Your age group has a higher rate of missed payments.",
            "Your age group has a low rate of missed payments."),
    Feature("monthly_income", "Monthly income", lambda c, d: c["monthly_income"], -1,
            "Your income is low for the credit you asked for.",
            "Your income comfortably supports repayments."),
    Feature("debt_to_income", "Debt payments / income",
            lambda c, d: ratio(c["monthly_debt_payments"], c["monthly_income"], 10.0), 1,
            "Your monthly payments on other debts are high compared with your income.",
            "You have little other debt compared with your income."),
    Feature("employment", "Employment status",
            lambda c, d: _codes(c["employment_status"], EMPLOYMENT_CODES), 0,
            "Your employment situation suggests a less steady income.",
            "Your employment gives you a steady income."),
    Feature("employer_months", "Months with current employer",
            lambda c, d: c["employer_months"], -1,
            "You have been with your current employer for a short time.",
            "You have been with your employer for a long time."),
    Feature("city_tier", "City tier", lambda c, d: c["city_tier"], 0,
            "Customers in your area have had more difficulty repaying.",
            "Customers in your area repay reliably."),
    Feature("housing", "Housing", lambda c, d: _codes(c["housing"], HOUSING_CODES), 0,
            "Your housing situation is linked with more missed payments.",
            "Your housing situation is stable."),
    Feature("shopping_orders_per_month", "Online orders per month",
            lambda c, d: c["shopping_orders_per_month"], 0,
            "Your shopping pattern is linked with more missed payments.",
            "Your regular shopping history counts in your favour."),
    Feature("spend_to_income", "Online spend / income",
            lambda c, d: ratio(c["shopping_spend_per_month"], c["monthly_income"], 10.0), 1,
            "Your monthly spending is high compared with your income.",
            "Your spending is modest compared with your income."),
    Feature("bills_on_time_share", "Bills paid on time", lambda c, d: c["bills_on_time_share"],
            -1,
            "Some of your bills were paid late in the last year.",
            "You pay your bills on time."),
    Feature("account_age_months", "Months since shopping account opened",
            lambda c, d: c["account_age_months"], -1,
            "Your shopping and payment account is new.",
            "You have a long-standing shopping and payment account."),
    Feature("phone_number_months", "Months with the same phone number",
            lambda c, d: c["phone_number_months"], -1,
            "You have had your phone number for a short time.",
            "You have kept the same phone number for a long time."),
    Feature("devices_last_year", "Devices used in the last year",
            lambda c, d: c["devices_last_year"], 1,
            "You changed devices often in the last year.",
            "You use the same device consistently."),
)

APPLICATION_FEATURE_NAMES = tuple(f.name for f in APPLICATION_FEATURES)

PROFILE_COLUMNS = ("user_id", "birth_date", "monthly_income", "monthly_debt_payments",
                   "employment_status", "employer_months", "city_tier", "housing")
SIGNAL_COLUMNS = ("shopping_orders_per_month", "shopping_spend_per_month",
                  "bills_on_time_share", "account_age_months", "phone_number_months",
                  "devices_last_year")
_NUMERIC = {"monthly_income", "monthly_debt_payments", "employer_months", "city_tier",
            *SIGNAL_COLUMNS}


def features_hash(features: Sequence[Feature]) -> str:
    """Fingerprint of the definitions themselves (name, direction and source of each compute):
    a model refuses to score features whose definition changed after it was trained."""
    described = [[f.name, f.monotone, inspect.getsource(f.compute).strip()] for f in features]
    return hashlib.sha256(json.dumps(described).encode()).hexdigest()


APPLICATION_FEATURES_HASH = features_hash(APPLICATION_FEATURES)


def application_columns(user_ids: Sequence[int]) -> Columns:
    """Raw columns for these customers, in the order of `user_ids` (which must have profiles).
    Signals a customer has not shared are NaN."""
    user_ids = list(user_ids)
    profiles = {row[0]: row for row in CustomerProfile.objects.filter(user_id__in=user_ids)
                .values_list(*PROFILE_COLUMNS)}
    missing = [u for u in user_ids if u not in profiles]
    if missing:
        raise LookupError(f"No profile for customers {missing[:5]}.")
    signals = {row[0]: row[1:] for row in CustomerSignals.objects.filter(user_id__in=user_ids)
               .values_list("user_id", *SIGNAL_COLUMNS)}
    no_signals = (None,) * len(SIGNAL_COLUMNS)
    rows = [profiles[u] + tuple(signals.get(u, no_signals)) for u in user_ids]
    return columns_from_rows(rows, PROFILE_COLUMNS + SIGNAL_COLUMNS)


def application_columns_of(applicant: CustomerProfile) -> Columns:
    """The same raw columns for one applicant read by `risk.selectors.applicant`, which
    carries the signal columns on the profile, so the decision needs no further query. Same
    names, same conversion as `application_columns`; a test holds the two to identical rows."""
    row = tuple(getattr(applicant, name) for name in PROFILE_COLUMNS + SIGNAL_COLUMNS)
    return columns_from_rows([row], PROFILE_COLUMNS + SIGNAL_COLUMNS)


def columns_from_rows(rows: Sequence[tuple], names: Sequence[str]) -> Columns:
    """Turn database rows into typed columns: numbers as float (None -> NaN), dates as days."""
    columns: Columns = {}
    for i, name in enumerate(names):
        values = [row[i] for row in rows]
        if name in _NUMERIC:
            columns[name] = _float([np.nan if v is None else float(v) for v in values])
        elif name == "birth_date":
            columns[name] = np.array(values, dtype="datetime64[D]")
        else:
            columns[name] = np.array(values, dtype=object)
    return columns


def application_matrix(columns: Columns, as_of) -> np.ndarray:
    """The model's input: one row per customer, one column per feature, float32 with NaN.
    `as_of` is the day of application: one date for all rows, or an array with one per row
    (training on customers who applied on different days)."""
    return np.column_stack([_float(f.compute(columns, as_of)) for f in APPLICATION_FEATURES]
                           ).astype(np.float32)
