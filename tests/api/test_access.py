"""Who gets partner data: only a token with `loans:read` of an active partner bank's client.
A missing or unusable credential is a 401, a usable one without the right is a 403."""

from datetime import timedelta

import pytest
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_application_model, set_token_value
from rest_framework.test import APIClient

from accounts.models import PartnerBank
from accounts.services import partner_client_create, staff_user_create
from tests.api.conftest import bearer, request_token
from tests.factories import UserFactory

Application = get_application_model()
AccessToken = get_access_token_model()
LOANS = "/api/v1/loans/"


def test_no_token_is_a_401_with_a_bearer_challenge(db):
    response = APIClient().get(LOANS)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_unknown_token_is_a_401(db):
    response = bearer("not-a-token").get(LOANS)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_an_expired_token_is_a_401(bank_a, token_for):
    token = token_for(bank_a)
    AccessToken.objects.update(expires=timezone.now() - timedelta(seconds=1))
    assert bearer(token).get(LOANS).status_code == 401


def test_a_valid_token_of_a_bank_is_a_200(bank_a, api_as):
    assert api_as(bank_a).get(LOANS).status_code == 200


def test_a_token_without_the_loans_scope_is_a_403_naming_the_scope(bank_a, settings):
    # A second scope exists only here, so that /o/token/ can issue a token without loans:read.
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER,
                                "SCOPES": {"loans:read": "Loans", "other:read": "Other"}}
    credentials = partner_client_create(partner_bank=bank_a, name="Bank A")
    response = request_token(credentials.client_id, credentials.client_secret,
                             scope="other:read")
    assert response.json()["scope"] == "other:read"
    refused = bearer(response.json()["access_token"]).get(LOANS)
    assert refused.status_code == 403
    assert refused.json()["required_scopes"] == ["loans:read"]


def test_a_token_of_an_application_that_is_no_banks_client_is_a_403(db):
    # /o/token/ issues none to such an application (test_oauth_routes); one stored for it by
    # other means (before that rule, or by hand) is still refused here.
    application = Application.objects.create(
        name="Some other integration", client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS)
    token = AccessToken(application=application, scope="loans:read",
                        expires=timezone.now() + timedelta(hours=1))
    set_token_value(token, "a-token-stored-by-hand")
    token.save()
    response = bearer("a-token-stored-by-hand").get(LOANS)
    assert response.status_code == 403
    assert response.json()["detail"] == "This client is not the API client of a partner bank."


def test_a_token_of_an_inactive_bank_is_a_403(bank_a, token_for):
    token = token_for(bank_a)
    PartnerBank.objects.filter(pk=bank_a.pk).update(is_active=False)
    response = bearer(token).get(LOANS)
    assert response.status_code == 403
    assert response.json()["detail"] == "This partner bank is not active."


@pytest.mark.parametrize("who", ["customer", "superuser"])
def test_a_signed_in_session_gets_no_partner_data(bank_a, loans, who):
    if who == "customer":
        user = UserFactory()
    else:
        user = staff_user_create(username="root", password="x-pass-2026", superuser=True)
    client = APIClient()
    client.force_login(user)
    assert client.get(LOANS).status_code == 401
    assert client.get(f"{LOANS}{loans['a'][0].pk}/").status_code == 401


def test_the_api_is_read_only(bank_a, api_as, loans):
    client = api_as(bank_a)
    assert client.post(LOANS, {}, format="json").status_code == 405
    assert client.delete(f"{LOANS}{loans['a'][0].pk}/").status_code == 405
