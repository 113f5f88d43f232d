"""API clients of partner banks: OAuth2 client-credentials applications tied to a bank.

A client is made by `partner_client_create` and stopped for good by `partner_client_revoke`;
`partner_client_usable` is the one rule the OAuth2 server (accounts.oauth) asks before it
authenticates a client or stores a token for it."""

from dataclasses import dataclass, field

from django.contrib.auth.hashers import is_password_usable, make_password
from django.db import transaction
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import (
    get_access_token_model,
    get_application_model,
    get_grant_model,
    get_id_token_model,
    get_refresh_token_model,
)

from accounts.models import PartnerApiClient, PartnerBank
from core.audit import Actor, actor_system, audit_event_append
from core.errors import DomainError


@dataclass(frozen=True)
class PartnerClientCredentials:
    """What the bank is given once. The secret is stored only as a hash, so it cannot be shown
    again; it is left out of the repr so that it does not end up in logs by accident."""

    api_client: PartnerApiClient
    client_id: str
    client_secret: str = field(repr=False)


@dataclass(frozen=True)
class PartnerClientRevocation:
    """A revoked client, and how many of its access tokens stopped working with it."""

    api_client: PartnerApiClient
    client_id: str
    access_tokens_revoked: int


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


def partner_client_revoked(application) -> bool:
    """Whether `partner_client_revoke` stopped this application: its secret is unusable (as
    Django marks a user's password that can never match), so no secret authenticates it."""
    return not is_password_usable(application.client_secret)


def partner_client_usable(application) -> bool:
    """Whether `application` may authenticate and hold tokens: a partner bank's confidential
    client-credentials client, made by `partner_client_create`, and not revoked. An
    application made any other way (the package's admin, a shell) is no partner's client.

    Reading `partner_client` on an application without one raises RelatedObjectDoesNotExist,
    an AttributeError, so getattr's default covers it."""
    if application is None or getattr(application, "partner_client", None) is None:
        return False
    return (application.client_type == application.CLIENT_CONFIDENTIAL
            and application.authorization_grant_type == application.GRANT_CLIENT_CREDENTIALS
            and not partner_client_revoked(application))


def partner_client_revoke(*, client_id: str, reason: str, actor: Actor) -> PartnerClientRevocation:
    """Stop a partner bank's API client at once, for good: every token it holds is deleted (the
    API answers 401 to them from the next request) and its secret is replaced by an unusable
    one, so it gets no new token. The application and its link to the bank stay, for the
    record; the audit trail of the bank keeps who revoked it and why.

    To rotate a secret without downtime, create a second client first, let the bank switch,
    then revoke the first (docs/partner-api.md)."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("A reason is required to revoke an API client.")
    Application = get_application_model()
    with transaction.atomic():
        # The application row is the lock that issuing a token takes too (accounts.oauth), so
        # a token issued while this runs is either deleted here or refused there.
        # PostgreSQL refuses a NUL character in a string (a DataError): no client id has one.
        application = (None if "\x00" in client_id else
                       Application.objects.select_for_update().filter(client_id=client_id).first())
        api_client = (PartnerApiClient.objects.select_related("partner_bank", "application")
                      .filter(application=application).first()
                      if application is not None else None)
        if api_client is None:
            raise DomainError(f"No partner bank's API client has the client id {client_id!r}.")
        if partner_client_revoked(application):
            raise DomainError(f"The API client {client_id} is already revoked.")
        # Refresh tokens first (they point at access tokens), ID tokens last (access tokens
        # point at them). Client credentials never get refresh, ID tokens or grants; an
        # application edited outside partner_client_create might have, so they go too.
        get_refresh_token_model().objects.filter(application=application).delete()
        AccessToken = get_access_token_model()
        _, deleted = AccessToken.objects.filter(application=application).delete()
        get_id_token_model().objects.filter(application=application).delete()
        get_grant_model().objects.filter(application=application).delete()
        # Stored as it is (not hashed again): an unusable value that no secret matches.
        application.client_secret = make_password(None)
        application.hash_client_secret = False
        application.save(update_fields=["client_secret", "hash_client_secret", "updated"])
        revoked = deleted.get(AccessToken._meta.label, 0)
        audit_event_append(actor=actor, action="partner_bank.client_revoke",
                           subject_kind="partner_bank", subject_id=api_client.partner_bank_id,
                           payload={"client_id": application.client_id, "name": application.name,
                                    "reason": reason, "access_tokens_revoked": revoked})
    return PartnerClientRevocation(api_client=api_client, client_id=application.client_id,
                                   access_tokens_revoked=revoked)
