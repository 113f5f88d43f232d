"""One page per customer (operations/customer_file): what it shows, to whom, masked how, the
timeline and its verification, and what it costs in queries.

The story is tests/debt_collection/test_cases.py's loan: 10,000 over 12 equal monthly
instalments at 0.05 % a day from 2026-01-31. Instalment 1 (916.80) falls due 2026-02-28 and,
with 3 grace days, turns overdue in the close of Mar 3: on Mar 4 the loan is 4 days past due
(bucket M1) with 4 x 0.46 = 1.84 of penalty (916.80 x 0.0005 = 0.4584 -> 0.46 a day), so
916.80 + 1.84 = 918.64 is due."""

import re
from datetime import date
from decimal import Decimal

import pgtrigger
import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import NoticeKind
from accounts.services.notices import NoticeDraft, notices_create_many
from core.audit import actor_user
from core.idempotency import scope_of_user
from core.models import ApprovalRequest, AuditEvent
from debt_collection.models import CollectionCase
from debt_collection.services import collection_case_reassign
from debt_collection.services.hardship import hardship_request_submit
from lending.services import line_limit_lower, loan_originate, loan_repay
from lending.services.extension import loan_term_extend
from operations.nightly_close import business_days_advance
from risk.models import CreditDecision
from tests.debt_collection.staff import make_collector, make_manager
from tests.factories import CreditLineFactory, ProfileFactory, UserFactory, set_business_date

pytestmark = pytest.mark.django_db

ID_NUMBER = "110101199003077777"
PHONE = "13812345678"
# What an officer reading the whole page holds (the lead's roles give these to officers).
OFFICER = ("accounts.view_customerprofile", "accounts.view_user", "accounts.view_notice",
           "accounts.view_customersignals", "lending.view_creditline", "lending.view_limitchange",
           "lending.view_ratechange", "lending.view_loan", "lending.view_instalment",
           "lending.view_loanfunding", "lending.view_loanextension", "risk.view_creditdecision",
           "debt_collection.view_collectioncase", "debt_collection.view_collectioncontact",
           "debt_collection.view_promisetopay", "debt_collection.view_hardshiprequest",
           "core.view_auditevent", "core.view_approvalrequest")
COLLECTOR = ("accounts.view_customerprofile", "lending.view_creditline", "lending.view_loan",
             "lending.view_instalment", "debt_collection.view_collectioncase")


def staff(*permissions):
    user = UserFactory(is_staff=True)
    for name in permissions:
        app_label, codename = name.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label,
                                                         codename=codename))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def customer(bank):
    """A customer with a line, a loan 4 days past due, a decision, an officer's limit cut and
    a notice, on business date 2026-03-04."""
    profile = ProfileFactory(id_number=ID_NUMBER, user__phone=PHONE, full_name="Li Lei")
    user = profile.user
    # Terms up to 24 months, so that the 12-month loan can be extended.
    line = CreditLineFactory(customer=user, product__allowed_terms=[3, 6, 12, 24])
    set_business_date(date(2026, 1, 31))
    loan = loan_originate(line_id=line.pk, principal="10000", term_months=12,
                          method="equal_instalment", idempotency_key="loan", scope="test")
    CreditDecision.objects.create(
        customer=user, product=line.product, outcome="approved", inputs={},
        policy_results=[], probability_of_default=Decimal("0.031000"), grade="B",
        credit_limit=Decimal("50000"), daily_rate=Decimal("0.0005"), apr=Decimal("18.25"),
        reasons=["You pay your bills on time."], business_date=date(2026, 1, 30),
        elapsed_ms=1.0)
    set_business_date(date(2026, 3, 2))
    business_days_advance(days=2)  # the closes of Mar 2 and Mar 3
    line_limit_lower(line_id=line.pk, new_limit="40000", reason="Income fell, says the bank",
                     officer=UserFactory(username="officer-wang"))
    notices_create_many([NoticeDraft(customer_id=user.pk, kind=NoticeKind.ACCOUNT,
                                     key="test:hello", subject="About your account",
                                     body="Hello.", business_date=date(2026, 3, 4))])
    return {"user": user, "line": line, "loan": loan}


def page_of(client, user, **params):
    return client.get(reverse("admin:customer_file", args=[user.pk]), params)


def text_of(response):
    """The page's text without tags, spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def test_the_page_shows_line_loan_decision_and_notice(customer):
    response = page_of(staff(*OFFICER), customer["user"])
    assert response.status_code == 200
    loan_view = next(v for v in response.context["file"].loans if v.loan == customer["loan"])
    assert (loan_view.loan.days_past_due, loan_view.bucket) == (4, "M1")
    assert loan_view.due_now == Decimal("918.64")  # 916.80 + 1.84 (module docstring)
    assert len(loan_view.schedule) == 12
    text = text_of(response)
    assert "Li Lei" in text
    # The line: limit cut from 50,000 to 40,000 (the officer's cap), frozen by the overdue rule.
    assert "40000.00" in text and "limit 50000.00 → 40000.00 by officer-wang" in text
    assert "Overdue (automatic)" in text
    assert "918.64" in text and "M1" in text
    assert "You pay your bills on time." in text  # the decision's reason
    assert "About your account" in text
    assert "Schedule (12 instalments)" in text


def test_identity_and_phone_are_masked_without_the_permission(customer):
    masked = page_of(staff(*OFFICER), customer["user"]).content.decode()
    assert "**************7777" in masked and "*******5678" in masked
    assert ID_NUMBER not in masked and PHONE not in masked

    unmasked = page_of(staff(*OFFICER, "accounts.view_unmasked_identity"), customer["user"])
    assert ID_NUMBER in unmasked.content.decode() and PHONE in unmasked.content.decode()


def test_the_page_needs_both_view_permissions(customer):
    assert page_of(staff("accounts.view_customerprofile"), customer["user"]).status_code == 403
    assert page_of(staff("lending.view_loan"), customer["user"]).status_code == 403
    anonymous = page_of(Client(), customer["user"])
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    assert page_of(staff(*OFFICER), UserFactory(username="nobody-here")).status_code == 200
    assert staff(*OFFICER).get(reverse("admin:customer_file", args=[999999])).status_code == 404


def test_a_collector_sees_no_decision_and_no_verify_button(customer):
    response = page_of(staff(*COLLECTOR), customer["user"])
    assert response.status_code == 200
    html = response.content.decode()
    assert response.context["file"].decisions is None
    assert "You pay your bills on time." not in html
    assert 'id="decisions"' not in html and 'name="verify"' not in html
    assert all(not e.what.startswith("Credit decision") for e in response.context["timeline"])


def test_the_timeline_is_newest_first_with_who_what_and_why(customer):
    timeline = page_of(staff(*OFFICER), customer["user"]).context["timeline"]
    entries = list(timeline)
    assert [e.when for e in entries] == sorted((e.when for e in entries), reverse=True)
    newest = entries[0]
    assert (newest.who, newest.what, str(newest.subject)) == (
        "officer-wang", "Limit lowered", f"Line {customer['line'].pk}")
    assert newest.why == "Income fell, says the bank"
    assert newest.detail.startswith("50000.00 → 40000.00")
    whats = {e.what for e in entries}
    assert {"Loan drawn", "Line frozen", "Collection case opened"} <= whats
    # The decision made above went straight into the table, without its audit event.
    assert "Credit decision" not in whats


def test_the_timeline_names_users_and_labels_choices(customer):
    user, loan = customer["user"], customer["loan"]
    case = CollectionCase.objects.get(customer=user)
    collector = make_collector("collector-chen")
    collection_case_reassign(case_id=case.pk, to_user=collector, manager=make_manager("mgr-zhou"),
                             reason="Speaks the customer's dialect")
    # The customer's own repayment: its event names the actor by id only ("user <id>").
    loan_repay(loan_id=loan.pk, amount="100", idempotency_key="own",
               scope=scope_of_user(user.pk))
    hardship_request_submit(customer=user, loan_id=loan.pk, kind="extension", months_asked=3,
                            reason="unemployment", situation="Lost my job in February.")
    response = page_of(staff(*OFFICER), user)
    entries = {e.what: e for e in response.context["timeline"]}
    assert entries["Repayment"].who == user.username
    assert AuditEvent.objects.get(action="loan.repay").actor_label == f"user {user.pk}"
    assigned = entries["Case assigned"]
    assert (assigned.who, assigned.detail) == ("mgr-zhou", "nobody → collector-chen")
    made = entries["Hardship request made"]
    assert (made.who, made.why, made.detail) == (user.username, "I lost my job",
                                                 "months asked 3")
    text = text_of(response)
    assert "None →" not in text and f"user {user.pk}" not in text and "unemployment" not in text


def test_the_timeline_is_paged(customer, monkeypatch):
    monkeypatch.setattr("operations.customer_file.timeline.PAGE_SIZE", 2)
    client = staff(*OFFICER)
    first = page_of(client, customer["user"]).context["timeline"]
    second = page_of(client, customer["user"], page=2).context["timeline"]
    assert len(first) == 2 and first.has_next()
    assert first[1].when >= second[0].when
    assert {e.event_id for e in first}.isdisjoint(e.event_id for e in second)


TRIGGERS = ("core.AuditEvent:audit_event_append_only",)


def test_verify_reports_intact_then_the_first_break(customer):
    client = staff(*OFFICER)
    url = reverse("admin:customer_file", args=[customer["user"].pk])
    intact = client.post(url, {"verify": "1"})
    assert intact.context["verification"].intact
    assert "Intact:" in text_of(intact)

    cut = AuditEvent.objects.get(subject_kind="line", subject_id=str(customer["line"].pk),
                                 action="line.limit_lower")
    with pgtrigger.ignore(*TRIGGERS), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET payload = jsonb_set(payload, '{to}', "
                       "'\"90000.00\"') WHERE id = %s", [cut.pk])
    broken = client.post(url, {"verify": "1"})
    found = broken.context["verification"].first_break
    assert (found.event_id, found.reason) == (cut.pk, "hash does not match the event's content")
    assert f"Broken: event {cut.pk}" in text_of(broken)


def test_verify_needs_the_audit_permission(customer):
    url = reverse("admin:customer_file", args=[customer["user"].pk])
    assert staff(*COLLECTOR).post(url, {"verify": "1"}).status_code == 403


def test_action_buttons_follow_permissions_and_open_the_action(customer):
    client = staff(*OFFICER, "lending.lower_limit_creditline")
    response = page_of(client, customer["user"])
    line_view = response.context["file"].lines[0]
    assert "lower_limit" in [a.name for a in line_view.offered]
    html = response.content.decode()
    assert 'data-action="lower_limit"' in html
    started = client.post(line_view.changelist_url,
                          {"action": "lower_limit", "_selected_action": customer["line"].pk})
    assert started.status_code == 200
    assert started.context["object"] == customer["line"]
    assert 'name="new_limit"' in started.content.decode()

    without = page_of(staff(*OFFICER), customer["user"])
    assert 'data-action="lower_limit"' not in without.content.decode()


def test_loan_and_case_actions_for_whoever_may_take_them(customer):
    client = staff(*OFFICER, "lending.extend_term_loan", "lending.waive_penalty_loan",
                   "lending.write_off_loan", "debt_collection.work_collectioncase")
    file = page_of(client, customer["user"]).context["file"]
    [loan_view] = file.loans
    assert [a.name for a in loan_view.offered] == ["extend_term", "waive_penalty", "write_off"]
    [case_view] = file.cases
    assert [a.name for a in case_view.offered] == ["log_contact", "promise_to_pay"]
    # The line is frozen by the overdue rule: unfreezing is offered, freezing is not.
    client = staff(*OFFICER, "lending.freeze_creditline")
    [line_view] = page_of(client, customer["user"]).context["file"].lines
    assert [a.name for a in line_view.offered] == ["unfreeze"]


def test_a_fixed_number_of_queries_whatever_the_history(customer, django_assert_max_num_queries):
    client = staff(*OFFICER)
    with CaptureQueriesContext(connection) as one_loan:
        page_of(client, customer["user"])
    # A second line and two more loans on it (business date Mar 4).
    line = CreditLineFactory(customer=customer["user"], product__code="cash-b")
    for key in ("b1", "b2"):
        loan_originate(line_id=line.pk, principal="1000", term_months=3,
                       method="equal_instalment", idempotency_key=key, scope="test")
    with django_assert_max_num_queries(25), CaptureQueriesContext(connection) as three_loans:
        page_of(client, customer["user"])
    assert len(three_loans) == len(one_loan)


def test_customer_lists_and_pages_link_to_the_file(customer):
    user, line, loan = customer["user"], customer["line"], customer["loan"]
    link = f'href="{reverse("admin:customer_file", args=[user.pk])}"'
    client = staff(*OFFICER)
    for url in (reverse("admin:accounts_customerprofile_changelist"),
                reverse("admin:accounts_customerprofile_change", args=[user.profile.pk]),
                reverse("admin:accounts_user_changelist"),
                reverse("admin:accounts_user_change", args=[user.pk]),
                reverse("admin:lending_creditline_change", args=[line.pk]),
                reverse("admin:lending_loan_change", args=[loan.pk])):
        assert link in client.get(url).content.decode(), url
    # Nobody is shown a link to a page they may not open.
    without_loans = staff("accounts.view_customerprofile", "lending.view_creditline")
    for url in (reverse("admin:accounts_customerprofile_changelist"),
                reverse("admin:lending_creditline_change", args=[line.pk])):
        assert link not in without_loans.get(url).content.decode(), url


def test_an_extension_keeps_the_replaced_schedule_and_requests_offer_their_actions(customer):
    user, line, loan = customer["user"], customer["line"], customer["loan"]
    officer = UserFactory(username="officer-zhao")
    loan_term_extend(loan_id=loan.pk, extra_months=6, reason="Lost a client, asked for time",
                     actor=actor_user(officer))
    hardship = hardship_request_submit(customer=user, loan_id=loan.pk, kind="extension",
                                       months_asked=3, reason="illness",
                                       situation="In hospital for a month.")
    approval = ApprovalRequest.objects.create(
        kind="line.limit_lower", subject_kind="line", subject_id=str(line.pk),
        payload={"new_limit": "10000.00"}, summary="Lower the limit to 10000.00",
        reason="Large cut", maker=officer, business_date=date(2026, 3, 4))
    client = staff(*OFFICER, "core.decide_approvalrequest",
                   "debt_collection.decide_hardshiprequest")
    response = page_of(client, user)
    file = response.context["file"]

    [(extension, rows)] = next(v for v in file.loans if v.loan == loan).superseded
    assert extension.extra_months == 6 and len(rows) == 12
    # Instalment 1 as it stood: interest 10,000 x 0.0005 x 28 days (Jan 31 - Feb 28) = 140.00,
    # penalty 4 x 0.46 = 1.84, overdue.
    assert (rows[0].seq, rows[0].interest_due, rows[0].penalty_due, rows[0].status) == (
        1, Decimal("140.00"), Decimal("1.84"), "overdue")
    text = text_of(response)
    assert "replaced on 2026-03-04 by an extension of 6 months (12 → 18 months" in text
    assert "Reason: Lost a client, asked for time" in text

    [hardship_view] = file.hardship_requests
    assert hardship_view.request == hardship
    assert {a.name for a in hardship_view.offered} == {"approve", "reject"}
    [approval_view] = file.approvals
    assert approval_view.request == approval
    assert {a.name for a in approval_view.offered} == {"approve", "reject"}
    assert "Lower the limit to 10000.00" in text and "In hospital for a month." in text

    whats = [e.what for e in response.context["timeline"]]
    # Newest first: the request came after the extension (which also unfroze the line, the
    # loan being current again).
    assert whats[0] == "Hardship request made"
    assert whats.index("Term extended") < whats.index("Limit lowered")
