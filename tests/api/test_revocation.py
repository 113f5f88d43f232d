"""Revoking a partner bank's API client: its tokens stop at once, it gets no new one, and the
bank's audit trail keeps who did it and why. One service (`partner_client_revoke`), called by
the command and by the admin's "Revoke…" action."""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_application_model
from oauthlib.common import Request as OauthlibRequest
from oauthlib.oauth2.rfc6749.errors import InvalidClientError

from accounts.models import PartnerApiClient
from accounts.oauth import PartnerOAuth2Validator
from accounts.roles import RISK_MANAGER
from accounts.services import partner_client_create, staff_user_create
from accounts.services.partner_clients import partner_client_revoke, partner_client_revoked
from core.audit import actor_system, actor_user, audit_chain_verify, audit_trail_of
from core.errors import DomainError
from tests.api.conftest import basic_auth, bearer, request_token

Application = get_application_model()
AccessToken = get_access_token_model()
LOANS = "/api/v1/loans/"
SYSTEM = actor_system("tests")


@pytest.fixture
def credentials(bank_a):
    return partner_client_create(partner_bank=bank_a, name="Bank A back end")


def token_of(credentials):
    response = request_token(credentials.client_id, credentials.client_secret)
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def last_event(bank):
    return audit_trail_of("partner_bank", bank.pk).last()


# The service -------------------------------------------------------------------------------------

def test_a_revoked_clients_tokens_are_refused_at_once_and_it_gets_no_new_one(credentials):
    tokens = [token_of(credentials), token_of(credentials)]
    assert all(bearer(t).get(LOANS).status_code == 200 for t in tokens)

    done = partner_client_revoke(client_id=credentials.client_id, reason="Secret leaked",
                                 actor=SYSTEM)

    assert done.access_tokens_revoked == 2
    for token in tokens:
        response = bearer(token).get(LOANS)
        assert response.status_code == 401
        assert 'error="invalid_token"' in response["WWW-Authenticate"]
    again = request_token(credentials.client_id, credentials.client_secret)
    assert (again.status_code, again.json()["error"]) == (401, "invalid_client")
    assert not AccessToken.objects.exists()


def test_the_client_stays_on_record_with_an_unusable_secret(credentials, bank_a):
    partner_client_revoke(client_id=credentials.client_id, reason="Secret leaked", actor=SYSTEM)
    application = Application.objects.get(client_id=credentials.client_id)
    assert partner_client_revoked(application)
    assert PartnerApiClient.objects.get(application=application).partner_bank == bank_a
    # Neither the old secret nor the stored value itself authenticates.
    for secret in (credentials.client_secret, application.client_secret):
        assert request_token(credentials.client_id, secret).status_code == 401


def test_the_revocation_is_audited_with_who_and_why(credentials, bank_a):
    token_of(credentials)
    officer = staff_user_create(username="ops-lead", password="x-pass-2026", superuser=True)
    partner_client_revoke(client_id=credentials.client_id, reason="  Secret leaked  ",
                          actor=actor_user(officer))
    event = last_event(bank_a)
    assert (event.action, event.subject_kind, event.subject_id) == (
        "partner_bank.client_revoke", "partner_bank", str(bank_a.pk))
    assert (event.actor_kind, event.actor_id, event.actor_label) == (
        "user", str(officer.pk), "ops-lead")
    assert event.payload == {"client_id": credentials.client_id, "name": "Bank A back end",
                             "reason": "Secret leaked", "access_tokens_revoked": 1}
    assert audit_chain_verify(subject_kind="partner_bank", subject_id=bank_a.pk) is None


def test_rotation_the_banks_new_client_keeps_working(credentials, bank_a):
    old_token = token_of(credentials)
    new = partner_client_create(partner_bank=bank_a, name="Bank A back end (2026)")
    new_token = token_of(new)
    partner_client_revoke(client_id=credentials.client_id, reason="Rotation", actor=SYSTEM)
    assert bearer(old_token).get(LOANS).status_code == 401
    assert bearer(new_token).get(LOANS).status_code == 200
    assert request_token(new.client_id, new.client_secret).status_code == 200


@pytest.mark.parametrize("client_id, reason, message", [
    ("no-such-client", "Leaked", "No partner bank's API client has the client id"),
    ("bad\x00id", "Leaked", "No partner bank's API client has the client id"),
    (None, "   ", "A reason is required"),
])
def test_a_revocation_needs_a_known_client_and_a_reason(credentials, client_id, reason, message):
    token = token_of(credentials)
    with pytest.raises(DomainError, match=message):
        partner_client_revoke(client_id=client_id or credentials.client_id, reason=reason,
                              actor=SYSTEM)
    assert bearer(token).get(LOANS).status_code == 200


def test_an_application_that_is_no_banks_client_is_not_revoked_here(db):
    application = Application.objects.create(
        name="Made in the admin", client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS)
    with pytest.raises(DomainError, match="No partner bank's API client"):
        partner_client_revoke(client_id=application.client_id, reason="x", actor=SYSTEM)


def test_a_client_is_revoked_once(credentials, bank_a):
    partner_client_revoke(client_id=credentials.client_id, reason="Leaked", actor=SYSTEM)
    with pytest.raises(DomainError, match="already revoked"):
        partner_client_revoke(client_id=credentials.client_id, reason="Again", actor=SYSTEM)
    assert [e.action for e in audit_trail_of("partner_bank", bank_a.pk)].count(
        "partner_bank.client_revoke") == 1


def test_a_token_request_that_authenticated_before_the_revocation_gets_no_token(credentials):
    # /o/token/ checks the secret, then stores the token: a revocation can commit in between.
    # Storing locks the application row (as the revocation does) and looks again.
    validator = PartnerOAuth2Validator()
    request = OauthlibRequest(
        "https://testserver/o/token/", "POST", urlencode({"grant_type": "client_credentials"}),
        {"HTTP_AUTHORIZATION": basic_auth(credentials.client_id, credentials.client_secret)})
    assert validator.authenticate_client(request)
    partner_client_revoke(client_id=credentials.client_id, reason="Leaked", actor=SYSTEM)
    token = {"access_token": "issued-too-late", "expires_in": 3600, "token_type": "Bearer",
             "scope": "loans:read"}
    with pytest.raises(InvalidClientError):
        validator.save_bearer_token(token, request)
    assert not AccessToken.objects.exists()


# The command -------------------------------------------------------------------------------------

def test_the_command_revokes_and_says_so(credentials, bank_a, capsys):
    token = token_of(credentials)
    call_command("revoke_partner_client", "--client-id", credentials.client_id,
                 "--reason", "Bank reported the secret leaked")
    out = capsys.readouterr().out
    assert f"Revoked the API client {credentials.client_id} of bank-a" in out
    assert "1 access token(s)" in out
    assert bearer(token).get(LOANS).status_code == 401
    event = last_event(bank_a)
    assert (event.actor_kind, event.actor_id) == ("system", "revoke_partner_client")
    assert event.payload["reason"] == "Bank reported the secret leaked"


@pytest.mark.parametrize("args, message", [
    (["--client-id", "nope", "--reason", "x"], "No partner bank's API client"),
    (["--client-id", "CLIENT", "--reason", " "], "A reason is required"),
    (["--client-id", "CLIENT"], "--reason"),
    (["--reason", "x"], "--client-id"),
])
def test_the_command_refuses_without_a_known_client_and_a_reason(credentials, args, message):
    args = [credentials.client_id if a == "CLIENT" else a for a in args]
    with pytest.raises(CommandError, match=message):
        call_command("revoke_partner_client", *args)
    assert not partner_client_revoked(Application.objects.get(client_id=credentials.client_id))


# The admin action --------------------------------------------------------------------------------

CHANGELIST = "/admin/accounts/partnerapiclient/"


@pytest.fixture
def superuser_client(db):
    client = Client()
    client.force_login(staff_user_create(username="root", password="x-pass-2026",
                                         superuser=True))
    return client


def revoke_action(client, api_client, **data):
    return client.post(CHANGELIST, {"action": "revoke", "_selected_action": [api_client.pk],
                                    **data})


def test_the_action_asks_for_a_reason_on_a_page_about_the_client(superuser_client, credentials):
    token_of(credentials)
    page = revoke_action(superuser_client, credentials.api_client)
    assert page.status_code == 200
    assert [t.name for t in page.templates][0] == "admin/accounts/partnerapiclient/revoke.html"
    text = page.content.decode()
    assert credentials.client_id in text
    assert 'data-testid="live-tokens">1<' in text
    assert 'name="reason"' in text


def test_the_action_revokes_and_audits_the_officer_and_the_reason(superuser_client, credentials,
                                                                 bank_a):
    token = token_of(credentials)
    done = revoke_action(superuser_client, credentials.api_client, apply="yes",
                         reason="Bank called: laptop stolen")
    assert done.status_code == 302
    assert bearer(token).get(LOANS).status_code == 401
    event = last_event(bank_a)
    assert (event.action, event.actor_kind, event.actor_label) == (
        "partner_bank.client_revoke", "user", "root")
    assert event.payload["reason"] == "Bank called: laptop stolen"
    listed = superuser_client.get(CHANGELIST).content.decode()
    assert "revoked" in listed


def test_the_action_shows_a_missing_reason_or_a_second_revocation_on_the_form(superuser_client,
                                                                           credentials):
    blank = revoke_action(superuser_client, credentials.api_client, apply="yes", reason="")
    assert blank.status_code == 200
    assert blank.context["form"].errors["reason"]
    partner_client_revoke(client_id=credentials.client_id, reason="Leaked", actor=SYSTEM)
    again = revoke_action(superuser_client, credentials.api_client, apply="yes", reason="x")
    assert "already revoked" in str(again.context["form"].non_field_errors())


def test_staff_who_may_only_view_clients_do_not_get_the_action(credentials):
    user = staff_user_create(username="manager", password="x-pass-2026", role=RISK_MANAGER)
    user.user_permissions.add(Permission.objects.get(codename="view_partnerapiclient"))
    client = Client()
    client.force_login(user)
    page = client.get(CHANGELIST)
    assert page.status_code == 200
    assert page.context["action_form"] is None
    revoke_action(client, credentials.api_client, apply="yes", reason="x")
    assert not partner_client_revoked(Application.objects.get(client_id=credentials.client_id))


# django-oauth-toolkit's own admin pages ----------------------------------------------------------

OAUTH_MODELS = ["application", "accesstoken", "grant", "idtoken", "refreshtoken"]


@pytest.mark.parametrize("model", OAUTH_MODELS)
def test_the_packages_tables_are_for_superusers_only_and_view_only(superuser_client, credentials,
                                                                   model):
    token_of(credentials)
    changelist = reverse(f"admin:oauth2_provider_{model}_changelist")
    assert superuser_client.get(changelist).status_code == 200
    assert superuser_client.get(reverse(f"admin:oauth2_provider_{model}_add")).status_code == 403

    staff = staff_user_create(username="viewer", password="x-pass-2026", role=RISK_MANAGER)
    staff.user_permissions.add(*Permission.objects.filter(content_type__app_label="oauth2_provider"))
    client = Client()
    client.force_login(staff)
    assert client.get(changelist).status_code == 403
    assert "oauth2_provider" not in str(client.get(reverse("admin:index")).context["app_list"])


def test_an_application_cannot_be_changed_in_the_packages_admin(superuser_client, credentials):
    application = Application.objects.get(client_id=credentials.client_id)
    url = reverse("admin:oauth2_provider_application_change", args=[application.pk])
    superuser_client.post(url, {"name": "renamed", "client_secret": "known",
                                "hash_client_secret": "", "client_type": "confidential",
                                "authorization_grant_type": "client-credentials"})
    assert Application.objects.get(pk=application.pk).name == "Bank A back end"


def test_expired_tokens_are_not_counted_as_live_on_the_action_page(superuser_client,
                                                                   credentials):
    token_of(credentials)
    AccessToken.objects.update(expires=timezone.now() - timedelta(seconds=1))
    page = revoke_action(superuser_client, credentials.api_client)
    assert 'data-testid="live-tokens">0<' in page.content.decode()
