"""Hard policy rules, asked before any model: each is named, passes or fails, and says why in a
sentence the customer reads (or, where the lender's reasons are its own, a sentence for the
officer and a plainer one for the customer). A failed rule declines the application without
scoring it.

An earlier decision's cooling-off is not a rule here: it refuses the application before any
decision is made (`risk.services.decisions.credit_decide`)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils.translation import gettext, gettext_noop

from accounts.identity import IdNumberInvalid, id_number_parse
from accounts.models import CustomerProfile
from accounts.services.customers import ADULT_AGE, age_on

# All a block-listed applicant is told: the lender's reasons and the entry stay with the lender.
BLOCKED_FOR_CUSTOMER = gettext_noop("We cannot offer credit at the moment.")


@dataclass(frozen=True)
class RuleResult:
    name: str
    passed: bool
    reason: str
    # What the rule looked at, so that a decision can be explained later.
    value: object = None
    # What the customer reads when the rule fails, where it differs from `reason` (which the
    # officer reads on the decision's record).
    customer_reason: str | None = None

    def as_dict(self) -> dict:
        return {"name": self.name, "passed": self.passed, "reason": self.reason,
                "value": self.value}

    @property
    def for_customer(self) -> str:
        return self.customer_reason or self.reason


def failed(name, message, value, **figures) -> RuleResult:
    """A failed rule: the officer's record keeps `message` in English, the customer reads it
    in the language they applied in (the active one)."""
    return RuleResult(name, False, message % figures, value,
                      customer_reason=gettext(message) % figures)


@dataclass(frozen=True)
class PolicyInput:
    profile: CustomerProfile
    product_code: str
    today: date
    # The block-list entry matching the applicant (`risk.selectors.BlockHit`), or None.
    block_hit: object
    # The monthly income the decision uses (`risk.income`).
    monthly_income: Decimal
    # The applicant's standing on our own book (`risk.selectors.applicant`).
    has_overdue: bool = False
    has_frozen_line: bool = False
    has_written_off: bool = False


def max_debt_to_income(product_code: str) -> Decimal:
    """The product's debt-to-income bound: RISK_MAX_DEBT_TO_INCOME_BY_PRODUCT, else
    RISK_MAX_DEBT_TO_INCOME."""
    bound = settings.RISK_MAX_DEBT_TO_INCOME_BY_PRODUCT.get(product_code,
                                                           settings.RISK_MAX_DEBT_TO_INCOME)
    return Decimal(str(bound))


def adult(p: PolicyInput) -> RuleResult:
    age = age_on(p.profile.birth_date, p.today)
    if age < ADULT_AGE:
        return failed("adult", gettext_noop("You must be at least %(age)d years old to apply."),
                      age, age=ADULT_AGE)
    if age > settings.RISK_MAX_AGE:
        return failed("adult", gettext_noop("We lend to applicants up to the age of %(age)d."),
                      age, age=settings.RISK_MAX_AGE)
    return RuleResult("adult", True, f"You are between {ADULT_AGE} and "
                                     f"{settings.RISK_MAX_AGE} years old.", age)


def consents(p: PolicyInput) -> RuleResult:
    given = {"credit_check": p.profile.consent_credit_check,
             "data_use": p.profile.consent_data_use}
    if all(given.values()):
        return RuleResult("consents", True, "You agreed to a credit check and to the use of "
                                            "your data.", given)
    return failed("consents", gettext_noop(
        "We need your consent to a credit check and to the use of your data; you can give both "
        "on your profile."), given)


def _identity_holds(profile) -> bool:
    """The profile was saved verified and its number still passes today's checks (a profile
    saved before the region check, or written around the service, is asked again)."""
    if not profile.identity_verified:
        return False
    try:
        return id_number_parse(profile.id_number).birth_date == profile.birth_date
    except IdNumberInvalid:
        return False


def identity_verified(p: PolicyInput) -> RuleResult:
    if _identity_holds(p.profile):
        return RuleResult("identity_verified", True, "Your identity is verified.", True)
    return failed("identity_verified", gettext_noop(
        "We could not verify your identity: enter your resident identity number and the date of "
        "birth on your identity card on your profile."), False)


def not_block_listed(p: PolicyInput) -> RuleResult:
    hit = p.block_hit
    if hit is None:
        return RuleResult("not_block_listed", True, "Nothing stops us lending to you.", None)
    if hit.by_number:
        matched = f"the identity number {hit.id_number}"
    else:
        matched = (f"the same full name and date of birth ({hit.full_name}, born "
                   f"{hit.birth_date:%Y-%m-%d}) under another identity number, {hit.id_number} "
                   f"(the applicant's is {p.profile.id_number or 'blank'})")
    return RuleResult(
        "not_block_listed", False,
        f"Block-list entry #{hit.entry_id} matches on {matched}. Its reason: {hit.reason}",
        {"entry": hit.entry_id, "matched_on": "id_number" if hit.by_number
         else "full_name_and_birth_date"},
        customer_reason=gettext(BLOCKED_FOR_CUSTOMER))


def debt_to_income(p: PolicyInput) -> RuleResult:
    bound = max_debt_to_income(p.product_code)
    debt, income = p.profile.monthly_debt_payments, p.monthly_income
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
    return failed("debt_to_income", gettext_noop(
        "Your monthly payments on other debts are too high for your income: we lend when they "
        "are below %(percent)s of it."), shown, percent=f"{bound * 100:.0f}%")


# Standing on our own book: a customer who owes us, whose line is frozen, or whose loan we
# wrote off is not lent more, whatever a model would say of their application.
def nothing_overdue(p: PolicyInput) -> RuleResult:
    if not p.has_overdue:
        return RuleResult("nothing_overdue", True, "You have no payment overdue with us.", False)
    return failed("nothing_overdue", gettext_noop(
        "You have a payment overdue: please repay it before applying again."), True)


def no_frozen_line(p: PolicyInput) -> RuleResult:
    if not p.has_frozen_line:
        return RuleResult("no_frozen_line", True, "None of your credit lines is frozen.", False)
    return failed("no_frozen_line", gettext_noop(
        "Your credit line is frozen, so we cannot lend you more until it is unfrozen."), True)


def nothing_written_off(p: PolicyInput) -> RuleResult:
    if not p.has_written_off:
        return RuleResult("nothing_written_off", True, "No loan of yours was written off.",
                          False)
    return failed("nothing_written_off", gettext_noop(
        "An earlier loan was written off because it went unpaid, so we cannot lend to you "
        "again."), True)


RULES: tuple[Callable[[PolicyInput], RuleResult], ...] = (
    adult, consents, identity_verified, not_block_listed, nothing_overdue, no_frozen_line,
    nothing_written_off, debt_to_income)


def policy_evaluate(*, profile: CustomerProfile, product, today: date,
                    monthly_income: Decimal | None = None) -> list[RuleResult]:
    """Every rule's result for this applicant and product. `profile` comes from
    `risk.selectors.applicant`, which read the block list with it; `monthly_income` is the
    income the decision uses (the declared one when not given)."""
    facts = PolicyInput(profile=profile, product_code=product.code, today=today,
                        block_hit=profile.block_hit,
                        monthly_income=(profile.monthly_income if monthly_income is None
                                        else monthly_income),
                        has_overdue=profile.has_overdue,
                        has_frozen_line=profile.has_frozen_line,
                        has_written_off=profile.has_written_off)
    return [rule(facts) for rule in RULES]


def reasons_for_customer(results: list[RuleResult]) -> list[str]:
    """The failed rules' sentences as the customer reads them. A block-listed applicant reads
    only that we cannot offer credit: the other rules' advice would only send them round
    again."""
    failed = [r for r in results if not r.passed]
    if any(r.name == "not_block_listed" for r in failed):
        return [gettext(BLOCKED_FOR_CUSTOMER)]
    return [r.for_customer for r in failed]
