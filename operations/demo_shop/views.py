"""The demo shop's pages: three products with "Pay with 花呗", the return page that shows the
payment's state, and a refund. Every figure comes from the merchant API (`client.py`)."""

import uuid
from decimal import Decimal
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from . import client

PRODUCTS = {
    "tea": (gettext_lazy("Longjing green tea, 250 g"), Decimal("168.00")),
    "earbuds": (gettext_lazy("Wireless earbuds"), Decimal("399.00")),
    "bike": (gettext_lazy("Folding bicycle"), Decimal("2199.00")),
}


def _demo_shop_on(view):
    """The shop exists only where settings.DEMO_SHOP is on (the local settings of `make
    run`); everywhere else its pages are not found."""

    @wraps(view)
    def guarded(request, *args, **kwargs):
        if not settings.DEMO_SHOP:
            raise Http404("No demo shop here.")
        return view(request, *args, **kwargs)

    return guarded


def _platform(request) -> str:
    # The demo serves the shop and the platform from one server: the platform's address is
    # the one this page was asked for.
    return request.build_absolute_uri("/").rstrip("/")


@_demo_shop_on
@require_GET
def shop(request):
    products = [
        {"sku": sku, "name": name, "price": price, "order_key": uuid.uuid4().hex}
        for sku, (name, price) in PRODUCTS.items()
    ]
    return render(
        request, "demo_shop/shop.html", {"products": products, "currency": settings.CURRENCY}
    )


@_demo_shop_on
@require_POST
def buy(request):
    """Create the checkout through the API and send the customer to it. The order key is
    made when the shop page is drawn, so a double click creates one checkout (it is the
    Idempotency-Key) for one order."""
    sku, order_key = request.POST.get("sku", ""), request.POST.get("order_key", "")
    if sku not in PRODUCTS or not order_key.isalnum() or len(order_key) != 32:
        messages.error(request, _("Choose a product on the shop page."))
        return redirect("demo_shop")
    name, price = PRODUCTS[sku]
    try:
        checkout = client.checkout_create(
            _platform(request),
            amount=str(price),
            order_reference=f"DEMO-{order_key[:16]}",
            description=str(name),
            idempotency_key=order_key,
            return_url=request.build_absolute_uri(reverse("demo_shop_return")),
        )
    except client.MerchantApiError as error:
        messages.error(
            request, _("The payment could not be started: %(reason)s") % {"reason": error.detail}
        )
        return redirect("demo_shop")
    return HttpResponseRedirect(checkout["checkout_url"])


@_demo_shop_on
@require_GET
def order_return(request):
    """Where the platform sends the customer back: the shop asks the API for the payment's
    state rather than trusting the `status` in the address."""
    token = request.GET.get("checkout", "")
    if not token:
        return redirect("demo_shop")
    try:
        checkout = client.checkout_read(_platform(request), token)
    except client.MerchantApiError as error:
        messages.error(
            request, _("The order could not be read: %(reason)s") % {"reason": error.detail}
        )
        return redirect("demo_shop")
    refundable = Decimal(checkout["amount"]) - Decimal(checkout["amount_refunded"])
    return render(
        request,
        "demo_shop/return.html",
        {
            "checkout": checkout,
            "currency": settings.CURRENCY,
            "amount": Decimal(checkout["amount"]),
            "amount_refunded": Decimal(checkout["amount_refunded"]),
            "refundable": refundable if checkout["status"] == "confirmed" else Decimal(0),
            "refund_reference": f"R-{uuid.uuid4().hex[:16]}",
        },
    )


@_demo_shop_on
@require_POST
def refund(request):
    """Refund through the API. The reference is made when the return page is drawn, so a
    double click refunds once."""
    token = request.POST.get("checkout", "")
    try:
        client.checkout_refund(
            _platform(request),
            token,
            amount=request.POST.get("amount", ""),
            reference=request.POST.get("reference", ""),
        )
    except client.MerchantApiError as error:
        messages.error(request, _("The refund was refused: %(reason)s") % {"reason": error.detail})
    else:
        messages.success(request, _("Refunded."))
    return redirect(f"{reverse('demo_shop_return')}?{urlencode({'checkout': token})}")
