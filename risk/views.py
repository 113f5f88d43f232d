"""The customer's application for credit: apply, see the decision and its offer, accept.

Every change goes through `risk.services.decisions`; a refusal DomainError is shown on the
page, never a server error."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import CustomerProfile
from core.calendar import business_date_today
from core.errors import DomainError
from core.money_format import money_text

from .forms import ApplyForm
from .models import DecisionOutcome, IncomeBasis
from .selectors import decision_of_customer, products_open_for_application
from .services.decisions import credit_decide, credit_offer_accept, offer_expires_on


@login_required
@require_http_methods(["GET", "POST"])
def apply(request):
    products = list(products_open_for_application())
    form = ApplyForm(request.POST if request.method == "POST" else None, products=products)
    if request.method == "POST" and form.is_valid():
        try:
            decision = credit_decide(customer=request.user,
                                     product=form.cleaned_data["product"])
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            return redirect("decision", pk=decision.pk)
    # Asked only when the page is shown: a successful POST needs no extra read.
    has_profile = CustomerProfile.objects.filter(user=request.user).exists()
    return render(request, "risk/apply.html", {
        "form": form, "has_profile": has_profile, "has_products": bool(products)})


def _own_decision_or_404(request, pk):
    decision = decision_of_customer(customer=request.user, decision_id=pk)
    if decision is None:
        raise Http404("No such decision.")
    return decision


@login_required
@require_http_methods(["GET"])
def decision_detail(request, pk):
    decision = _own_decision_or_404(request, pk)
    approved = decision.outcome == DecisionOutcome.APPROVED
    expires_on = offer_expires_on(decision) if approved else None
    return render(request, "risk/decision.html", {
        "decision": decision, "approved": approved, "currency": settings.CURRENCY,
        # As many decimals as the rate has: 0.02, 0.05375.
        "daily_rate_percent": (decision.daily_rate * 100).normalize() if approved else None,
        "expires_on": expires_on,
        "can_accept": (approved and decision.accepted_at is None and decision.closed_at is None
                       and business_date_today() <= expires_on),
        # A block-listed applicant reads that we cannot offer credit, and nothing more.
        "blocked": decision.block_listed,
        "income_lowered": (decision.income_basis == IncomeBasis.UNVERIFIED_CHANGE
                           and decision.income_used is not None
                           and decision.income_used < decision.income_declared),
    })


@login_required
@require_POST
def decision_accept(request, pk):
    decision = _own_decision_or_404(request, pk)
    try:
        line = credit_offer_accept(decision_id=decision.pk, customer=request.user)
    except DomainError as error:
        messages.error(request, str(error))
        return redirect("decision", pk=decision.pk)
    messages.success(request, _("Your %(product)s line is ready: limit %(amount)s.")
                     % {"product": line.product.name, "amount": money_text(line.credit_limit)})
    return redirect("dashboard")
