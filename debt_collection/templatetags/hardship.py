"""The hardship block on the customer's loan page (templates/lending/loan_detail.html).

A template tag rather than a line in lending's view: lending sits below debt_collection and
cannot import it (docs/architecture.md, "Layers")."""

from django import template

from lending.models import LoanStatus

from ..models import HardshipRequest, HardshipStatus

register = template.Library()


@register.inclusion_tag("debt_collection/includes/loan_hardship.html")
def hardship_on_loan(loan):
    """The loan's latest request and its state, and the way to ask while the loan is active
    and no request waits for an answer."""
    latest = HardshipRequest.objects.filter(loan=loan).order_by("-created_at", "-pk").first()
    return {
        "loan": loan, "latest": latest,
        "can_ask": (loan.status == LoanStatus.ACTIVE
                    and (latest is None or latest.status != HardshipStatus.SUBMITTED)),
    }
