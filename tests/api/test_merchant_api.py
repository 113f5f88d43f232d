"""The merchant API (/api/v1/merchant/): merchants' OAuth2 clients and their one scope,
checkouts created (Idempotency-Key), read and refunded, scoped to the calling merchant; and
neither a partner bank's token on these routes nor a merchant's on the partner banks'."""

from decimal import Decimal

import pytest
from drf_spectacular.validation import validate_schema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from accounts.services import partner_client_create
from accounts.services.merchants import merchant_client_create
from lending.models import Checkout
from lending.services import checkout_confirm
from tests.api.conftest import bearer, request_token
from tests.factories import MerchantFactory, PayLaterLineFactory, UserFactory

CHECKOUTS = "/api/v1/merchant/checkouts/"
BODY = {
    "amount": "199.00",
    "order_reference": "A-1001",
    "description": "Green tea",
    "return_url": "https://shop.example.com/orders/A-1001",
}


@pytest.fixture
def shop(db):
    return MerchantFactory()


@pytest.fixture
def other_shop(db):
    return MerchantFactory(
        code="other", name="Other shop", return_url_prefixes=["https://other.example.com/"]
    )


@pytest.fixture
def merchant_token(db):
    def issue(merchant, **fields):
        credentials = merchant_client_create(merchant=merchant, name=f"{merchant.code} server")
        response = request_token(credentials.client_id, credentials.client_secret, **fields)
        assert response.status_code == 200, response.content
        return response.json()

    return issue


@pytest.fixture
def api(merchant_token):
    return lambda merchant: bearer(merchant_token(merchant)["access_token"])


def create(client, key="key-1", **changes):
    return client.post(CHECKOUTS, {**BODY, **changes}, format="json", HTTP_IDEMPOTENCY_KEY=key)


# Tokens and scopes ----------------------------------------------------------------------------


def test_a_merchant_client_gets_the_checkout_scope_and_only_it(shop, merchant_token):
    assert merchant_token(shop)["scope"] == "checkout"
    credentials = merchant_client_create(merchant=shop, name="second")
    refused = request_token(credentials.client_id, credentials.client_secret, scope="loans:read")
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_scope"


def test_a_partner_client_cannot_get_the_checkout_scope(bank_a):
    credentials = partner_client_create(partner_bank=bank_a, name="Bank A")
    refused = request_token(credentials.client_id, credentials.client_secret, scope="checkout")
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_scope"


def test_an_inactive_merchants_client_gets_no_token(shop):
    credentials = merchant_client_create(merchant=shop, name="server")
    shop.is_active = False
    shop.save(update_fields=["is_active"])
    response = request_token(credentials.client_id, credentials.client_secret)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_a_partner_token_is_refused_on_the_merchant_routes(shop, bank_a, api_as):
    client = api_as(bank_a)
    assert create(client).status_code == 403
    assert not Checkout.objects.exists()
    assert create(APIClient()).status_code == 401  # and no token at all is a 401


def test_a_merchant_token_is_refused_on_the_partner_routes(shop, api):
    response = api(shop).get("/api/v1/loans/")
    assert response.status_code == 403


def test_a_session_is_refused_on_the_merchant_routes(shop, db):
    client = APIClient()
    client.force_login(UserFactory())
    # The API authenticates bearer tokens only: a signed-in session is no caller at all.
    assert create(client).status_code == 401


# Checkouts ------------------------------------------------------------------------------------


def test_create_answers_with_the_checkout_and_where_to_send_the_customer(shop, api):
    response = create(api(shop))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "pending"
    assert body["amount"] == "199.00"
    assert body["checkout_url"] == f"http://testserver/checkout/{body['token']}/"
    assert body["purchase_id"] is None and body["refunds"] == []


def test_a_replay_answers_with_the_same_checkout_and_another_body_is_a_409(shop, api):
    client = api(shop)
    first = create(client).json()
    assert create(client).json()["token"] == first["token"]
    conflict = create(client, amount="200.00")
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "idempotency_conflict"
    assert Checkout.objects.count() == 1


def test_the_idempotency_key_header_is_required(shop, api):
    response = api(shop).post(CHECKOUTS, BODY, format="json")
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"amount": 19.5}, "amount"),
        ({"amount": "1.999"}, "amount"),
        ({"amount": "-1"}, "amount"),
        ({"amount": None}, "amount"),
        ({"order_reference": ""}, "order_reference"),
        ({"order_reference": "x" * 65}, "order_reference"),
        ({"return_url": 5}, None),
    ],
)
def test_bad_input_is_a_400_with_a_reason(shop, api, changes, field):
    response = create(api(shop), **changes)
    assert response.status_code == 400, response.content
    if field:
        assert response.json()[field]


def test_a_return_url_outside_the_prefixes_is_a_400(shop, api):
    response = create(api(shop), return_url="https://evil.example.com/steal")
    assert response.status_code == 400
    assert response.json()["code"] == "return_url_not_allowed"


def test_a_merchant_sees_only_its_own_checkouts(shop, other_shop, api):
    token = create(api(shop)).json()["token"]
    assert api(shop).get(f"{CHECKOUTS}{token}/").status_code == 200
    other = api(other_shop)
    assert other.get(f"{CHECKOUTS}{token}/").status_code == 404
    refund = other.post(
        f"{CHECKOUTS}{token}/refunds/", {"amount": "1.00", "reference": "r"}, format="json"
    )
    assert refund.status_code == 404


def test_a_paid_checkout_shows_its_purchase_and_refunds(shop, api):
    client = api(shop)
    token = create(client).json()["token"]
    line = PayLaterLineFactory()
    checkout_confirm(checkout=Checkout.objects.get(token=token), customer=line.customer)

    refund = client.post(
        f"{CHECKOUTS}{token}/refunds/", {"amount": "49.00", "reference": "refund-1"}, format="json"
    )
    assert refund.status_code == 201, refund.content
    assert refund.json()["amount"] == "49.00"
    again = client.post(
        f"{CHECKOUTS}{token}/refunds/", {"amount": "49.00", "reference": "refund-1"}, format="json"
    )
    assert again.status_code == 201
    assert (
        client.post(
            f"{CHECKOUTS}{token}/refunds/",
            {"amount": "50.00", "reference": "refund-1"},
            format="json",
        ).status_code
        == 409
    )
    too_much = client.post(
        f"{CHECKOUTS}{token}/refunds/", {"amount": "150.01", "reference": "refund-2"}, format="json"
    )
    assert too_much.status_code == 400

    body = client.get(f"{CHECKOUTS}{token}/").json()
    assert body["status"] == "confirmed"
    assert body["purchase_id"] == Checkout.objects.get(token=token).purchase_id
    assert body["amount_refunded"] == "49.00"
    assert [r["reference"] for r in body["refunds"]] == ["refund-1"]
    line.refresh_from_db()
    assert line.outstanding_principal == Decimal("150.00")


def test_refunding_an_unpaid_checkout_is_a_400(shop, api):
    client = api(shop)
    token = create(client).json()["token"]
    response = client.post(
        f"{CHECKOUTS}{token}/refunds/", {"amount": "1.00", "reference": "r-1"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "checkout_not_paid"


# The schema -----------------------------------------------------------------------------------


def test_the_merchant_schema_is_valid_and_names_only_its_routes_and_scope(db):
    response = APIClient().get(
        "/api/merchant/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
    )
    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)
    assert set(schema["paths"]) == {
        "/api/v1/merchant/checkouts/",
        "/api/v1/merchant/checkouts/{token}/",
        "/api/v1/merchant/checkouts/{token}/refunds/",
    }
    flows = schema["components"]["securitySchemes"]["oauth2"]["flows"]
    assert set(flows["clientCredentials"]["scopes"]) == {"checkout"}


# Whatever a merchant sends, a reason and never a 5xx ------------------------------------------

# JSON has no NaN or infinity: a client cannot send them (the string "NaN" is tried below).
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=80),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=5,
)
FIELD_VALUES = st.one_of(
    JSON_VALUES,
    st.sampled_from(["199.00", "0.01", "1e3", "NaN", "-0", "https://shop.example.com/x", "A-1"]),
)


@pytest.fixture
def unthrottled_shop_api(shop, api, throttle_rates):
    """One token for every example (the fixture is made once per test, not per example)."""
    throttle_rates(api_client="1000000/minute")
    return api(shop)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    body=st.dictionaries(
        st.sampled_from(
            ["amount", "order_reference", "description", "return_url", "reference", "other"]
        ),
        FIELD_VALUES,
        max_size=5,
    ),
    key=st.text(min_size=1, max_size=140).filter(lambda k: "\n" not in k and "\r" not in k),
)
def test_any_body_is_answered_without_a_server_error(unthrottled_shop_api, body, key):
    client = unthrottled_shop_api
    created = client.post(CHECKOUTS, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert created.status_code in (201, 400, 409), created.content
    if created.status_code == 201:
        token = created.json()["token"]
        refund = client.post(f"{CHECKOUTS}{token}/refunds/", body, format="json")
        assert refund.status_code in (400, 409), refund.content
