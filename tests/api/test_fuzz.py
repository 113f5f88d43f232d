"""Fuzzing the partner API: whatever a caller sends, the answer is never a 5xx.

- schemathesis generates requests from the API's own OpenAPI schema (/api/schema/), valid and
  invalid ones, for every operation, and sends them as a partner bank's client with a valid
  token, in-process through a WSGI application over Django's test handler: requests run in
  this thread and in the test's transaction, so they see the test's loans (a plain
  WSGIHandler would close the database connection after each request, which the test's
  transaction does not survive).
- Hypothesis fuzzes the list's query parameters directly (page size, cursors, forged or
  mangled, and the filters), and the OAuth endpoints' form fields and client credentials.

The number of examples is bounded so that the file runs in well under a minute.
"""

import base64
from urllib.parse import urlencode

import pytest
import schemathesis
from django.test.client import ClientHandler
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from accounts.services import partner_client_create
from tests.api.conftest import basic_auth

LOANS = "/api/v1/loans/"
UNTHROTTLED = {"api_client": "1000000/minute", "api_user": "1000000/minute",
               "oauth_client": "1000000/minute", "oauth_address": "1000000/minute"}
# Fuzz tests share the test's transaction and fixtures across examples, on purpose: the
# examples only read, and building loans per example would be slow.
FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                      HealthCheck.too_slow])


class DjangoTestApp:
    """A WSGI application over Django's test request handler, which keeps the database
    connection open between requests. CSRF is enforced, as a real server would."""

    def __init__(self):
        self.handler = ClientHandler(enforce_csrf_checks=True)

    def __call__(self, environ, start_response):
        response = self.handler(environ)
        headers = [*response.items(),
                   *(("Set-Cookie", cookie.output(header="").strip())
                     for cookie in response.cookies.values())]
        start_response(f"{response.status_code} {response.reason_phrase}", headers)
        return [response.content]


@pytest.fixture
def partner_headers(bank_a, loans, token_for, throttle_rates):
    """A valid token of bank-a, which funds three of the six loans; no throttling."""
    throttle_rates(**UNTHROTTLED)
    return {"Authorization": f"Bearer {token_for(bank_a)}"}


# Loaded when the module is imported, through the same in-process application: the schema
# view reads no database. (schemathesis.pytest.from_fixture, which would load it in a fixture,
# relies on a pytest internal, Node._nodeid, that pytest 9 no longer has.)
schema = schemathesis.openapi.from_wsgi(
    "/api/schema/", DjangoTestApp(), headers={"Accept": "application/vnd.oai.openapi+json"})


@schema.parametrize()
@settings(FUZZ, max_examples=150)
def test_no_operation_of_the_schema_answers_a_server_error(case, partner_headers):
    case.call_and_validate(headers=partner_headers, checks=[not_a_server_error])


def test_the_schema_fuzz_covers_every_operation():
    operations = {(result.ok().method.upper(), result.ok().path)
                  for result in schema.get_all_operations()}
    assert operations == {("GET", "/api/v1/loans/"), ("GET", "/api/v1/loans/{id}/")}


# The list's query parameters, directly -----------------------------------------------------------

# Any text but lone surrogates, which cannot be encoded into a URL at all.
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=30)
DIGITS = st.text(st.characters(categories=["Nd", "No"]), min_size=1, max_size=5)
NUMBERS = st.one_of(st.integers(-10, 10**30).map(str), DIGITS, TEXT)
CURSOR_FIELDS = st.fixed_dictionaries({}, optional={"o": NUMBERS, "r": NUMBERS, "p": NUMBERS})
CURSORS = st.one_of(
    TEXT,
    st.binary(max_size=40).map(lambda raw: base64.b64encode(raw).decode()),
    CURSOR_FIELDS.map(lambda fields: base64.b64encode(urlencode(fields).encode()).decode()),
)
DATES = st.one_of(st.dates().map(str), TEXT, st.from_regex(r"[0-9]{1,6}-[0-9]{1,3}-[0-9]{1,3}",
                                                             fullmatch=True))
QUERIES = st.fixed_dictionaries({}, optional={
    "page_size": NUMBERS,
    "cursor": CURSORS,
    "status": st.one_of(st.sampled_from(["active", "paid_off", "", "ACTIVE"]), TEXT),
    "disbursed_from": DATES,
    "disbursed_to": DATES,
    "format": TEXT,
})


@pytest.fixture
def partner_client(bank_a, api_as, loans, throttle_rates):
    throttle_rates(**UNTHROTTLED)
    client = api_as(bank_a)
    # A 500 is a response to check here, not an exception for the test client to raise.
    client.raise_request_exception = False
    return client


@settings(FUZZ, max_examples=300)
@given(query=QUERIES)
def test_no_query_of_the_list_answers_a_server_error(partner_client, query):
    response = partner_client.get(LOANS, query)
    assert response.status_code in (200, 400, 404), (query, response.status_code,
                                                      response.content[:300])
    assert response["Content-Type"] == "application/json"


@settings(FUZZ, max_examples=100)
@given(loan_id=st.one_of(st.integers(-(10**25), 10**25).map(str),
                         st.text(st.characters(exclude_categories=["Cs"], exclude_characters="/?#"),
                                 min_size=1, max_size=20)))
def test_no_loan_id_answers_a_server_error(partner_client, loan_id):
    response = partner_client.get(f"{LOANS}{loan_id}/")
    assert response.status_code in (200, 404), (loan_id, response.status_code)


# The OAuth endpoints -----------------------------------------------------------------------------

@pytest.fixture
def oauth_client(bank_a, throttle_rates, client):
    throttle_rates(**UNTHROTTLED)
    client.raise_request_exception = False
    return client, partner_client_create(partner_bank=bank_a, name="Bank A back end")


CLIENT_IDS = st.one_of(TEXT, st.just("KNOWN"))
FORM = st.fixed_dictionaries({}, optional={
    "grant_type": st.one_of(st.sampled_from([
        "client_credentials", "authorization_code", "refresh_token", "password",
        "urn:ietf:params:oauth:grant-type:device_code"]), TEXT),
    "scope": st.one_of(st.sampled_from(["loans:read", "loans:read other", ""]), TEXT),
    "client_id": CLIENT_IDS, "client_secret": TEXT, "token": TEXT, "token_type_hint": TEXT,
    "device_code": TEXT, "refresh_token": TEXT, "code": TEXT,
})


@settings(FUZZ, max_examples=150)
@given(url=st.sampled_from(["/o/token/", "/o/introspect/", "/o/revoke_token/"]), form=FORM,
       basic=st.one_of(st.none(), st.tuples(CLIENT_IDS, TEXT), TEXT))
def test_no_request_to_the_oauth_endpoints_answers_a_server_error(oauth_client, url, form,
                                                                  basic):
    client, credentials = oauth_client
    form = {k: credentials.client_id if v == "KNOWN" else v for k, v in form.items()}
    headers = {}
    if isinstance(basic, tuple):
        client_id = credentials.client_id if basic[0] == "KNOWN" else basic[0]
        headers["HTTP_AUTHORIZATION"] = basic_auth(client_id, basic[1])
    elif basic is not None:
        headers["HTTP_AUTHORIZATION"] = f"Basic {basic}"
    response = client.post(url, urlencode(form), content_type="application/x-www-form-urlencoded",
                           **headers)
    assert response.status_code < 500, (url, form, basic, response.content[:300])
