"""The OpenAPI schema at /api/schema/: valid, public, and describing what banks use."""

import pytest
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient


@pytest.fixture
def schema(db):
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_the_schema_is_valid_openapi(schema):
    validate_schema(schema)
    assert schema["openapi"].startswith("3.")


def test_it_describes_both_loan_routes_and_only_those(schema):
    assert set(schema["paths"]) == {"/api/v1/loans/", "/api/v1/loans/{id}/"}
    assert set(schema["paths"]["/api/v1/loans/"]) == {"get"}
    assert set(schema["paths"]["/api/v1/loans/{id}/"]) == {"get"}


def test_it_describes_the_filters_and_the_cursor(schema):
    listing = schema["paths"]["/api/v1/loans/"]["get"]
    parameters = {p["name"]: p for p in listing["parameters"]}
    assert set(parameters) == {"status", "disbursed_from", "disbursed_to", "cursor",
                               "page_size"}
    assert parameters["status"]["schema"]["enum"] == ["active", "paid_off", "written_off"]
    assert parameters["disbursed_from"]["schema"]["format"] == "date"
    assert set(listing["responses"]) == {"200", "400", "401", "403", "404"}


def test_it_names_the_client_credentials_scheme_and_scope(schema):
    scheme = schema["components"]["securitySchemes"]["oauth2"]
    assert scheme["flows"] == {"clientCredentials": {
        "tokenUrl": "/o/token/", "scopes": {"loans:read": "Read the loans this bank funds"}}}
    for route in schema["paths"].values():
        assert route["get"]["security"] == [{"oauth2": ["loans:read"]}]


def test_no_customer_identity_is_in_the_loan_components(schema):
    components = schema["components"]["schemas"]
    for name in ("LoanSummary", "LoanDetail", "Instalment", "BankFunding"):
        fields = set(components[name]["properties"])
        assert not fields & {"customer", "line", "user", "username", "email", "full_name"}
