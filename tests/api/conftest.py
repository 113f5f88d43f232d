"""Partner banks with real OAuth2 clients, tokens issued by /o/token/, and co-funded loans."""

import base64
from datetime import date
from urllib.parse import quote, urlencode
from uuid import uuid4

import pytest
from rest_framework.test import APIClient

from accounts.services import partner_client_create
from lending.services import loan_originate, loan_payoff_amount, loan_repay
from tests.factories import CreditLineFactory, ProfileFactory, partner_bank, set_business_date

CUSTOMER_NAME = "Zhang Wei"
CUSTOMER_USERNAME = "zhangwei88"
CUSTOMER_EMAIL = "zhang.wei@example.cn"


@pytest.fixture(autouse=True)
def throttle_counters_of_this_test(settings):
    """Each test counts its requests from zero. The throttles keep their counters in the
    default cache (Redis when REDIS_URL is set), so each test gets a key prefix of its own:
    flushing the Redis database instead would also drop what Celery keeps there."""
    settings.CACHES = {alias: {**config, "KEY_PREFIX": f"test-{uuid4().hex}"}
                       for alias, config in settings.CACHES.items()}


@pytest.fixture
def throttle_rates(settings):
    """Sets throttle rates for this test, e.g. `throttle_rates(api_client="3/minute")`; the
    throttles read them when they are made (accounts.oauth.SettingsRateMixin)."""
    def set_rates(**rates):
        framework = settings.REST_FRAMEWORK
        settings.REST_FRAMEWORK = {**framework, "DEFAULT_THROTTLE_RATES": {
            **framework.get("DEFAULT_THROTTLE_RATES", {}), **rates}}
    return set_rates


def basic_auth(client_id, client_secret):
    # RFC 6749 §2.3.1: both parts are form-encoded before they are joined and base64-encoded.
    pair = f"{quote(client_id, safe='')}:{quote(client_secret, safe='')}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


def request_token(client_id, client_secret, **fields):
    """POST /o/token/ as a bank's back end would: form body, client id and secret in Basic."""
    return APIClient().post(
        "/o/token/", urlencode({"grant_type": "client_credentials", **fields}),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic_auth(client_id, client_secret),
    )


def bearer(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def bank_a(db):
    return partner_bank("bank-a")


@pytest.fixture
def bank_b(bank_a):
    return partner_bank("bank-b")


@pytest.fixture
def token_for(db):
    """A real access token for a new API client of `bank`."""
    def issue(bank):
        credentials = partner_client_create(partner_bank=bank, name=f"{bank.code} back end")
        response = request_token(credentials.client_id, credentials.client_secret)
        assert response.status_code == 200, response.content
        return response.json()["access_token"]
    return issue


@pytest.fixture
def api_as(token_for):
    """An API client that calls as `bank`, with a bearer token it got from /o/token/."""
    return lambda bank: bearer(token_for(bank))


def originate(line, key, principal="1000"):
    return loan_originate(line_id=line.pk, principal=principal, term_months=12,
                          method="equal_instalment", idempotency_key=key, scope="test")


@pytest.fixture
def customer_line(db):
    """A customer whose name, username and email must never reach a bank."""
    line = CreditLineFactory(customer__username=CUSTOMER_USERNAME,
                             customer__email=CUSTOMER_EMAIL)
    ProfileFactory(user=line.customer, full_name=CUSTOMER_NAME)
    return line


@pytest.fixture
def loans(bank_a, bank_b, customer_line):
    """Six loans, two a month from January to March 2026. Origination gives each new loan to
    the active bank that has funded the fewest, so they alternate: a, b, a, b, a, b. The
    first one (bank-a's) is paid off on the day it is disbursed."""
    made = []
    for n, day in enumerate([date(2026, 1, 10), date(2026, 1, 10), date(2026, 2, 10),
                             date(2026, 2, 10), date(2026, 3, 10), date(2026, 3, 10)]):
        set_business_date(day)
        loan = originate(customer_line, key=f"loan-{n}")
        if n == 0:
            loan_repay(loan_id=loan.pk, amount=loan_payoff_amount(loan),
                       idempotency_key="payoff", scope="test")
            loan.refresh_from_db()
        made.append(loan)
    return {"a": made[0::2], "b": made[1::2]}
