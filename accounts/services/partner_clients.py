"""API clients of partner banks: OAuth2 client-credentials applications tied to a bank."""

from dataclasses import dataclass, field

from django.db import transaction
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import get_application_model

from accounts.models import PartnerApiClient, PartnerBank
from core.audit import actor_system, audit_event_append


@dataclass(frozen=True)
class PartnerClientCredentials:
    """What the bank is given once. The secret is stored only as a hash, so it cannot be shown
    again; it is left out of the repr so that it does not end up in logs by accident."""

    api_client: PartnerApiClient
    client_id: str
    client_secret: str = field(repr=False)


def partner_client_create(*, partner_bank: PartnerBank, name: str) -> PartnerClientCredentials:
    """A confidential client-credentials application that speaks for `partner_bank`."""
    if not name.strip():
        raise ValueError("An API client needs a name.")
    Application = get_application_model()
    # django-oauth-toolkit hashes the secret when the application is saved: keep the plaintext.
    secret = generate_client_secret()
    with transaction.atomic():
        application = Application.objects.create(
            name=name.strip(),
            user=None,
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
            client_secret=secret,
            hash_client_secret=True,
        )
        api_client = PartnerApiClient.objects.create(partner_bank=partner_bank,
                                                     application=application)
        # Operators issue credentials from the command line: the system acts, under its name.
        audit_event_append(actor=actor_system("create_partner_client"),
                           action="partner_bank.client_create", subject_kind="partner_bank",
                           subject_id=partner_bank.pk,
                           payload={"client_id": application.client_id, "name": application.name})
    return PartnerClientCredentials(api_client=api_client, client_id=application.client_id,
                                    client_secret=secret)
