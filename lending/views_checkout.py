"""The customer's checkout page (/checkout/<token>/): a merchant sent the customer here to pay
an order with the pay-later line (花呗). Signed in, they see the merchant, the amount, their
available credit and the interest-free due date, then confirm or cancel; either way they are
sent back to the merchant's return URL with `?checkout=<token>&status=<status>`."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.calendar import business_date_today
from core.errors import DomainError

from .errors import customer_message
from .models import Checkout, CheckoutStatus, CreditLineStatus
from .rules.statements import due_date_of, statement_date_for
from .services import checkout_cancel, checkout_confirm
from .services.checkout import CheckoutRefused, pay_later_line_of


def return_url_for(checkout) -> str:
    """The merchant's return URL with the checkout's token and status added to its query."""
    joiner = "&" if "?" in checkout.return_url else "?"
    return (
        f"{checkout.return_url}{joiner}"
        f"{urlencode({'checkout': checkout.token, 'status': checkout.status})}"
    )


def refusal_text(error) -> str:
    # The checkout's own refusals are marked for translation; the line's come through
    # `customer_message`, which translates them by their code.
    return str(error) if isinstance(error, CheckoutRefused) else customer_message(error)


def why_not_payable(checkout, line) -> str:
    """What stops this customer paying this checkout now, in the customer's words; empty when
    nothing does. The same rules the confirmation applies under its locks: this is only so
    that the page says so before the customer presses Confirm."""
    if line is None:
        return _(
            "You have no pay-later line to pay with. Apply for one, then come back to this page."
        )
    if line.status == CreditLineStatus.FROZEN:
        return _("Your pay-later line is frozen, so it cannot be used for purchases now.")
    if line.status != CreditLineStatus.ACTIVE:
        return _("Your pay-later line is closed.")
    if checkout.amount > line.available:
        return _("The amount is more than your available credit.")
    return ""


def checkout_page(request, checkout, *, error="", status=200):
    line = pay_later_line_of(request.user)
    state = checkout.status
    if state == CheckoutStatus.PENDING and timezone.now() >= checkout.expires_at:
        state = CheckoutStatus.EXPIRED
    due_date = statement_date = None
    if line is not None and line.statement_day:
        statement_date = statement_date_for(business_date_today(), line.statement_day)
        due_date = due_date_of(statement_date, line.product.statement_due_days)
    return render(
        request,
        "lending/checkout.html",
        {
            "currency": settings.CURRENCY,
            "checkout": checkout,
            "state": state,
            "line": line,
            "statement_date": statement_date,
            "due_date": due_date,
            "blocked": why_not_payable(checkout, line) if state == CheckoutStatus.PENDING else "",
            "error": error,
            "return_url": return_url_for(checkout) if state != CheckoutStatus.PENDING else "",
        },
        status=status,
    )


def _checkout_of(token):
    return get_object_or_404(Checkout.objects.select_related("merchant"), token=token)


@login_required
@require_GET
def checkout(request, token):
    return checkout_page(request, _checkout_of(token))


@login_required
@require_POST
def checkout_confirm_view(request, token):
    # The service finds the checkout by its token under its lock: no read before it.
    try:
        checkout = checkout_confirm(checkout=Checkout(token=token), customer=request.user)
    except Checkout.DoesNotExist:
        raise Http404("No such checkout.") from None
    except DomainError as error:
        return checkout_page(request, _checkout_of(token), error=refusal_text(error),
                             status=400)
    return HttpResponseRedirect(return_url_for(checkout))


@login_required
@require_POST
def checkout_cancel_view(request, token):
    checkout = _checkout_of(token)
    try:
        checkout = checkout_cancel(checkout=checkout, customer=request.user)
    except DomainError as error:
        checkout.refresh_from_db()
        return checkout_page(request, checkout, error=refusal_text(error), status=400)
    return HttpResponseRedirect(return_url_for(checkout))
