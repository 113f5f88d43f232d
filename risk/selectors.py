"""Reads for the credit decision and its pages."""

from datetime import date

from accounts.models import CustomerProfile, CustomerSignals
from lending.models import CreditLine, CreditProduct

from .features.application import SIGNAL_COLUMNS
from .models import BlockListEntry, CreditDecision, DecisionOutcome

_APPLICANT_SQL = f"""
SELECT profile.*, {", ".join(f"signals.{name}" for name in SIGNAL_COLUMNS)},
       EXISTS (SELECT 1 FROM {BlockListEntry._meta.db_table} blocked
               WHERE blocked.id_number = profile.id_number AND profile.id_number <> '')
           AS block_listed,
       (SELECT MAX(decision.reapply_on) FROM {CreditDecision._meta.db_table} decision
        WHERE decision.customer_id = profile.user_id AND decision.product_id = %s
          AND decision.outcome = %s AND decision.reapply_on > %s)
           AS declined_until
FROM {CustomerProfile._meta.db_table} profile
LEFT JOIN {CustomerSignals._meta.db_table} signals ON signals.user_id = profile.user_id
WHERE profile.user_id = %s
"""


def applicant(*, customer_id: int, product, today: date) -> CustomerProfile | None:
    """The applicant's profile carrying, as attributes, their shared signals (the
    `SIGNAL_COLUMNS`, None where not shared), whether their identity number is block-listed
    (`block_listed`) and until when an earlier decline stands (`declined_until`).

    One hand-written query: the decision is on the hot path, and compiling the same read
    through the ORM (select_related plus two subqueries) took three times as long as running
    it. The SQL is portable (PostgreSQL and the embedded SQLite)."""
    params = [product.pk, DecisionOutcome.DECLINED.value, today, customer_id]
    found = list(CustomerProfile.objects.raw(_APPLICANT_SQL, params))
    if not found:
        return None
    profile = found[0]
    profile.block_listed = bool(profile.block_listed)
    if isinstance(profile.declined_until, str):  # SQLite returns a computed date as text
        profile.declined_until = date.fromisoformat(profile.declined_until)
    return profile


def products_open_for_application():
    return CreditProduct.objects.filter(is_active=True).order_by("pk")


def decision_of_customer(*, customer, decision_id: int) -> CreditDecision | None:
    """The customer's own decision, or None (another customer's is as good as absent)."""
    return (CreditDecision.objects.select_related("product", "model_version", "line")
            .filter(pk=decision_id, customer=customer).first())


def customer_has_line(customer) -> bool:
    return CreditLine.objects.filter(customer=customer).exists()
