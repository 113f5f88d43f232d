"""The demo's merchant: the shop at /demo-shop/ (operations.demo_shop) and its API client, with
the known credentials the shop signs in with (settings.DEMO_SHOP_CLIENT_ID and _SECRET). It may
send customers back to the shop's pages wherever the demo is served
(settings.DEMO_SHOP_ORIGINS)."""

from django.conf import settings

from accounts.models import Merchant
from accounts.services.merchants import merchant_client_create, merchant_create

DEMO_MERCHANT_CODE = "demo-shop"


def demo_merchant_seed() -> Merchant:
    merchant = merchant_create(
        code=DEMO_MERCHANT_CODE,
        name="Demo Shop",
        fee_rate="0.006",
        return_url_prefixes=[f"{origin}/demo-shop/" for origin in settings.DEMO_SHOP_ORIGINS],
    )
    merchant_client_create(
        merchant=merchant,
        name="Demo Shop back end",
        client_id=settings.DEMO_SHOP_CLIENT_ID,
        client_secret=settings.DEMO_SHOP_CLIENT_SECRET,
    )
    return merchant
