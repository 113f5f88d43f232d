"""Only the OAuth2 endpoints a partner bank's back end calls are routed: token, revoke and
introspect. The package's pages for people (application registration and management,
authorisation, authorized tokens) and its OIDC views are not there at all. The token endpoint
serves only the client-credentials grant, only to partner banks' clients, and issues no refresh
token; a client introspects and revokes only its own tokens."""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from oauth2_provider.models import (
    get_access_token_model,
    get_application_model,
    get_refresh_token_model,
)
from rest_framework.test import APIClient

from accounts.services import partner_client_create
from tests.api.conftest import basic_auth, bearer, request_token
from tests.factories import ProfileFactory

Application = get_application_model()
AccessToken = get_access_token_model()
RefreshToken = get_refresh_token_model()
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


# Only partner clients, only client credentials ---------------------------------------------------

def test_an_application_made_outside_partner_client_create_gets_no_token(db):
    # As the package's admin or a shell would make one: a confidential client-credentials
    # application with a secret, but no partner bank behind it.
    secret = "a-secret-known-to-the-test"
    application = Application.objects.create(
        name="Made in the admin", client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS, client_secret=secret)
    response = request_token(application.client_id, secret)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert not AccessToken.objects.exists()


def test_a_partner_clients_application_changed_to_another_grant_gets_no_token(credentials):
    Application.objects.filter(client_id=credentials.client_id).update(
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE)
    response = request_token(credentials.client_id, credentials.client_secret)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


@pytest.mark.parametrize("grant_type, fields", [
    ("authorization_code", {"code": "x", "redirect_uri": "https://bank.example/cb"}),
    ("refresh_token", {"refresh_token": "x"}),
    ("password", {"username": "x", "password": "y"}),
    ("urn:ietf:params:oauth:grant-type:device_code", {"device_code": "x"}),
    # The package's own view answered this one (no device_code) with a 500.
    ("urn:ietf:params:oauth:grant-type:device_code", {}),
    ("implicit", {}),
])
def test_no_other_grant_is_served(credentials, grant_type, fields):
    response = post_as_client("/o/token/", credentials, grant_type=grant_type, **fields)
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "unsupported_grant_type"
    assert not AccessToken.objects.exists()


def test_no_refresh_token_is_issued_or_stored(credentials):
    body = request_token(credentials.client_id, credentials.client_secret).json()
    assert "refresh_token" not in body
    assert not RefreshToken.objects.exists()
    refresh = post_as_client("/o/token/", credentials, grant_type="refresh_token",
                             refresh_token=body["access_token"])
    assert refresh.status_code == 400


def test_the_token_endpoint_needs_no_csrf_token(credentials):
    # A bank's back end has no cookie; Django's CSRF check must not apply to these views.
    for url, fields in [("/o/token/", {"grant_type": "client_credentials"}),
                        ("/o/introspect/", {"token": "x"}),
                        ("/o/revoke_token/", {"token": "x"})]:
        response = APIClient(enforce_csrf_checks=True).post(
            url, urlencode(fields), content_type="application/x-www-form-urlencoded",
            HTTP_AUTHORIZATION=basic_auth(credentials.client_id, credentials.client_secret))
        assert response.status_code == 200, (url, response.content)


# Introspection and revocation: a client's own tokens only ----------------------------------------

@pytest.fixture
def other_bank_credentials(bank_b):
    return partner_client_create(partner_bank=bank_b, name="Bank B back end")


def test_a_client_cannot_introspect_another_banks_token(credentials, other_bank_credentials):
    token = request_token(credentials.client_id, credentials.client_secret).json()["access_token"]
    response = post_as_client("/o/introspect/", other_bank_credentials, token=token)
    assert response.status_code == 200
    # Exactly what an unknown token gets (RFC 7662 §2.2): nothing about the other bank.
    assert response.json() == {"active": False}
    own = post_as_client("/o/introspect/", credentials, token=token).json()
    assert own["active"] is True
    assert own["client_id"] == credentials.client_id


def test_introspection_answers_an_unknown_or_expired_token_as_inactive(credentials):
    token = request_token(credentials.client_id, credentials.client_secret).json()["access_token"]
    AccessToken.objects.update(expires=timezone.now() - timedelta(seconds=1))
    assert post_as_client("/o/introspect/", credentials, token=token).json() == {"active": False}
    assert post_as_client("/o/introspect/", credentials,
                          token="no-such-token").json() == {"active": False}


def test_introspection_needs_a_partner_client_and_a_token_in_the_body(credentials):
    token = request_token(credentials.client_id, credentials.client_secret).json()["access_token"]
    missing = post_as_client("/o/introspect/", credentials)
    assert (missing.status_code, missing.json()["error"]) == (400, "invalid_request")
    anonymous = APIClient().post("/o/introspect/", urlencode({"token": token}),
                                 content_type="application/x-www-form-urlencoded")
    assert (anonymous.status_code, anonymous.json()["error"]) == (401, "invalid_client")
    # Not with the token itself as a bearer token, and never in a query string.
    assert bearer(token).post("/o/introspect/", {"token": token}).status_code == 401
    in_query = APIClient().get(f"/o/introspect/?token={token}",
                               HTTP_AUTHORIZATION=basic_auth(credentials.client_id,
                                                             credentials.client_secret))
    assert in_query.status_code == 405


def test_an_application_made_outside_partner_client_create_cannot_introspect(credentials):
    token = request_token(credentials.client_id, credentials.client_secret).json()["access_token"]
    secret = "a-secret-known-to-the-test"
    outsider = Application.objects.create(
        name="Made in the admin", client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS, client_secret=secret)
    response = APIClient().post("/o/introspect/", urlencode({"token": token}),
                                content_type="application/x-www-form-urlencoded",
                                HTTP_AUTHORIZATION=basic_auth(outsider.client_id, secret))
    assert response.status_code == 401


def test_a_client_cannot_revoke_another_banks_token(credentials, other_bank_credentials):
    token = request_token(credentials.client_id, credentials.client_secret).json()["access_token"]
    response = post_as_client("/o/revoke_token/", other_bank_credentials, token=token)
    assert response.status_code == 200  # RFC 7009 §2.2: says nothing either way
    assert bearer(token).get(LOANS).status_code == 200


@pytest.mark.parametrize("url", ["/o/token/", "/o/introspect/", "/o/revoke_token/"])
@pytest.mark.parametrize("authorization", ["Basic é", "Basic \x80abc", "Basic", "Basic ====",
                                           "Bearer x", "Basic " + "QQ==" * 3])
def test_a_malformed_basic_header_is_an_invalid_client_not_a_500(db, url, authorization):
    # The package's base64 decoding raised an uncaught ValueError for a non-ASCII header.
    response = APIClient().post(url, urlencode({"grant_type": "client_credentials",
                                                "token": "x"}),
                                content_type="application/x-www-form-urlencoded",
                                HTTP_AUTHORIZATION=authorization)
    assert response.status_code in (400, 401), response.content


@pytest.mark.parametrize("url", ["/o/token/", "/o/introspect/", "/o/revoke_token/"])
@pytest.mark.parametrize("where", ["basic", "body"])
def test_a_client_id_with_a_nul_character_is_an_invalid_client_not_a_500(db, url, where):
    # psycopg 3 refuses the NUL with a DataError, which the package did not catch.
    fields = {"grant_type": "client_credentials", "token": "x"}
    headers = {}
    if where == "basic":
        headers["HTTP_AUTHORIZATION"] = basic_auth("bank\x00a", "secret")
    else:
        fields.update(client_id="bank\x00a", client_secret="secret")
    response = APIClient().post(url, urlencode(fields),
                                content_type="application/x-www-form-urlencoded", **headers)
    assert response.status_code in (400, 401), response.content
