"""Rate limits: API calls per OAuth client (and per user, or per address without either), and
requests to the OAuth endpoints per client id and per address. Past a rate the answer is a 429
with Retry-After. The rates are low here (the `throttle_rates` fixture) to keep tests fast."""

from types import SimpleNamespace
from urllib.parse import urlencode

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from rest_framework.test import APIClient

from accounts.services import partner_client_create
from config.settings.base import env_rate
from lending.api.throttling import OAuthClientRateThrottle, UserRateThrottle
from tests.api.conftest import basic_auth, bearer, request_token
from tests.factories import UserFactory

LOANS = "/api/v1/loans/"
SCHEMA = "/api/schema/"


def assert_throttled(response, error_key="detail"):
    assert response.status_code == 429, response.content
    wait = int(response["Retry-After"])
    assert 1 <= wait <= 60
    if error_key is None:  # the schema's renderers write the error as the schema: YAML
        return None
    assert error_key in response.json()
    return response.json()


# The API -----------------------------------------------------------------------------------------

def test_a_clients_calls_past_its_rate_are_a_429_with_retry_after(bank_a, api_as,
                                                                  throttle_rates):
    throttle_rates(api_client="3/minute")
    client = api_as(bank_a)
    assert [client.get(LOANS).status_code for _ in range(3)] == [200, 200, 200]
    body = assert_throttled(client.get(LOANS))
    assert "throttled" in body["detail"]


def test_the_rate_is_per_client_whichever_token_it_uses(bank_a, bank_b, token_for,
                                                        throttle_rates):
    throttle_rates(api_client="2/minute")
    credentials = partner_client_create(partner_bank=bank_a, name="Bank A back end")
    tokens = [request_token(credentials.client_id, credentials.client_secret).json()
              ["access_token"] for _ in range(2)]
    assert bearer(tokens[0]).get(LOANS).status_code == 200
    assert bearer(tokens[1]).get(LOANS).status_code == 200
    # A second token of the same client shares its budget...
    assert_throttled(bearer(tokens[1]).get(LOANS))
    assert_throttled(bearer(tokens[0]).get(f"{LOANS}1/"))
    # ...another client, even of the same bank, has its own.
    assert bearer(token_for(bank_a)).get(LOANS).status_code == 200
    assert bearer(token_for(bank_b)).get(LOANS).status_code == 200


def test_with_the_default_rate_the_61st_call_in_a_minute_is_refused(bank_a, api_as):
    client = api_as(bank_a)
    statuses = [client.get(LOANS).status_code for _ in range(61)]
    assert statuses[:60] == [200] * 60
    assert statuses[60] == 429


def test_the_public_schema_is_limited_per_address(db, throttle_rates):
    throttle_rates(api_user="2/minute")
    here, there = APIClient(REMOTE_ADDR="10.0.0.1"), APIClient(REMOTE_ADDR="10.0.0.2")
    assert [here.get(SCHEMA).status_code for _ in range(2)] == [200, 200]
    assert_throttled(here.get(SCHEMA), error_key=None)
    # A forged X-Forwarded-For does not make a new caller (NUM_PROXIES is 0).
    assert_throttled(here.get(SCHEMA, HTTP_X_FORWARDED_FOR="203.0.113.9"), error_key=None)
    assert there.get(SCHEMA).status_code == 200


def test_behind_a_proxy_the_address_is_the_one_it_saw(db, throttle_rates, settings):
    throttle_rates(api_user="1/minute")
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    proxy = APIClient(REMOTE_ADDR="10.0.0.1")
    assert proxy.get(SCHEMA, HTTP_X_FORWARDED_FOR="203.0.113.1").status_code == 200
    assert proxy.get(SCHEMA, HTTP_X_FORWARDED_FOR="203.0.113.2").status_code == 200
    assert proxy.get(SCHEMA, HTTP_X_FORWARDED_FOR="203.0.113.1").status_code == 429


def test_a_token_with_a_user_counts_against_the_user_and_one_without_against_its_client():
    # Client-credentials tokens have no user; a token issued for a user (none are, today)
    # would count against that user as well as its client.
    user = SimpleNamespace(pk=7, is_authenticated=True)
    with_user = SimpleNamespace(user=user, auth=SimpleNamespace(application_id=3), META={})
    without = SimpleNamespace(user=None, auth=SimpleNamespace(application_id=3), META={})
    user_throttle, client_throttle = UserRateThrottle(), OAuthClientRateThrottle()
    assert user_throttle.get_cache_key(with_user, None) == "throttle_api_user_7"
    assert user_throttle.get_cache_key(without, None) is None
    assert client_throttle.get_cache_key(without, None) == "throttle_api_client_3"


def test_a_signed_in_user_is_limited_as_a_user(db, throttle_rates):
    throttle_rates(api_user="1/minute")
    request = SimpleNamespace(user=UserFactory(), auth=None, META={"REMOTE_ADDR": "10.0.0.1"})
    throttle = UserRateThrottle()
    assert throttle.allow_request(request, None)
    assert not UserRateThrottle().allow_request(request, None)


# The OAuth endpoints -----------------------------------------------------------------------------

@pytest.fixture
def credentials(bank_a):
    return partner_client_create(partner_bank=bank_a, name="Bank A back end")


def test_token_requests_past_a_clients_rate_are_a_429_in_oauth_form(credentials, bank_b,
                                                                    throttle_rates):
    throttle_rates(oauth_client="2/minute")
    assert [request_token(credentials.client_id, credentials.client_secret).status_code
            for _ in range(2)] == [200, 200]
    response = request_token(credentials.client_id, credentials.client_secret)
    body = assert_throttled(response, error_key="error")
    assert body["error"] == "slow_down"
    assert "Retry in" in body["error_description"]
    assert "no-store" in response["Cache-Control"]
    # Another client from the same address is still served.
    other = partner_client_create(partner_bank=bank_b, name="Bank B back end")
    assert request_token(other.client_id, other.client_secret).status_code == 200


def test_wrong_secrets_count_too_so_guessing_is_throttled(credentials, throttle_rates):
    throttle_rates(oauth_client="3/minute")
    for _ in range(3):
        assert request_token(credentials.client_id, "guess").status_code == 401
    assert_throttled(request_token(credentials.client_id, credentials.client_secret), "error")


def test_a_client_id_in_the_body_is_counted_as_one_in_basic(credentials, throttle_rates):
    throttle_rates(oauth_client="1/minute")
    assert request_token(credentials.client_id, credentials.client_secret).status_code == 200
    in_body = APIClient().post("/o/token/", urlencode({
        "grant_type": "client_credentials", "client_id": credentials.client_id,
        "client_secret": credentials.client_secret}),
        content_type="application/x-www-form-urlencoded")
    assert_throttled(in_body, "error")


def test_token_requests_past_an_addresss_rate_are_a_429_whatever_client_they_name(
        credentials, throttle_rates):
    throttle_rates(oauth_address="3/minute")
    for n in range(3):
        assert request_token(f"made-up-{n}", "x").status_code == 401
    assert_throttled(request_token(credentials.client_id, credentials.client_secret), "error")
    elsewhere = APIClient(REMOTE_ADDR="10.9.9.9").post(
        "/o/token/", urlencode({"grant_type": "client_credentials"}),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic_auth(credentials.client_id, credentials.client_secret))
    assert elsewhere.status_code == 200


def test_introspection_and_revocation_share_the_clients_count(credentials, throttle_rates):
    throttle_rates(oauth_client="3/minute")
    token = request_token(credentials.client_id, credentials.client_secret).json()["access_token"]
    auth = basic_auth(credentials.client_id, credentials.client_secret)
    for url in ("/o/introspect/", "/o/revoke_token/"):
        response = APIClient().post(url, urlencode({"token": token}),
                                    content_type="application/x-www-form-urlencoded",
                                    HTTP_AUTHORIZATION=auth)
        assert response.status_code == 200
    assert_throttled(request_token(credentials.client_id, credentials.client_secret), "error")


# The settings ------------------------------------------------------------------------------------

def test_the_rates_come_from_the_environment_with_sensible_defaults(monkeypatch):
    monkeypatch.delenv("API_RATE_PER_CLIENT", raising=False)
    assert env_rate("API_RATE_PER_CLIENT", "60/minute") == "60/minute"
    monkeypatch.setenv("API_RATE_PER_CLIENT", " 600/hour ")
    assert env_rate("API_RATE_PER_CLIENT", "60/minute") == "600/hour"
    for wrong in ("60", "sixty/minute", "60/fortnight", "60/minutes/2", "-1/minute"):
        monkeypatch.setenv("API_RATE_PER_CLIENT", wrong)
        with pytest.raises(ImproperlyConfigured, match="API_RATE_PER_CLIENT"):
            env_rate("API_RATE_PER_CLIENT", "60/minute")


def test_the_configured_rates(settings):
    framework = settings.REST_FRAMEWORK
    assert framework["DEFAULT_THROTTLE_RATES"] == {
        "api_client": "60/minute", "api_user": "60/minute",
        "oauth_client": "20/minute", "oauth_address": "60/minute"}
    assert framework["NUM_PROXIES"] == 0


def test_a_scope_without_a_rate_is_a_configuration_error(settings):
    with override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK,
                                           "DEFAULT_THROTTLE_RATES": {}}):
        with pytest.raises(ImproperlyConfigured, match="api_client"):
            OAuthClientRateThrottle()
