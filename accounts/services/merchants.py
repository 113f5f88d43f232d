"""Merchants' API clients: OAuth2 client-credentials applications tied to a merchant, whose
tokens carry the checkout scope and nothing else (accounts.oauth).

A client is made by `merchant_client_create`; `merchant_client_usable` is the rule the OAuth2
server asks before it authenticates a client or stores a token for it, beside the partner
banks' own (`partner_client_usable`)."""

from dataclasses import dataclass, field

from django.db import transaction
from oauth2_provider.generators import generate_client_id, generate_client_secret
from oauth2_provider.models import get_application_model

from accounts.models import Merchant, MerchantApiClient
from core.audit import actor_system, audit_event_append
from core.money import to_rate

# The one scope a merchant's token carries: create checkouts, read them, refund their purchases.
MERCHANT_SCOPE = "checkout"


@dataclass(frozen=True)
class MerchantClientCredentials:
    """What the merchant is given once; the secret is stored only as a hash and kept out of
    the repr, so that it does not end up in logs by accident."""

    api_client: MerchantApiClient
    client_id: str
    client_secret: str = field(repr=False)


def merchant_create(
    *, code: str, name: str, return_url_prefixes: list[str], fee_rate="0.006"
) -> Merchant:
    """A merchant that takes pay-later at its checkout, and may send its customers back only
    to addresses under `return_url_prefixes` (each an http(s) URL ending in "/", so that
    "https://shop.example/" does not also admit "https://shop.example.evil/")."""
    for prefix in return_url_prefixes:
        if not (
            isinstance(prefix, str)
            and prefix.startswith(("https://", "http://"))
            and prefix.endswith("/")
            and len(prefix.split("/")) >= 4
        ):
            raise ValueError(f"A return URL prefix is an http(s) URL ending in '/': {prefix!r}.")
    fee_rate = to_rate(fee_rate, what="fee rate")
    with transaction.atomic():
        merchant = Merchant.objects.create(
            code=code, name=name, fee_rate=fee_rate, return_url_prefixes=list(return_url_prefixes)
        )
        audit_event_append(
            actor=actor_system("merchant_create"),
            action="merchant.create",
            subject_kind="merchant",
            subject_id=merchant.pk,
            payload={
                "code": code,
                "name": name,
                "fee_rate": str(fee_rate),
                "return_url_prefixes": list(return_url_prefixes),
            },
        )
    return merchant


def merchant_client_create(
    *, merchant: Merchant, name: str, client_id: str = "", client_secret: str = ""
) -> MerchantClientCredentials:
    """A confidential client-credentials application that speaks for `merchant`.

    The id and secret are generated unless given: the demo seeds its shop's client with the
    known credentials the demo shop signs in with (settings.DEMO_SHOP_CLIENT_ID and _SECRET)."""
    if not name.strip():
        raise ValueError("An API client needs a name.")
    Application = get_application_model()
    # django-oauth-toolkit hashes the secret when the application is saved: keep the plaintext.
    secret = client_secret or generate_client_secret()
    with transaction.atomic():
        application = Application.objects.create(
            name=name.strip(),
            client_id=client_id or generate_client_id(),
            user=None,
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
            client_secret=secret,
            hash_client_secret=True,
        )
        api_client = MerchantApiClient.objects.create(merchant=merchant, application=application)
        audit_event_append(
            actor=actor_system("merchant_client_create"),
            action="merchant.client_create",
            subject_kind="merchant",
            subject_id=merchant.pk,
            payload={"client_id": application.client_id, "name": application.name},
        )
    return MerchantClientCredentials(
        api_client=api_client, client_id=application.client_id, client_secret=secret
    )


def merchant_of(application) -> Merchant | None:
    """The merchant an application speaks for, or None when it is no merchant's client.

    Reading `merchant_client` on an application without one raises RelatedObjectDoesNotExist,
    an AttributeError, so getattr's default covers it."""
    api_client = getattr(application, "merchant_client", None)
    return api_client.merchant if api_client is not None else None


def merchant_client_usable(application) -> bool:
    """Whether `application` may authenticate and hold tokens as a merchant: a confidential
    client-credentials client made by `merchant_client_create` for an active merchant."""
    if application is None:
        return False
    merchant = merchant_of(application)
    return (
        merchant is not None
        and merchant.is_active
        and application.client_type == application.CLIENT_CONFIDENTIAL
        and application.authorization_grant_type == application.GRANT_CLIENT_CREDENTIALS
    )
