"""A tiny A-card champion for decision tests, and applicants with every input the model reads.

The booster is trained on synthetic rows of the 13 application features where the risk rises
with debt-to-income and device changes and falls with on-time bills and income, so the reasons
a decision gives can be checked against the features that really drive this model."""

from datetime import date
from decimal import Decimal
from functools import lru_cache

import numpy as np
import xgboost as xgb

from accounts.identity import id_number_make
from accounts.models import CustomerSignals
from accounts.services import customer_profile_save
from risk.features.application import APPLICATION_FEATURE_NAMES, APPLICATION_FEATURES_HASH
from risk.services.registry import model_version_promote, model_version_register
from tests.factories import UserFactory

COLUMN = {name: i for i, name in enumerate(APPLICATION_FEATURE_NAMES)}
CUTOFFS = (0.03, 0.06, 0.12, 0.25)


def synthetic_rows(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.column_stack([
        rng.integers(20, 65, n),            # age_years
        rng.uniform(3_000, 40_000, n),      # monthly_income
        rng.uniform(0, 0.6, n),             # debt_to_income
        rng.integers(0, 5, n),              # employment
        rng.integers(0, 120, n),            # employer_months
        rng.integers(1, 4, n),              # city_tier
        rng.integers(0, 4, n),              # housing
        rng.uniform(0, 30, n),              # shopping_orders_per_month
        rng.uniform(0, 1, n),               # spend_to_income
        rng.uniform(0.4, 1, n),             # bills_on_time_share
        rng.integers(0, 120, n),            # account_age_months
        rng.integers(0, 120, n),            # phone_number_months
        rng.integers(1, 7, n),              # devices_last_year
    ]).astype(np.float32)
    logit = (-3.0 + 8 * (x[:, COLUMN["debt_to_income"]] - 0.2)
             - 10 * (x[:, COLUMN["bills_on_time_share"]] - 0.85)
             + 0.6 * (x[:, COLUMN["devices_last_year"]] - 2)
             - 1.2 * np.log(x[:, COLUMN["monthly_income"]] / 10_000))
    y = rng.random(n) < 1 / (1 + np.exp(-logit))
    return x, y


@lru_cache(maxsize=1)
def tiny_booster() -> xgb.Booster:
    x, y = synthetic_rows(3_000, seed=7)
    return xgb.train({"objective": "binary:logistic", "max_depth": 3, "eta": 0.3, "seed": 7,
                      "nthread": 1},
                     xgb.DMatrix(x, label=y, feature_names=list(APPLICATION_FEATURE_NAMES)),
                     num_boost_round=40)


def champion_install(*, cutoffs=CUTOFFS, feature_hash=APPLICATION_FEATURES_HASH,
                     calibration=None):
    """Register the tiny booster and promote it to A-card champion."""
    version = model_version_register(
        card="application", booster=tiny_booster(), feature_names=APPLICATION_FEATURE_NAMES,
        feature_hash=feature_hash, training_summary={"rows": 3_000, "source": "tests"},
        metrics={}, calibration=calibration or {"a": 1.0, "b": 0.0}, grade_cutoffs=cutoffs)
    model_version_promote(model_version_id=version.pk, reason="decision tests")
    version.refresh_from_db()
    return version


GOOD = {"monthly_income": Decimal("20000.00"), "monthly_debt_payments": Decimal("0.00"),
        "bills_on_time_share": Decimal("1.0000"), "devices_last_year": 1}
RISKY = {"monthly_income": Decimal("6000.00"), "monthly_debt_payments": Decimal("2700.00"),
         "bills_on_time_share": Decimal("0.4000"), "devices_last_year": 6}
SIGNALS = ("shopping_orders_per_month", "shopping_spend_per_month", "bills_on_time_share",
           "account_age_months", "phone_number_months", "devices_last_year")


def applicant(*, birth_date=date(1990, 5, 17), user=None, **overrides):
    """A customer with a verified profile and consented signals (GOOD unless overridden)."""
    values = {**GOOD, **overrides}
    user = user or UserFactory()
    profile = {
        "full_name": "Applicant", "birth_date": birth_date,
        "monthly_income": values.pop("monthly_income"), "employment_status": "employed",
        "employer_months": 36, "city": "Hangzhou", "housing": "rented",
        "monthly_debt_payments": values.pop("monthly_debt_payments"),
        "id_number": id_number_make(region="330106", birth_date=birth_date,
                                    sequence=user.pk % 1000),
        "consent_credit_check": True, "consent_data_use": True,
    }
    profile.update({k: values.pop(k) for k in list(values) if k in profile})
    signals = {"shopping_orders_per_month": Decimal("8"), "shopping_spend_per_month":
               Decimal("1500"), "account_age_months": 60, "phone_number_months": 60}
    signals.update({k: values.pop(k) for k in list(values) if k in SIGNALS})
    if values:
        raise TypeError(f"Unknown applicant fields {sorted(values)}")
    customer_profile_save(user=user, **profile)
    CustomerSignals.objects.update_or_create(user=user, defaults={
        **signals, "observed_on": date(2026, 3, 1)})
    return user
