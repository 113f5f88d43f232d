"""Hard policy rules, asked before any model: each is named, passes or fails, and says why in a
sentence the customer reads. A failed rule declines the application without scoring it."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

from accounts.models import CustomerProfile
from accounts.services.customers import ADULT_AGE, age_on


@dataclass(frozen=True)
class RuleResult:
    name: str
    passed: bool
    reason: str
    # What the rule looked at, so that a decision can be explained later.
    value: object = None

    def as_dict(self) -> dict:
        return {"name": self.name, "passed": self.passed, "reason": self.reason,
                "value": self.value}


@dataclass(frozen=True)
class PolicyInput:
    profile: CustomerProfile
    product_code: str
    today: date
    block_listed: bool
    declined_until: date | None


def max_debt_to_income(product_code: str) -> Decimal:
    """The product's debt-to-income bound: RISK_MAX_DEBT_TO_INCOME_BY_PRODUCT, else
    RISK_MAX_DEBT_TO_INCOME."""
    bound = settings.RISK_MAX_DEBT_TO_INCOME_BY_PRODUCT.get(product_code,
                                                           settings.RISK_MAX_DEBT_TO_INCOME)
    return Decimal(str(bound))


def adult(p: PolicyInput) -> RuleResult:
    age = age_on(p.profile.birth_date, p.today)
    if age < ADULT_AGE:
        return RuleResult("adult", False, f"You must be at least {ADULT_AGE} years old to apply.",
                          age)
    if age > settings.RISK_MAX_AGE:
        return RuleResult("adult", False, f"We lend to applicants up to the age of "
                                          f"{settings.RISK_MAX_AGE}.", age)
    return RuleResult("adult", True, f"You are between {ADULT_AGE} and "
                                     f"{settings.RISK_MAX_AGE} years old.", age)


def consents(p: PolicyInput) -> RuleResult:
    given = {"credit_check": p.profile.consent_credit_check,
             "data_use": p.profile.consent_data_use}
    if all(given.values()):
        return RuleResult("consents", True, "You agreed to a credit check and to the use of "
                                            "your data.", given)
    return RuleResult("consents", False, "We need your consent to a credit check and to the use "
                                         "of your data; you can give both on your profile.",
                      given)


def identity_verified(p: PolicyInput) -> RuleResult:
    if p.profile.identity_verified:
        return RuleResult("identity_verified", True, "Your identity is verified.", True)
    return RuleResult("identity_verified", False, "We could not verify your identity: enter "
                                                  "your resident identity number and the date "
                                                  "of birth on your identity card on your "
                                                  "profile.", False)


def not_block_listed(p: PolicyInput) -> RuleResult:
    if p.block_listed:
        return RuleResult("not_block_listed", False, "We are unable to offer credit to the "
                                                     "holder of this identity number.", True)
    return RuleResult("not_block_listed", True, "Nothing stops us lending to you.", False)


def debt_to_income(p: PolicyInput) -> RuleResult:
    bound = max_debt_to_income(p.product_code)
    debt, income = p.profile.monthly_debt_payments, p.profile.monthly_income
    if income > 0:
        ratio = debt / income
    else:
        # No income: any debt is too much; no debt either is no burden (pricing then finds
        # the income too low for any amount).
        ratio = Decimal(0) if debt == 0 else None
    shown = None if ratio is None else str(ratio.quantize(Decimal("0.0001"), ROUND_HALF_UP))
    if ratio is not None and ratio < bound:
        return RuleResult("debt_to_income", True, "Your other debts are affordable on your "
                                                  "income.", shown)
    percent = f"{bound * 100:.0f}%"
    return RuleResult("debt_to_income", False, f"Your monthly payments on other debts are too "
                                               f"high for your income: we lend when they are "
                                               f"below {percent} of it.", shown)


def no_recent_decline(p: PolicyInput) -> RuleResult:
    if p.declined_until is None:
        return RuleResult("no_recent_decline", True, "No recent application was declined.",
                          None)
    return RuleResult("no_recent_decline", False, f"Your last application was declined "
                                                  f"recently; you may apply again from "
                                                  f"{p.declined_until:%Y-%m-%d}.",
                      p.declined_until.isoformat())


RULES: tuple[Callable[[PolicyInput], RuleResult], ...] = (
    adult, consents, identity_verified, not_block_listed, debt_to_income, no_recent_decline)


def policy_evaluate(*, profile: CustomerProfile, product, today: date) -> list[RuleResult]:
    """Every rule's result for this applicant and product. `profile` comes from
    `risk.selectors.applicant`, which read the block list and earlier declines with it."""
    facts = PolicyInput(profile=profile, product_code=product.code, today=today,
                        block_listed=profile.block_listed,
                        declined_until=profile.declined_until)
    return [rule(facts) for rule in RULES]
