"""Reads for the credit decision and its pages."""

from datetime import date

from django.db.models import Exists, OuterRef, Subquery

from accounts.models import CustomerProfile
from lending.models import CreditLine, CreditProduct

from .models import BlockListEntry, CreditDecision, DecisionOutcome


def _declines_in_force(*, customer, product, today: date):
    return CreditDecision.objects.filter(customer=customer, product=product,
                                         outcome=DecisionOutcome.DECLINED, reapply_on__gt=today)


def applicant(*, customer_id: int, product, today: date) -> CustomerProfile | None:
    """The applicant's profile with their shared signals (`profile.user.signals`, if any),
    whether their identity number is block-listed (`block_listed`) and until when an earlier
    decline stands (`declined_until`), all in one query: the decision is on the hot path."""
    declines = (_declines_in_force(customer=OuterRef("user_id"), product=product, today=today)
                .order_by("-reapply_on").values("reapply_on")[:1])
    return (CustomerProfile.objects.select_related("user__signals")
            .annotate(block_listed=Exists(BlockListEntry.objects.filter(
                          id_number=OuterRef("id_number")).exclude(id_number="")),
                      declined_until=Subquery(declines))
            .filter(user_id=customer_id).first())


def products_open_for_application():
    return CreditProduct.objects.filter(is_active=True).order_by("pk")


def decision_of_customer(*, customer, decision_id: int) -> CreditDecision | None:
    """The customer's own decision, or None (another customer's is as good as absent)."""
    return (CreditDecision.objects.select_related("product", "model_version", "line")
            .filter(pk=decision_id, customer=customer).first())


def customer_has_line(customer) -> bool:
    return CreditLine.objects.filter(customer=customer).exists()
