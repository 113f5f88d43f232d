"""The customer's hardship pages (困难申请): ask for more time on a loan, see one's requests and
their answers, withdraw one still waiting.

Reads are the customer's own rows only (another customer's loan or request is a 404); every
change goes through `debt_collection.services.hardship`, whose refusals are shown on the page."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import DomainError
from lending.models import LoanStatus
from lending.selectors import loans_for_customer

from .forms import HardshipRequestForm
from .models import HardshipRequest, HardshipStatus
from .services.hardship import hardship_request_submit, hardship_request_withdraw


@login_required
@require_http_methods(["GET", "POST"])
def hardship_request(request, pk):
    """The form on one of the customer's loans; instead, the request waiting for an answer if
    there is one, or why the loan cannot have one."""
    loan = get_object_or_404(loans_for_customer(request.user), pk=pk)
    waiting = HardshipRequest.objects.filter(loan=loan, status=HardshipStatus.SUBMITTED).first()
    is_active = loan.status == LoanStatus.ACTIVE
    form = None
    if is_active and waiting is None:
        form = HardshipRequestForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                hardship_request_submit(customer=request.user, loan_id=loan.pk,
                                        **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            except DomainError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("We have your request for more time on loan "
                                            "%(loan)s. An officer will answer you soon.")
                                 % {"loan": loan.pk})
                return redirect("hardship_requests")
    return render(request, "debt_collection/hardship_request.html", {
        "loan": loan, "form": form, "waiting": waiting, "is_active": is_active})


@login_required
@require_GET
def hardship_requests(request):
    """The customer's requests, newest first, each with its state and the officer's answer."""
    requests = (HardshipRequest.objects.filter(customer=request.user)
                .select_related("loan", "extension").order_by("-created_at", "-pk"))
    return render(request, "debt_collection/hardship_requests.html", {
        "requests": requests, "currency": settings.CURRENCY})


@login_required
@require_POST
def hardship_withdraw(request, pk):
    hardship = get_object_or_404(HardshipRequest, pk=pk, customer=request.user)
    try:
        hardship_request_withdraw(request_id=hardship.pk, customer=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Your request on loan %(loan)s is withdrawn.")
                         % {"loan": hardship.loan_id})
    return redirect("hardship_requests")
