"""GET /api/v1/loans/ and /api/v1/loans/<id>/: a bank's own loans, filtered and paged."""

import base64
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from lending.models import LoanStatus
from tests.api.conftest import CUSTOMER_EMAIL, CUSTOMER_NAME, CUSTOMER_USERNAME

LOANS = "/api/v1/loans/"
SUMMARY_FIELDS = {"id", "status", "principal", "term_months", "method", "daily_rate", "apr",
                  "disbursed_on", "outstanding_principal", "days_past_due", "funding"}
INSTALMENT_FIELDS = {"seq", "due_date", "principal_due", "interest_due", "fee_due",
                     "penalty_due", "principal_paid", "interest_paid", "fee_paid",
                     "penalty_paid", "paid_on", "status"}


def ids(response):
    assert response.status_code == 200, response.content
    return [loan["id"] for loan in response.json()["results"]]


def test_each_bank_lists_only_the_loans_it_funds_newest_first(bank_a, bank_b, api_as, loans):
    assert ids(api_as(bank_a).get(LOANS)) == [loan.pk for loan in reversed(loans["a"])]
    assert ids(api_as(bank_b).get(LOANS)) == [loan.pk for loan in reversed(loans["b"])]


def test_a_listed_loan_shows_terms_balances_and_the_banks_own_funding(bank_a, api_as, loans):
    loan = loans["a"][1]
    listed = {row["id"]: row for row in api_as(bank_a).get(LOANS).json()["results"]}
    assert listed[loan.pk] == {
        "id": loan.pk,
        "status": "active",
        "principal": "1000.00",
        "term_months": 12,
        "method": "equal_instalment",
        "daily_rate": "0.00050000",
        "apr": str(loan.apr),
        "disbursed_on": "2026-02-10",
        "outstanding_principal": "1000.00",
        "days_past_due": 0,
        "funding": {"share": "0.70000000", "principal": "700.00",
                    "outstanding_principal": "700.00"},
    }


def test_the_paid_off_loan_shows_the_banks_share_repaid(bank_a, api_as, loans):
    row = api_as(bank_a).get(f"{LOANS}{loans['a'][0].pk}/").json()
    assert (row["status"], row["outstanding_principal"]) == ("paid_off", "0.00")
    assert row["funding"] == {"share": "0.70000000", "principal": "700.00",
                              "outstanding_principal": "0.00"}


def test_the_detail_adds_the_schedule_with_amounts_as_two_decimal_strings(bank_a, api_as,
                                                                        loans):
    loan = loans["a"][1]
    body = api_as(bank_a).get(f"{LOANS}{loan.pk}/").json()
    assert set(body) == SUMMARY_FIELDS | {"schedule"}
    schedule = body["schedule"]
    assert [i["seq"] for i in schedule] == list(range(1, 13))
    assert all(set(i) == INSTALMENT_FIELDS for i in schedule)
    booked = list(loan.instalments.order_by("seq"))
    assert schedule[0] == {
        "seq": 1, "due_date": booked[0].due_date.isoformat(),
        "principal_due": str(booked[0].principal_due),
        "interest_due": str(booked[0].interest_due),
        "fee_due": "0.00", "penalty_due": "0.00", "principal_paid": "0.00",
        "interest_paid": "0.00", "fee_paid": "0.00", "penalty_paid": "0.00",
        "paid_on": None, "status": "pending",
    }
    assert sum(float(i["principal_due"]) for i in schedule) == pytest.approx(1000)
    money = [i[k] for i in schedule for k in INSTALMENT_FIELDS if k.endswith(("_due", "_paid"))]
    assert all(isinstance(v, str) and len(v.split(".")[1]) == 2 for v in money)


def test_another_banks_loan_and_an_unknown_id_are_not_found(bank_a, api_as, loans):
    client = api_as(bank_a)
    assert client.get(f"{LOANS}{loans['b'][0].pk}/").status_code == 404
    assert client.get(f"{LOANS}{loans['b'][-1].pk + 100}/").status_code == 404


def test_no_customer_identity_is_shown(bank_a, api_as, loans):
    client = api_as(bank_a)
    for path in (LOANS, f"{LOANS}{loans['a'][1].pk}/"):
        text = client.get(path).content.decode()
        for identity in (CUSTOMER_NAME, CUSTOMER_USERNAME, CUSTOMER_EMAIL, "customer", "line"):
            assert identity not in text
    assert all(set(row) == SUMMARY_FIELDS for row in client.get(LOANS).json()["results"])


@pytest.mark.parametrize("query, expected", [
    ("status=paid_off", [0]),
    ("status=active", [2, 1]),
    ("disbursed_from=2026-02-10", [2, 1]),
    ("disbursed_to=2026-02-10", [1, 0]),
    ("disbursed_from=2026-02-10&disbursed_to=2026-02-10", [1]),
    ("disbursed_from=2026-01-11&disbursed_to=2026-02-09", []),
    ("status=active&disbursed_to=2026-02-10", [1]),
])
def test_filters_by_status_and_inclusive_disbursement_dates(bank_a, api_as, loans, query,
                                                           expected):
    assert ids(api_as(bank_a).get(f"{LOANS}?{query}")) == [loans["a"][n].pk for n in expected]


def test_the_status_filter_offers_every_loan_status(bank_a, api_as, loans):
    for status in LoanStatus.values:
        assert api_as(bank_a).get(f"{LOANS}?status={status}").status_code == 200


@pytest.mark.parametrize("query, parameter, reason", [
    ("status=defaulted", "status", "Select a valid choice"),
    ("status=", None, None),
    ("disbursed_from=2026-13-45", "disbursed_from", "Enter a valid date"),
    ("disbursed_to=yesterday", "disbursed_to", "Enter a valid date"),
    ("disbursed_from=2026-03-01&disbursed_to=2026-02-01", "disbursed_to",
     "Must not be before disbursed_from"),
    ("page_size=abc", "page_size", "whole number"),
    ("page_size=0", "page_size", "whole number"),
    ("page_size=-5", "page_size", "whole number"),
    # str.isdigit() is true of these, and int() refused them: each was a 500.
    ("page_size=²", "page_size", "whole number"),
    ("page_size=①", "page_size", "whole number"),
    # int() reads these, but they are not what the docs call a whole number.
    ("page_size=٣", "page_size", "whole number"),
    ("page_size=%EF%BC%95", "page_size", "whole number"),  # a full-width 5
    ("page_size=1.5", "page_size", "whole number"),
    ("page_size=%205", "page_size", "whole number"),
    ("page_size=", "page_size", "whole number"),
    ("page_size=000", "page_size", "whole number"),
])
def test_a_bad_parameter_is_a_400_with_the_reason(bank_a, api_as, loans, query, parameter,
                                                 reason):
    response = api_as(bank_a).get(f"{LOANS}?{query}")
    if parameter is None:
        # An empty value means "no filter", as an HTML form would send it.
        assert response.status_code == 200
        return
    assert response.status_code == 400
    assert list(response.json()) == [parameter]
    assert reason in response.json()[parameter][0]


def test_pages_follow_the_next_cursor_to_the_end(bank_a, api_as, loans):
    client = api_as(bank_a)
    first = client.get(f"{LOANS}?page_size=2").json()
    assert [row["id"] for row in first["results"]] == [loans["a"][2].pk, loans["a"][1].pk]
    assert first["previous"] is None
    assert "cursor=" in first["next"]
    second = client.get(first["next"]).json()
    assert [row["id"] for row in second["results"]] == [loans["a"][0].pk]
    assert second["next"] is None
    assert "cursor=" in second["previous"]


@pytest.mark.parametrize("page_size", ["100000", "0002", "9" * 5000])
def test_a_page_size_above_the_maximum_is_capped(bank_a, api_as, loans, page_size):
    # 5000 digits are more than int() reads (4300): that was a 500.
    response = api_as(bank_a).get(f"{LOANS}?page_size={page_size}")
    assert response.status_code == 200
    assert len(response.json()["results"]) == (2 if page_size == "0002" else 3)


@pytest.mark.parametrize("decoded", [
    b"o=many",
    b"r=2.5",
    b"\xff\xfe",
    # A position that is not an id went to the query as it was: each of these was a 500.
    b"p=abc",
    b"p=1%00",
    b"p=1e3",
    b"p=%D9%A3",  # an Arabic-Indic 3, which int() reads
    b"p=-5",
    b"p=",
    b"o=1&r=1&p=" + b"9" * 5000,
])
def test_a_forged_cursor_is_a_404(bank_a, api_as, loans, decoded):
    forged = quote(base64.b64encode(decoded).decode())
    response = api_as(bank_a).get(f"{LOANS}?cursor={forged}")
    assert response.status_code == 404
    assert response.json()["detail"] == "Invalid cursor"


def test_a_cursor_the_api_made_still_works_after_the_checks(bank_a, api_as, loans):
    client = api_as(bank_a)
    cursor = parse_qs(urlsplit(client.get(f"{LOANS}?page_size=1").json()["next"]).query)
    decoded = base64.b64decode(cursor["cursor"][0]).decode()
    assert decoded == f"p={loans['a'][2].pk}"
    response = client.get(f"{LOANS}?page_size=1&cursor={cursor['cursor'][0]}")
    assert ids(response) == [loans["a"][1].pk]


def test_a_malformed_query_string_is_a_json_400_and_is_logged_as_suspicious(bank_a, api_as,
                                                                           caplog):
    response = api_as(bank_a).get(f"{LOANS}?cursor=%zz")
    assert response.status_code == 400
    assert response.json() == {"detail": "Malformed request."}
    assert "django.security.SuspiciousOperation" in [r.name for r in caplog.records]


def test_a_page_costs_the_same_queries_however_many_loans(bank_a, bank_b, api_as, loans,
                                                          django_assert_num_queries):
    client = api_as(bank_a)
    # The token with its application, the bank behind the client, then the loans of the page.
    with django_assert_num_queries(4):
        client.get(LOANS)
    # The detail adds the schedule.
    with django_assert_num_queries(5):
        client.get(f"{LOANS}{loans['a'][1].pk}/")
