"""Reads for the credit decision and its pages."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from accounts.models import CustomerProfile, CustomerSignals
from lending.models import (
    CreditLine,
    CreditLineStatus,
    CreditProduct,
    Instalment,
    InstalmentStatus,
    Loan,
    LoanStatus,
    Statement,
    StatementStatus,
)
from lending.models.revolving import LineWriteOff

from .features.application import SIGNAL_COLUMNS
from .models import (
    BlockListEntry,
    Card,
    CreditDecision,
    IncomeVerification,
    ModelStatus,
    ModelVersion,
)

_BLOCK = BlockListEntry._meta.db_table
_DECISION = CreditDecision._meta.db_table
_VERIFICATION = IncomeVerification._meta.db_table
_LINE = CreditLine._meta.db_table
_LOAN = Loan._meta.db_table
_INSTALMENT = Instalment._meta.db_table
_STATEMENT = Statement._meta.db_table
_LINE_WRITE_OFF = LineWriteOff._meta.db_table

# A block matches the person: their identity number, or the same full name (case and spaces
# aside) and date of birth, so a new number for the same person is caught too. The number's
# match is preferred when both kinds of entry exist.
_APPLICANT_SQL = f"""
SELECT profile.*, {", ".join(f"signals.{name}" for name in SIGNAL_COLUMNS)},
       blocked.id AS block_entry_id, blocked.id_number AS block_entry_number,
       blocked.full_name AS block_entry_name, blocked.birth_date AS block_entry_birth_date,
       blocked.reason AS block_entry_reason,
       cooling.id AS cooling_decision_id, cooling.outcome AS cooling_outcome,
       cooling.business_date AS cooling_decided_on, cooling.reapply_on AS cooling_until,
       previous.id AS previous_decision_id, previous.income_used AS previous_income,
       verified.id AS verification_id, verified.monthly_income AS verified_income,
       verified.business_date AS verified_on,
       CASE WHEN verified.id IS NOT NULL
                 AND (previous.id IS NULL OR verified.created_at > previous.created_at)
            THEN 1 ELSE 0 END AS verified_since_previous,
       (SELECT champion.id FROM {ModelVersion._meta.db_table} champion
        WHERE champion.card = %s AND champion.status = %s) AS champion_id,
       -- Standing: what the customer's own book says (any product). A written-off loan or
       -- pay-later line is its own fact, not counted again as overdue. A pay-later statement
       -- past due counts as an overdue loan does.
       CASE WHEN EXISTS (
           SELECT 1 FROM {_LOAN} loan JOIN {_LINE} owner ON owner.id = loan.line_id
           WHERE owner.customer_id = profile.user_id AND loan.status <> '{LoanStatus.WRITTEN_OFF}'
             AND (loan.days_past_due > 0 OR EXISTS (
                 SELECT 1 FROM {_INSTALMENT} instalment
                 WHERE instalment.loan_id = loan.id
                   AND instalment.status = '{InstalmentStatus.OVERDUE}')))
            OR EXISTS (
           SELECT 1 FROM {_STATEMENT} statement JOIN {_LINE} owner ON owner.id = statement.line_id
           WHERE owner.customer_id = profile.user_id
             AND statement.status = '{StatementStatus.OPEN}' AND statement.days_past_due > 0)
            THEN 1 ELSE 0 END AS standing_overdue,
       CASE WHEN EXISTS (
           SELECT 1 FROM {_LINE} frozen
           WHERE frozen.customer_id = profile.user_id
             AND frozen.status = '{CreditLineStatus.FROZEN}')
            THEN 1 ELSE 0 END AS standing_frozen,
       CASE WHEN EXISTS (
           SELECT 1 FROM {_LOAN} loan JOIN {_LINE} owner ON owner.id = loan.line_id
           WHERE owner.customer_id = profile.user_id
             AND loan.status = '{LoanStatus.WRITTEN_OFF}')
            OR EXISTS (
           SELECT 1 FROM {_LINE_WRITE_OFF} written JOIN {_LINE} owner ON owner.id = written.line_id
           WHERE owner.customer_id = profile.user_id)
            THEN 1 ELSE 0 END AS standing_written_off,
       (SELECT line.officer_cap FROM {_LINE} line
        WHERE line.customer_id = profile.user_id AND line.product_id = %s) AS line_officer_cap
FROM {CustomerProfile._meta.db_table} profile
LEFT JOIN {CustomerSignals._meta.db_table} signals ON signals.user_id = profile.user_id
LEFT JOIN {_BLOCK} blocked ON blocked.id = COALESCE(
    (SELECT entry.id FROM {_BLOCK} entry
     WHERE profile.id_number <> '' AND entry.id_number = profile.id_number),
    (SELECT entry.id FROM {_BLOCK} entry
     WHERE entry.birth_date = profile.birth_date AND entry.full_name <> ''
       AND UPPER(REPLACE(entry.full_name, ' ', '')) = UPPER(REPLACE(profile.full_name, ' ', ''))
     ORDER BY entry.id
     LIMIT 1))
LEFT JOIN {_DECISION} cooling ON cooling.id = (
    SELECT decision.id FROM {_DECISION} decision
    WHERE decision.customer_id = profile.user_id AND decision.product_id = %s
      AND decision.reapply_on > %s
    ORDER BY decision.reapply_on DESC, decision.id DESC
    LIMIT 1)
LEFT JOIN {_DECISION} previous ON previous.id = (
    SELECT decision.id FROM {_DECISION} decision
    WHERE decision.customer_id = profile.user_id AND decision.income_used IS NOT NULL
    ORDER BY decision.created_at DESC
    LIMIT 1)
LEFT JOIN {_VERIFICATION} verified ON verified.id = (
    SELECT verification.id FROM {_VERIFICATION} verification
    WHERE verification.customer_id = profile.user_id
    ORDER BY verification.created_at DESC
    LIMIT 1)
WHERE profile.user_id = %s
"""


@dataclass(frozen=True)
class BlockHit:
    """The block-list entry that matched an applicant, and on what."""

    entry_id: int
    id_number: str
    full_name: str
    birth_date: date | None
    reason: str
    by_number: bool


@dataclass(frozen=True)
class CoolingOff:
    """The decision that keeps the applicant from applying for the product before `until`."""

    decision_id: int
    outcome: str
    decided_on: date
    until: date


def _date(value):
    """SQLite returns a computed or joined date as text."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def _amount(value):
    """A joined money column: Decimal from PostgreSQL, a number or text from SQLite."""
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def applicant(*, customer_id: int, product, today: date) -> CustomerProfile | None:
    """The applicant's profile carrying, as attributes, everything the decision asks besides:

    - their shared signals (the `SIGNAL_COLUMNS`, None where not shared);
    - `block_hit`: the block-list entry matching them (`BlockHit`) or None, and `block_listed`;
    - `cooling_off`: the decision of this product whose cooling-off still stands (`CoolingOff`)
      or None;
    - `previous_income`, `previous_decision_id`: the income their last decision (any product)
      used; `verified_income`, `verified_on`, `verification_id` of their latest income
      verification and `verified_since_previous`;
    - `champion_id`: the A-card champion now, so scoring needs no query of its own;
    - their standing on the book, for the policy rules: `has_overdue` (a loan not written off
      with days past due or an overdue instalment, or a pay-later statement past due),
      `has_frozen_line`, `has_written_off` (a loan or a pay-later line);
    - `line_officer_cap`: an officer's cap on their line of this product, or None.

    One hand-written query: the decision is on the hot path, and compiling the same read
    through the ORM (select_related plus subqueries) took three times as long as running it.
    The SQL is portable (PostgreSQL and the embedded SQLite)."""
    params = [Card.APPLICATION.value, ModelStatus.CHAMPION.value, product.pk, product.pk, today,
              customer_id]
    found = list(CustomerProfile.objects.raw(_APPLICANT_SQL, params))
    if not found:
        return None
    profile = found[0]
    profile.block_hit = None if profile.block_entry_id is None else BlockHit(
        entry_id=profile.block_entry_id, id_number=profile.block_entry_number,
        full_name=profile.block_entry_name, birth_date=_date(profile.block_entry_birth_date),
        reason=profile.block_entry_reason,
        by_number=bool(profile.id_number) and profile.block_entry_number == profile.id_number)
    profile.block_listed = profile.block_hit is not None
    profile.cooling_off = None if profile.cooling_decision_id is None else CoolingOff(
        decision_id=profile.cooling_decision_id, outcome=profile.cooling_outcome,
        decided_on=_date(profile.cooling_decided_on), until=_date(profile.cooling_until))
    profile.previous_income = _amount(profile.previous_income)
    profile.verified_income = _amount(profile.verified_income)
    profile.verified_on = _date(profile.verified_on)
    profile.verified_since_previous = bool(profile.verified_since_previous)
    profile.has_overdue = bool(profile.standing_overdue)
    profile.has_frozen_line = bool(profile.standing_frozen)
    profile.has_written_off = bool(profile.standing_written_off)
    profile.line_officer_cap = _amount(profile.line_officer_cap)
    return profile


def products_open_for_application():
    return CreditProduct.objects.filter(is_active=True).order_by("pk")


def decision_of_customer(*, customer, decision_id: int) -> CreditDecision | None:
    """The customer's own decision, or None (another customer's is as good as absent)."""
    return (CreditDecision.objects.select_related("product", "model_version", "line")
            .filter(pk=decision_id, customer=customer).first())


def customer_has_line(customer) -> bool:
    return CreditLine.objects.filter(customer=customer).exists()
