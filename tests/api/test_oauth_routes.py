"""Only the OAuth2 endpoints a partner bank's back end calls are routed: token, revoke and
introspect. The package's pages for people (application registration and management,
authorisation, authorized tokens) and its OIDC views are not there at all."""

from urllib.parse import urlencode

import pytest
from django.urls import NoReverseMatch, reverse
from rest_framework.test import APIClient

from accounts.services import partner_client_create
from tests.api.conftest import basic_auth, bearer, request_token
from tests.factories import ProfileFactory

LOANS = "/api/v1/loans/"

NOT_ROUTED = [
    "/o/applications/",
    "/o/applications/register/",
    "/o/applications/1/",
    "/o/applications/1/update/",
    "/o/applications/1/delete/",
    "/o/authorize/",
    "/o/authorized-tokens/",
    "/o/authorized_tokens/",  # the package's own spelling of the path
    "/o/authorized_tokens/1/delete/",
    "/o/.well-known/openid-configuration",
    "/o/.well-known/jwks.json",
    "/o/.well-known/oauth-authorization-server",
    "/o/userinfo/",
    "/o/logout/",
    "/o/device-authorization/",
    "/o/device/",
    "/o/register/",
]


@pytest.fixture
def customer_client(client, db):
    """A signed-in customer's browser session."""
    client.force_login(ProfileFactory().user)
    return client


@pytest.fixture
def credentials(bank_a):
    return partner_client_create(partner_bank=bank_a, name="Bank A back end")


def post_as_client(url, credentials, **fields):
    return APIClient().post(
        url, urlencode(fields), content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic_auth(credentials.client_id, credentials.client_secret),
    )


@pytest.mark.parametrize("url", NOT_ROUTED)
def test_a_signed_in_customer_gets_a_404_for_the_pages_that_are_not_routed(customer_client, url):
    assert customer_client.get(url).status_code == 404
    assert customer_client.post(url, {}).status_code == 404


@pytest.mark.parametrize("url", ["/o/applications/", "/o/authorize/"])
def test_so_does_someone_not_signed_in(client, db, url):
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("name", ["list", "register", "authorize", "authorized-token-list",
                                  "oidc-connect-discovery-info", "user-info"])
def test_the_unrouted_views_cannot_be_reversed(name):
    with pytest.raises(NoReverseMatch):
        reverse(f"oauth2_provider:{name}")


def test_the_routed_views_keep_the_packages_names_and_namespace():
    assert reverse("oauth2_provider:token") == "/o/token/"
    assert reverse("oauth2_provider:revoke-token") == "/o/revoke_token/"
    assert reverse("oauth2_provider:introspect") == "/o/introspect/"


def test_a_partner_client_gets_a_token_with_client_credentials_and_reads_its_loans(
        credentials, loans):
    response = request_token(credentials.client_id, credentials.client_secret)
    assert response.status_code == 200, response.content
    assert response.json()["scope"] == "loans:read"
    listed = bearer(response.json()["access_token"]).get(LOANS)
    assert listed.status_code == 200, listed.content
    assert {row["id"] for row in listed.json()["results"]} == {loan.pk for loan in loans["a"]}


def test_a_partner_client_can_introspect_its_token(credentials):
    token = request_token(credentials.client_id, credentials.client_secret).json()["access_token"]
    response = post_as_client("/o/introspect/", credentials, token=token)
    assert response.status_code == 200, response.content
    assert response.json()["active"] is True
    assert response.json()["scope"] == "loans:read"


def test_a_partner_client_can_revoke_its_token(credentials):
    token = request_token(credentials.client_id, credentials.client_secret).json()["access_token"]
    assert bearer(token).get(LOANS).status_code == 200
    response = post_as_client("/o/revoke_token/", credentials, token=token)
    assert response.status_code == 200, response.content
    assert bearer(token).get(LOANS).status_code == 401
