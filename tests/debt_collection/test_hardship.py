"""Hardship requests (困难申请): the customer's pages, the services and the officers' queue
(debt_collection/services/hardship.py, views.py, admin_hardship.py).

The loan: 1,200.00 over 3 months, equal principal, at 0.05 % a day, disbursed 2026-01-31, so
due 2026-02-28, 03-31 and 04-30. The customer asks for more time on 2026-02-10, before the
first due date; the officer approves 3 extra months at a lower 0.04 % a day. Nothing is paid
yet, so the whole 1,200.00 is re-spread over 3 + 3 = 6 months from the start of the first
unpaid period (2026-01-31), 200.00 of principal a month, interest on what is still owed for the
period's actual days:

    due         days  owed      interest = owed x 0.0004 x days
    2026-02-28   28   1200.00   13.44
    2026-03-31   31   1000.00   12.40
    2026-04-30   30    800.00    9.60
    2026-05-31   31    600.00    7.44
    2026-06-30   30    400.00    4.80
    2026-07-31   31    200.00    2.48
"""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Notice
from core.approvals import ApprovalRefused, approval_approve
from core.audit import audit_chain_verify, audit_trail_of
from core.errors import DomainError
from core.models import ApprovalRequest, ApprovalStatus
from debt_collection.models import HardshipRequest, HardshipStatus
from debt_collection.services.hardship import (
    HardshipError,
    hardship_request_approve,
    hardship_request_reject,
    hardship_request_submit,
    hardship_request_withdraw,
)
from lending.models import InstalmentStatus, LoanExtension
from lending.services import loan_originate, loan_repay
from lending.services.extension import loan_extension_quote
from tests.factories import UserFactory, set_business_date

pytestmark = pytest.mark.django_db

D = Decimal
PASSWORD = "correct-horse-battery"
NEW_SCHEDULE = [
    (date(2026, 2, 28), D("200.00"), D("13.44")),
    (date(2026, 3, 31), D("200.00"), D("12.40")),
    (date(2026, 4, 30), D("200.00"), D("9.60")),
    (date(2026, 5, 31), D("200.00"), D("7.44")),
    (date(2026, 6, 30), D("200.00"), D("4.80")),
    (date(2026, 7, 31), D("200.00"), D("2.48")),
]
LOWER_RATE = D("0.0004")
SITUATION = "I was laid off in January and start a new job in April."


@pytest.fixture
def loan(line):
    set_business_date(date(2026, 1, 31))
    loan = loan_originate(line_id=line.pk, principal="1200", term_months=3,
                          method="equal_principal", idempotency_key="loan", scope="test")
    set_business_date(date(2026, 2, 10))
    return loan


@pytest.fixture
def customer(loan):
    return loan.line.customer


@pytest.fixture
def signed_in(client, customer):
    client.force_login(customer)
    return client


def officer(*codenames, username=None):
    user = UserFactory(is_staff=True, **({"username": username} if username else {}))
    user.user_permissions.set(Permission.objects.filter(
        content_type__app_label="debt_collection", codename__in=codenames))
    return user


def submit(loan, **overrides):
    fields = {"customer": loan.line.customer, "loan_id": loan.pk, "kind": "extension",
              "months_asked": 3, "reason": "unemployment", "situation": SITUATION}
    return hardship_request_submit(**{**fields, **overrides})


def approve(request, by, extra_months=3, daily_rate=LOWER_RATE, shown=None):
    if shown is None:
        shown = loan_extension_quote(loan=request.loan, extra_months=extra_months,
                                     daily_rate=daily_rate).fingerprint
    return hardship_request_approve(request_id=request.pk, officer=by,
                                    extra_months=extra_months, daily_rate=daily_rate,
                                    decision_reason="Your new job starts in April.",
                                    shown=shown)


def live_schedule(loan):
    return list(loan.instalments.exclude(status=InstalmentStatus.SUPERSEDED).order_by("seq")
                .values_list("due_date", "principal_due", "interest_due"))


def form_data(**overrides):
    return {"kind": "extension", "months_asked": "3", "reason": "unemployment",
            "situation": SITUATION, **overrides}


# The customer's pages


def test_the_loan_page_links_to_the_request_form(signed_in, loan):
    page = signed_in.get(reverse("loan", args=[loan.pk])).content.decode()
    assert "Having difficulty paying? Ask for more time" in page
    assert reverse("hardship_request", args=[loan.pk]) in page


def test_a_customer_asks_for_more_time_on_their_loan(signed_in, loan, customer):
    response = signed_in.post(reverse("hardship_request", args=[loan.pk]), form_data())
    assert response.status_code == 302
    assert response.url == reverse("hardship_requests")
    request = HardshipRequest.objects.get()
    assert (request.loan, request.customer, request.kind, request.months_asked,
            request.reason, request.situation, request.status, request.submitted_on) == (
        loan, customer, "extension", 3, "unemployment", SITUATION, HardshipStatus.SUBMITTED,
        date(2026, 2, 10))
    assert [e.action for e in audit_trail_of("loan", loan.pk)][-1] == "hardship.submit"
    notice = Notice.objects.get(customer=customer, key=f"hardship:{request.pk}:submitted")
    assert "3 months more on loan" in notice.body
    listing = signed_in.get(reverse("hardship_requests")).content.decode()
    assert "Waiting for an answer" in listing
    loan_page = signed_in.get(reverse("loan", args=[loan.pk])).content.decode()
    assert "Waiting for an answer" in loan_page
    assert "Ask for more time" not in loan_page  # one request at a time


def test_another_customers_loan_does_not_exist_for_them(client, loan):
    client.force_login(UserFactory())
    url = reverse("hardship_request", args=[loan.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, form_data()).status_code == 404
    assert not HardshipRequest.objects.exists()
    with pytest.raises(HardshipError, match="no such loan"):
        submit(loan, customer=UserFactory())


def test_the_pages_need_a_login(client, loan):
    for url in (reverse("hardship_request", args=[loan.pk]), reverse("hardship_requests")):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize(("overrides", "message"), [
    ({"situation": "   "}, "Tell us in a few words what has happened."),
    ({"situation": "x" * 2001}, "Please keep it to 2000 characters."),
    ({"months_asked": "13"}, "Ask for 1 to 12 months."),
    ({"months_asked": "two"}, "Ask for 1 to 12 months."),
    ({"kind": "holiday"}, "Select a valid choice."),
    ({"reason": ""}, "Choose the reason closest to yours."),
])
def test_bad_input_is_shown_on_the_form_and_records_nothing(signed_in, loan, overrides,
                                                            message):
    response = signed_in.post(reverse("hardship_request", args=[loan.pk]),
                              form_data(**overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not HardshipRequest.objects.exists()


NASTY = st.one_of(
    st.sampled_from(["", " ", "0", "3", "12", "-1", "13", "1e3", "３", "Ⅻ", "\x00", "a\x00b", "[3]",
                     "extension", "pause", "other", "x" * 2001, "<script>alert(1)</script>"]),
    st.text(max_size=30))


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(kind=NASTY, months=NASTY, reason=NASTY, situation=NASTY)
def test_whatever_is_typed_the_form_answers_with_a_page(signed_in, loan, kind, months, reason,
                                                        situation):
    response = signed_in.post(reverse("hardship_request", args=[loan.pk]), {
        "kind": kind, "months_asked": months, "reason": reason, "situation": situation})
    assert response.status_code in (200, 302)
    # A request made opens the form again for the next example.
    for waiting in HardshipRequest.objects.filter(status=HardshipStatus.SUBMITTED):
        hardship_request_withdraw(request_id=waiting.pk, customer=waiting.customer)


@pytest.mark.parametrize(("overrides", "field"), [
    ({"months_asked": 0}, "months_asked"), ({"months_asked": True}, "months_asked"),
    ({"kind": "holiday"}, "kind"), ({"reason": "bored"}, "reason"),
    ({"situation": ""}, "situation"), ({"situation": "y" * 2001}, "situation"),
    ({"situation": "a\x00b"}, "situation"),
])
def test_the_service_checks_the_same_bounds(loan, overrides, field):
    with pytest.raises(ValidationError) as refused:
        submit(loan, **overrides)
    assert list(refused.value.message_dict) == [field]


def test_one_request_waits_per_loan(signed_in, loan):
    first = submit(loan)
    with pytest.raises(HardshipError, match="already asked for more time"):
        submit(loan, kind="pause", months_asked=2)
    page = signed_in.get(reverse("hardship_request", args=[loan.pk])).content.decode()
    assert 'data-testid="hardship-waiting"' in page
    assert 'data-testid="hardship-form"' not in page
    # The database holds the rule too.
    with pytest.raises(IntegrityError), transaction.atomic():
        HardshipRequest.objects.create(loan=loan, customer=loan.line.customer, kind="pause",
                                       months_asked=1, reason="other", situation="again",
                                       submitted_on=date(2026, 2, 10))
    # Once it is answered, the customer may ask again.
    hardship_request_reject(request_id=first.pk, officer=officer(),
                            decision_reason="Please call us first.")
    assert submit(loan, kind="pause", months_asked=2).status == HardshipStatus.SUBMITTED


def test_a_paid_off_loan_cannot_have_a_request(signed_in, loan):
    loan_repay(loan_id=loan.pk, amount=D("1206.00"), idempotency_key="payoff", scope="test")
    # Paid off on 2026-02-10: 1,200.00 principal + 10 days x 1,200.00 x 0.0005 = 6.00 interest.
    loan.refresh_from_db()
    assert loan.status == "paid_off"
    with pytest.raises(HardshipError, match="paid off"):
        submit(loan)
    page = signed_in.get(reverse("hardship_request", args=[loan.pk])).content.decode()
    assert 'data-testid="hardship-closed"' in page
    response = signed_in.post(reverse("hardship_request", args=[loan.pk]), form_data())
    assert response.status_code == 200
    assert not HardshipRequest.objects.exists()


def test_a_customer_withdraws_their_own_waiting_request_only(signed_in, client, loan):
    request = submit(loan)
    stranger = UserFactory()
    with pytest.raises(HardshipError, match="no such request"):
        hardship_request_withdraw(request_id=request.pk, customer=stranger)
    response = signed_in.post(reverse("hardship_withdraw", args=[request.pk]))
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == HardshipStatus.WITHDRAWN
    with pytest.raises(HardshipError, match="customer withdrew this request"):
        hardship_request_approve(request_id=request.pk, officer=officer(), extra_months=3,
                                 decision_reason="Too late.", shown="x")


# Answers


def test_approval_books_exactly_the_previewed_schedule(signed_in, loan, customer):
    request = submit(loan)
    quote = loan_extension_quote(loan=loan, extra_months=3, daily_rate=LOWER_RATE)
    approve(request, officer(username="officer"), shown=quote.fingerprint)

    request.refresh_from_db()
    extension = LoanExtension.objects.get(loan=loan)
    assert (request.status, request.extension, request.decided_by.username) == (
        HardshipStatus.APPROVED, extension, "officer")
    assert extension.fingerprint == quote.fingerprint
    assert (extension.extra_months, extension.new_daily_rate) == (3, D("0.00040000"))
    assert live_schedule(loan) == NEW_SCHEDULE
    actions = [e.action for e in audit_trail_of("loan", loan.pk)]
    assert actions[-1] == "hardship.approve"
    assert audit_chain_verify(subject_kind="loan", subject_id=str(loan.pk)) is None
    notice = Notice.objects.get(customer=customer, key=f"hardship:{request.pk}:approved")
    assert f"Loan {loan.pk} is extended by 3 months" in notice.body
    assert "Your new job starts in April." in notice.body

    listing = signed_in.get(reverse("hardship_requests")).content.decode()
    assert "Approved" in listing and f"APR now {extension.new_apr}%" in listing
    loan_page = signed_in.get(reverse("loan", args=[loan.pk])).content.decode()
    assert "Approved" in loan_page
    assert "2026-07-31" in loan_page


def test_a_stale_preview_books_nothing(loan):
    request = submit(loan)
    shown = loan_extension_quote(loan=loan, extra_months=3, daily_rate=LOWER_RATE).fingerprint
    # The customer pays 100.00 after the officer's preview: the outstanding principal moves.
    loan_repay(loan_id=loan.pk, amount=D("100.00"), idempotency_key="part", scope="test")
    with pytest.raises(DomainError):
        approve(request, officer(), shown=shown)
    # Terms other than the previewed ones are refused the same way.
    loan.refresh_from_db()
    with pytest.raises(DomainError):
        approve(request, officer(), extra_months=4, shown=loan_extension_quote(
            loan=loan, extra_months=3, daily_rate=LOWER_RATE).fingerprint)
    request.refresh_from_db()
    assert request.status == HardshipStatus.SUBMITTED
    assert not LoanExtension.objects.exists()
    assert not Notice.objects.filter(key__startswith=f"hardship:{request.pk}:approved").exists()


def test_a_refused_extension_leaves_the_request_waiting(loan):
    request = submit(loan)
    with pytest.raises(DomainError):
        # 12 extra months would make the term 15, above the product's longest (12).
        approve(request, officer(), extra_months=12, shown="anything")
    request.refresh_from_db()
    assert request.status == HardshipStatus.SUBMITTED


def test_rejection_sends_the_officers_reason(signed_in, loan, customer):
    request = submit(loan, kind="pause", months_asked=2)
    with pytest.raises(HardshipError, match="Give the reason"):
        hardship_request_reject(request_id=request.pk, officer=officer(), decision_reason=" ")
    hardship_request_reject(request_id=request.pk, officer=officer(),
                            decision_reason="Your income has not changed.")
    request.refresh_from_db()
    assert (request.status, request.decision_reason) == (
        HardshipStatus.REJECTED, "Your income has not changed.")
    notice = Notice.objects.get(customer=customer, key=f"hardship:{request.pk}:rejected")
    assert "a pause of 2 months" in notice.body
    assert "Your income has not changed." in notice.body
    listing = signed_in.get(reverse("hardship_requests")).content.decode()
    assert "Not approved" in listing and "Your income has not changed." in listing
    assert [e.action for e in audit_trail_of("loan", loan.pk)][-1] == "hardship.reject"
    with pytest.raises(HardshipError, match="turned down already"):
        hardship_request_reject(request_id=request.pk, officer=officer(username="second"),
                                decision_reason="Again.")


# The officers' queue


def changelist():
    return reverse("admin:debt_collection_hardshiprequest_changelist")


def act(client, request, action, **data):
    return client.post(changelist(), {"action": action, "_selected_action": [request.pk],
                                      **data})


def test_the_queue_shows_waiting_requests_first_oldest_first(client, line):
    set_business_date(date(2026, 1, 31))
    loans = [loan_originate(line_id=line.pk, principal="1200", term_months=3,
                            method="equal_principal", idempotency_key=f"l{n}", scope="test")
             for n in range(3)]
    first, second, third = (submit(loan) for loan in loans)
    hardship_request_reject(request_id=first.pk, officer=officer(username="earlier"),
                            decision_reason="No.")
    client.force_login(officer("view_hardshiprequest"))
    response = client.get(changelist())
    assert [r.pk for r in response.context["cl"].result_list] == [second.pk, third.pk,
                                                                   first.pk]


def test_the_queue_is_searched_by_username_or_loan_number(client, loan):
    request = submit(loan)
    client.force_login(officer("view_hardshiprequest"))
    for term, found in [(loan.line.customer.username, [request]), (str(loan.pk), [request]),
                        ("nobody", []), ("²", []), ("9" * 30, [])]:
        response = client.get(changelist(), {"q": term})
        assert list(response.context["cl"].result_list) == found


def test_the_request_page_shows_the_situation_and_the_schedule(client, loan):
    request = submit(loan)
    client.force_login(officer("view_hardshiprequest"))
    page = client.get(reverse("admin:debt_collection_hardshiprequest_change",
                              args=[request.pk])).content.decode()
    assert SITUATION in page
    assert 'data-testid="hardship-loan-schedule"' in page
    assert "2026-04-30" in page or "April 30, 2026" in page


def test_the_request_page_offers_the_answers_to_whoever_may_give_them(client, loan):
    request = submit(loan)
    url = reverse("admin:debt_collection_hardshiprequest_change", args=[request.pk])
    client.force_login(officer("view_hardshiprequest"))
    assert "Approve…" not in client.get(url).content.decode()
    decider = officer("view_hardshiprequest", "decide_hardshiprequest")
    client.force_login(decider)
    page = client.get(url).content.decode()
    assert "Approve…" in page and "Reject…" in page
    hardship_request_reject(request_id=request.pk, officer=decider, decision_reason="No.")
    assert "Approve…" not in client.get(url).content.decode()  # answered already


def test_an_officer_approves_through_the_preview(client, loan):
    request = submit(loan)
    client.force_login(officer("view_hardshiprequest", "decide_hardshiprequest"))
    form = act(client, request, "approve")
    assert form.status_code == 200
    assert form.context["form"].initial["extra_months"] == 3  # what the customer asked
    terms = {"extra_months": "3", "daily_rate": "0.0004", "reason": "New job in April."}
    preview = act(client, request, "approve", preview="yes", **terms)
    quote = preview.context["quote"]
    assert [(row.due_date, row.principal, row.interest) for row in quote.instalments] == \
        NEW_SCHEDULE
    assert quote.fingerprint in preview.content.decode()
    assert not LoanExtension.objects.exists()
    booked = act(client, request, "approve", apply="yes", shown=quote.fingerprint, **terms)
    assert booked.status_code == 302
    request.refresh_from_db()
    assert request.status == HardshipStatus.APPROVED
    assert live_schedule(loan) == NEW_SCHEDULE


def test_the_admin_refuses_a_stale_preview_on_the_form(client, loan):
    request = submit(loan)
    client.force_login(officer("view_hardshiprequest", "decide_hardshiprequest"))
    terms = {"extra_months": "3", "daily_rate": "", "reason": "New job in April."}
    quote = act(client, request, "approve", preview="yes", **terms).context["quote"]
    loan_repay(loan_id=loan.pk, amount=D("100.00"), idempotency_key="part", scope="test")
    refused = act(client, request, "approve", apply="yes", shown=quote.fingerprint, **terms)
    assert refused.status_code == 200
    assert refused.context["form"].non_field_errors()
    assert refused.context["quote"] is None
    request.refresh_from_db()
    assert request.status == HardshipStatus.SUBMITTED


def test_an_officer_rejects_with_a_reason(client, loan):
    request = submit(loan)
    client.force_login(officer("view_hardshiprequest", "decide_hardshiprequest"))
    empty = act(client, request, "reject", apply="yes", reason="")
    assert empty.status_code == 200 and empty.context["form"].errors
    done = act(client, request, "reject", apply="yes", reason="Please call us first.")
    assert done.status_code == 302
    request.refresh_from_db()
    assert (request.status, request.decision_reason) == (HardshipStatus.REJECTED,
                                                         "Please call us first.")


def test_without_the_permission_an_officer_can_only_look(client, loan):
    request = submit(loan)
    client.force_login(officer("view_hardshiprequest"))
    response = client.get(changelist())
    assert response.status_code == 200
    assert response.context["action_form"] is None  # no action offered
    for action in ("approve", "reject"):
        refused = act(client, request, action, apply="yes", reason="No.", extra_months="3",
                      shown="x")
        # The list again, the action ignored: this user has none.
        assert refused.status_code == 200
        assert refused.context["cl"].result_list[0] == request
    request.refresh_from_db()
    assert request.status == HardshipStatus.SUBMITTED
    client.force_login(UserFactory(username="customer-x"))
    assert client.get(changelist()).status_code == 302  # not staff: the admin's login


# Maker-checker: more extra months than settings.MAKER_CHECKER["EXTENSION_MONTHS"] (6 unless
# the environment says otherwise) need a second officer.


def checker():
    user = officer("view_hardshiprequest", "decide_hardshiprequest", username="checker")
    user.user_permissions.add(Permission.objects.get(content_type__app_label="core",
                                                     codename="decide_approvalrequest"))
    return user


@pytest.mark.parametrize("pays_meanwhile", [False, True])
def test_a_long_extension_waits_for_a_second_officer(client, loan, pays_meanwhile):
    request = submit(loan, months_asked=7)
    maker = officer("view_hardshiprequest", "decide_hardshiprequest", username="maker")
    client.force_login(maker)
    # 3 + 7 = 10 months in all, within the product's longest term (12).
    terms = {"extra_months": "7", "daily_rate": "", "reason": "Long illness."}
    preview = act(client, request, "approve", preview="yes", **terms)
    assert 'data-testid="needs-second-officer"' in preview.content.decode()
    shown = preview.context["quote"].fingerprint
    assert act(client, request, "approve", apply="yes", shown=shown, **terms).status_code == 302

    approval = ApprovalRequest.objects.get()
    assert (approval.kind, approval.status, approval.maker) == (
        "hardship.approve", ApprovalStatus.REQUESTED, maker)
    request.refresh_from_db()
    assert request.status == HardshipStatus.SUBMITTED  # nothing booked yet
    assert not LoanExtension.objects.exists()
    with pytest.raises(ApprovalRefused, match="Nobody approves or rejects their own"):
        approval_approve(request_id=approval.pk, checker=maker)

    if pays_meanwhile:
        loan_repay(loan_id=loan.pk, amount=D("100.00"), idempotency_key="part", scope="test")
    approval_approve(request_id=approval.pk, checker=checker())
    approval.refresh_from_db()
    request.refresh_from_db()
    if pays_meanwhile:
        # The loan moved since the maker's preview: the approval fails and books nothing.
        assert approval.status == ApprovalStatus.FAILED
        assert "changed since the preview" in approval.decision_reason
        assert request.status == HardshipStatus.SUBMITTED
        assert not LoanExtension.objects.exists()
    else:
        assert approval.status == ApprovalStatus.APPROVED
        extension = LoanExtension.objects.get()
        assert (request.status, request.extension, request.decided_by) == (
            HardshipStatus.APPROVED, extension, maker)
        assert (extension.extra_months, extension.new_term_months) == (7, 10)
        assert extension.fingerprint == shown
        approve_event = list(audit_trail_of("loan", loan.pk))[-1]
        assert (approve_event.action, approve_event.actor_label) == ("hardship.approve",
                                                                     "checker")
