"""Reads for the credit decision and its pages."""

from datetime import date

from lending.models import CreditLine, CreditProduct

from .models import BlockListEntry, CreditDecision, DecisionOutcome


def id_number_block_listed(id_number: str) -> bool:
    return bool(id_number) and BlockListEntry.objects.filter(id_number=id_number).exists()


def declined_until(*, customer, product, today: date) -> date | None:
    """The latest reapply date of this customer's declines for this product, if still ahead."""
    return (CreditDecision.objects
            .filter(customer=customer, product=product, outcome=DecisionOutcome.DECLINED,
                    reapply_on__gt=today)
            .order_by("-reapply_on").values_list("reapply_on", flat=True).first())


def products_open_for_application():
    return CreditProduct.objects.filter(is_active=True).order_by("pk")


def decision_of_customer(*, customer, decision_id: int) -> CreditDecision | None:
    """The customer's own decision, or None (another customer's is as good as absent)."""
    return (CreditDecision.objects.select_related("product", "model_version", "line")
            .filter(pk=decision_id, customer=customer).first())


def customer_has_line(customer) -> bool:
    return CreditLine.objects.filter(customer=customer).exists()
